"""The report's figures, drawn with :mod:`lce.plots` and inlined in the page as SVG.

Every function takes plain arrays so figures can be tested without a warehouse.
"""

from __future__ import annotations

import numpy as np

from lce.plots import PALETTE, pyplot, to_svg

CATEGORY_COLOURS = {"object": "#1f77b4", "part": "#2ca02c", "material": "#8c564b",
                    "color": "#d62728", "scene": "#9467bd", "texture": "#ff7f0e"}


def lce_scatter(models, coords: np.ndarray, categories: np.ndarray, ratios,
                placed: frozenset = frozenset()) -> str:
    """PC1 x PC2 (and PC3 x PC2) coloured by category: the paper's main figure. Models in
    ``placed`` (projected onto the others' components, lce.analysis.place) are drawn as stars."""
    plt = pyplot()
    if coords.shape[1] == 1:   # two models have one component: spread them along a line
        coords = np.column_stack([coords[:, 0], np.zeros(len(coords))])
        ratios = [ratios[0], 0.0]
    panels = 2 if coords.shape[1] >= 3 else 1
    fig, axes = plt.subplots(1, panels, figsize=(5.5 * panels, 4.2), squeeze=False)
    pairs = [(0, 1), (2, 1)][:panels]
    for ax, (x, y) in zip(axes[0], pairs, strict=False):
        star = np.array([m in placed for m in models], dtype=bool)
        for category in sorted(set(categories)):
            mask = (categories == category) & ~star
            ax.scatter(coords[mask, x], coords[mask, y], s=46,
                       color=PALETTE[(category - 1) % len(PALETTE)],
                       label=f"category {category}", edgecolor="white", linewidth=0.6)
            ax.scatter(coords[star & (categories == category), x],
                       coords[star & (categories == category), y], s=160, marker="*",
                       color=PALETTE[(category - 1) % len(PALETTE)], edgecolor="black",
                       linewidth=0.8)
        for i, model in enumerate(models):
            ax.annotate(model, (coords[i, x], coords[i, y]), fontsize=7,
                        xytext=(3, 3), textcoords="offset points")
        ax.set_xlabel(f"PC{x + 1} ({ratios[x]:.0%} of variance)")
        ax.set_ylabel(f"PC{y + 1} ({ratios[y]:.0%} of variance)")
    axes[0][0].legend(fontsize=7, loc="best")
    return to_svg(fig)


def elbow_curve(inertias, chosen: int, rule: str = "elbow") -> str:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    ks = np.arange(1, len(inertias) + 1)
    ax.plot(ks, inertias, "o-", color="#1f77b4")
    ax.plot([chosen], [inertias[chosen - 1]], "o", color="#d62728", markersize=11,
            fillstyle="none", markeredgewidth=2, label=f"k = {chosen} ({rule})")
    ax.set_xlabel("number of categories k")
    ax.set_ylabel("k-means inertia")
    ax.set_xticks(ks)
    ax.legend()
    return to_svg(fig)


def loadings_by_category(labels, categories, loadings: np.ndarray, top: int = 12) -> str:
    """Each component's largest loadings (by magnitude), bars coloured by concept category.

    ``labels`` must be unique (``ConceptMatrix.labels``): bars with equal names would be drawn
    on one row."""
    plt = pyplot()
    n = loadings.shape[0]
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 4.0), squeeze=False)
    for c, ax in enumerate(axes[0]):
        order = np.argsort(-np.abs(loadings[c]))[:top][::-1]
        ax.barh([labels[j] for j in order], loadings[c, order],
                color=[CATEGORY_COLOURS.get(categories[j], "#7f7f7f") for j in order])
        ax.set_title(f"PC{c + 1}: top loadings")
        ax.tick_params(axis="y", labelsize=7)
    handles = [plt.Rectangle((0, 0), 1, 1, color=col) for col in CATEGORY_COLOURS.values()]
    fig.legend(handles, list(CATEGORY_COLOURS), loc="lower center", ncol=6, fontsize=7,
               bbox_to_anchor=(0.5, -0.04))
    return to_svg(fig)


def category_loadings(categories, loadings: np.ndarray) -> str:
    """Sum of each component's loadings per concept category: what a component is made of."""
    plt = pyplot()
    names = sorted(set(categories))
    cats = np.array(categories)
    sums = np.array([[loadings[c, cats == name].sum() for name in names]
                     for c in range(loadings.shape[0])])
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    width = 0.8 / max(len(sums), 1)
    for c, row in enumerate(sums):
        ax.bar(np.arange(len(names)) + c * width, row, width, label=f"PC{c + 1}")
    ax.set_xticks(np.arange(len(names)) + width * (len(sums) - 1) / 2, names)
    ax.set_ylabel("sum of loadings")
    ax.axhline(0, color="black", linewidth=0.6)
    ax.legend()
    return to_svg(fig)


