"""The one plotting stack: matplotlib (Agg) figures returned as SVG text.

SVG text keeps the HTML report one self-contained file and the study report's figures plain
files that render on any code host; both stay sharp at any zoom. The settings make the bytes
deterministic (no date, a fixed hash salt, text kept as text), so a figure is a stable DVC output.
matplotlib is imported only when a figure is drawn: ``lce query`` never pays for it.
"""

from __future__ import annotations

import io
import math

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf"]


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "lce", "font.size": 9,
                         "axes.grid": True, "grid.alpha": 0.3})
    return plt


def to_svg(fig) -> str:
    """The figure as an ``<svg>`` element (no XML prolog), then closed."""
    plt = pyplot()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def line_chart(series: dict[str, list[tuple[float, float]]], title: str, xlabel: str,
               ylabel: str, lines: bool = True) -> str:
    """Each named series of (x, y) points as a line with markers (or markers only); points that
    are not finite are left out."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for i, (name, values) in enumerate(series.items()):
        valid = [(x, y) for x, y in values if math.isfinite(x) and math.isfinite(y)]
        xs, ys = [x for x, _ in valid], [y for _, y in valid]
        ax.plot(xs, ys, "o-" if lines else "o", color=PALETTE[i % len(PALETTE)], label=name,
                markersize=4)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if series:
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
    return to_svg(fig)
