"""Concept and category statistics of a probe set, measured on its masks.

``label.csv``'s ``frequency``/``coverage`` are whatever the dataset's authors wrote; these figures
are counted from the decoded masks of the selection at hand (from the cache when there is one), in
the dissection's own convention: a concept's pixels are the union of every plane carrying its
label, an image-level concept covers its whole image.
"""

from __future__ import annotations

from collections.abc import Callable

from lce.probe.cache import ConceptTotals, ProbeCache

CONCEPT_COLUMNS = ["category", "number", "name", "images", "pixels", "pixel_frequency"]
CATEGORY_COLUMNS = ["category", "kind", "concepts", "images", "pixel_frequency", "top_concept"]


def concept_totals(probe, on_image: Callable[[int], None] | None = None):
    """``number, name, category, images, pixels`` for every concept of ``probe``."""
    if isinstance(probe, ProbeCache):
        return probe.concept_totals
    totals = ConceptTotals()
    for i, rec in enumerate(probe.records):
        totals.add(probe.segmentation(i), probe.image_level, rec.sh * rec.sw)
        if on_image is not None:
            on_image(i)
    return totals.frame(probe.concepts)


def _mask_pixels(probe) -> int:
    return sum(rec.sh * rec.sw for rec in probe.records)


def concept_rows(probe, totals) -> list[tuple]:
    """One row per concept, by category then decreasing pixels.

    ``pixel_frequency`` is the concept's share of all mask pixels of the selection.
    """
    total = max(_mask_pixels(probe), 1)
    order = {c: k for k, c in enumerate(probe.categories)}
    frame = totals.assign(order=totals["category"].map(order))
    frame = frame.sort_values(["order", "pixels", "number"], ascending=[True, False, True])
    return [(r.category, int(r.number), r.name, int(r.images), int(r.pixels),
             round(r.pixels / total, 6)) for r in frame.itertuples()]


def category_rows(probe, totals) -> list[tuple]:
    """One row per category: concepts, images carrying it, pixel frequency, top concept.

    ``pixel_frequency`` sums the category's concept pixels over all mask pixels; it exceeds 1
    where planes overlap (a part is both "top" and "left").
    """
    total = max(_mask_pixels(probe), 1)
    rows = []
    for category in probe.categories:
        own = totals[totals["category"] == category]
        images = sum(bool(rec.cells[category]) for rec in probe.records)
        top = own.sort_values(["pixels", "number"], ascending=[False, True]).head(1)
        rows.append((category, "image" if category in probe.image_level else "pixel",
                     int((own["images"] > 0).sum()), images,
                     round(int(own["pixels"].sum()) / total, 6),
                     top["name"].iloc[0] if len(top) and top["pixels"].iloc[0] else ""))
    return rows