def correlation_heatmap(variables, matrix: np.ndarray, title: str) -> str:
    """Components (rows) x variables (columns), Pearson r on a diverging scale."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(max(5.0, 0.32 * len(variables) + 1.5), 2.6))
    image = ax.imshow(matrix, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
    ax.set_yticks(range(matrix.shape[0]), [f"PC{i + 1}" for i in range(matrix.shape[0])])
    ax.set_xticks(range(len(variables)), variables, rotation=75, ha="right", fontsize=6.5)
    ax.grid(False)
    ax.set_title(title)
    fig.colorbar(image, ax=ax, label="Pearson r", shrink=0.8)
    return to_svg(fig)


def landscapes(panels) -> str:
    """Performance landscapes: ``panels`` of (title, xs, ys, Z, points, values)."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(4.0 * len(panels), 3.4), squeeze=False)
    for ax, (title, xs, ys, z, points, values) in zip(axes[0], panels, strict=True):
        filled = ax.contourf(xs, ys, z, levels=12, cmap="Reds")
        ax.scatter(points[:, 0], points[:, 1], c=values, cmap="Reds", edgecolor="black", s=30)
        ax.set_title(title, fontsize=8)
        ax.set_xlabel("PC1")
        ax.set_ylabel("PC2")
        fig.colorbar(filled, ax=ax, shrink=0.8)
    return to_svg(fig)


def concept_histogram(labels, categories, counts: np.ndarray, title: str,
                      top: int = 20) -> str:
    """The commonest concepts of one model's interpretable units (unique ``labels``, as above)."""
    plt = pyplot()
    order = np.argsort(-counts, kind="stable")[:top]
    order = [j for j in order if counts[j] > 0][::-1]
    fig, ax = plt.subplots(figsize=(4.2, 0.18 * max(len(order), 4) + 0.8))
    ax.barh([labels[j] for j in order], counts[order],
            color=[CATEGORY_COLOURS.get(categories[j], "#7f7f7f") for j in order])
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("units")
    ax.tick_params(axis="y", labelsize=7)
    return to_svg(fig)


def coassignment_matrix(models, coassignment: np.ndarray, categories: np.ndarray) -> str:
    """Fraction of bootstrap replicates in which each pair of models shares a category, models
    ordered by their full-data category so firm categories show as solid blocks."""
    plt = pyplot()
    order = np.argsort(categories, kind="stable")
    n = len(models)
    fig, ax = plt.subplots(figsize=(0.32 * n + 2.6, 0.32 * n + 1.6))
    image = ax.imshow(coassignment[np.ix_(order, order)], cmap="Blues", vmin=0, vmax=1)
    names = [f"{models[i]} ({categories[i]})" for i in order]
    ax.set_xticks(range(n), names, rotation=75, ha="right", fontsize=6.5)
    ax.set_yticks(range(n), names, fontsize=6.5)
    ax.grid(False)
    ax.set_title("co-assignment over bootstrap replicates")
    fig.colorbar(image, ax=ax, label="fraction of replicates", shrink=0.8)
    return to_svg(fig)


def coordinate_intervals(models, coords: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                         categories: np.ndarray, ratios) -> str:
    """PC1 x PC2 with each model's 95% bootstrap interval as error bars (PC1 alone on a line
    when the data has one component)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.0, 4.4))
    two = coords.shape[1] >= 2
    y = coords[:, 1] if two else np.zeros(len(coords))
    for category in sorted(set(categories)):
        mask = categories == category
        xerr = np.vstack([coords[mask, 0] - lower[mask, 0], upper[mask, 0] - coords[mask, 0]])
        yerr = (np.vstack([y[mask] - lower[mask, 1], upper[mask, 1] - y[mask]]) if two
                else None)
        ax.errorbar(coords[mask, 0], y[mask], xerr=xerr, yerr=yerr, fmt="o", markersize=5,
                    capsize=2, linewidth=0.8, color=PALETTE[(category - 1) % len(PALETTE)],
                    label=f"category {category}")
    for i, model in enumerate(models):
        ax.annotate(model, (coords[i, 0], y[i]), fontsize=7, xytext=(3, 3),
                    textcoords="offset points")
    ax.set_xlabel(f"PC1 ({ratios[0]:.0%} of variance)")
    ax.set_ylabel(f"PC2 ({ratios[1]:.0%} of variance)" if two else "")
    ax.set_title("coordinates with 95% bootstrap intervals")
    ax.legend(fontsize=7, loc="best")
    return to_svg(fig)
