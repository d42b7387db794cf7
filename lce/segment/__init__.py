"""Segmenter-labelled probe sets (Dissect's way of making concept masks, next to Broden's).

Dissect (Bau et al., PNAS 2020) labels an image set with a segmentation model instead of
hand-drawn masks; the seed paper's 20 profiles were made that way (docs/DESIGN.md §6, "The seed
paper's own dissection setting"). This package holds the segmenters' architectures (``nets``),
their registered files (``registry``), the decoding of their predictions into multi-label masks
(``decode``) and the builder that writes a Broden-format probe directory from an image folder
(``probe``), so the probe cache, the engine and the warehouse read it unchanged.
"""
