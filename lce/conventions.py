"""Constants of the field that every part of LCE agrees on; a leaf module (imports nothing).

``IOU_CUTOFF``: a unit is *interpretable* when its best concept's IoU exceeds 0.04 -- Network
Dissection's cut-off (Bau et al., CVPR 2017), which Dissect (PNAS 2020) and the seed paper keep.
The pipeline reads it from params (``dissect.iou_cutoff``, ``analysis.iou_cutoff``); this is the
default there, in imports of published profiles and in the CLI's ``--iou-cutoff``.
"""

IOU_CUTOFF = 0.04
