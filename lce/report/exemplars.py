"""Per-unit exemplar strips: a unit's top-activating probe images with its mask overlaid.

This is what makes a label believable: seeing that the unit labelled "dog" lights up on dogs.
It needs the model's checkpoint and the probe images, so it is drawn only for models this
pipeline dissected (imported profiles come without either).
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import numpy as np


@dataclass
class Exemplar:
    layer: str
    unit: int
    label: str | None
    iou: float
    png_base64: str


def top_images(activations: np.ndarray, n: int) -> np.ndarray:
    """Indices of the ``n`` images with the largest maximum activation, best first."""
    peaks = activations.reshape(activations.shape[0], -1).max(axis=1)
    return np.argsort(-peaks, kind="stable")[:n]


def overlay(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Dim the image outside the unit's mask and tint its inside, like NetDissect's strips."""
    out = image.astype(np.float32) * 0.35
    tinted = image.astype(np.float32) * 0.75 + np.array([255, 210, 0], np.float32) * 0.25
    out[mask] = tinted[mask]
    return out.clip(0, 255).astype(np.uint8)


def strip_png(tiles: list[np.ndarray], size: int = 112) -> str:
    """Tiles side by side as a base64 PNG."""
    from PIL import Image

    row = Image.new("RGB", (len(tiles) * (size + 4), size), "white")
    for i, tile in enumerate(tiles):
        row.paste(Image.fromarray(tile).resize((size, size)), (i * (size + 4), 0))
    buffer = io.BytesIO()
    row.save(buffer, format="PNG", optimize=True)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def candidate_images(exemplars, units: list[tuple], n_images: int) -> list[int] | None:
    """Probe indices that hold every unit's top ``n_images``, from the dissection's exemplars
    table (``exemplars.parquet``: layer, unit, rank, image_index), so that only those images
    need a forward pass. None when the table cannot tell (a unit with fewer ranks stored)."""
    wanted = {(layer, unit) for layer, unit, *_ in units}
    rows = exemplars[[(layer, unit) in wanted
                      for layer, unit in zip(exemplars["layer"], exemplars["unit"], strict=True)]]
    stored = rows.groupby(["layer", "unit"]).size()
    if len(stored) < len(wanted) or (stored < n_images).any():
        return None
    return sorted(set(rows.loc[rows["rank"] <= n_images, "image_index"].astype(int)))


def exemplar_strips(checkpoint_dir, probe, units: list[tuple], n_images: int,
                    candidates: list[int] | None = None, batch_size: int = 16) -> list[Exemplar]:
    """Strips for ``units`` = [(layer, unit, label, iou, threshold)] of one model.

    ``candidates`` (see :func:`candidate_images`) limits the forward pass to the images known to
    contain every unit's top ones; by default every probe image is run through the model."""
    import torch

    from lce.dissect.capture import LayerCapture, to_input
    from lce.dissect.resize import resize  # the filter the dissection thresholds
    from lce.zoo.checkpoint import load_checkpoint

    if not units:
        return []
    indices = list(range(len(probe))) if candidates is None else list(candidates)
    model, spec = load_checkpoint(checkpoint_dir)
    layers = sorted({u[0] for u in units})
    wanted = {layer: [u[1] for u in units if u[0] == layer] for layer in layers}
    chunks = {layer: [] for layer in layers}
    with LayerCapture(model, layers) as capture, torch.no_grad():
        for start in range(0, len(indices), batch_size):
            images = np.stack([probe.image(i) for i in indices[start:start + batch_size]])
            model(to_input(images, spec.mean, spec.std, "cpu"))
            for layer in layers:
                chunks[layer].append(capture.outputs[layer][:, wanted[layer]].float())
    acts = {layer: torch.cat(parts) for layer, parts in chunks.items()}
    strips = []
    for layer, unit, label, iou, threshold in units:
        maps = acts[layer][:, wanted[layer].index(unit)]
        tiles = []
        for pos in top_images(maps.numpy(), n_images).tolist():
            image = probe.image(indices[pos])
            up = resize(maps[pos][None, None], image.shape[:2])[0, 0].numpy()
            tiles.append(overlay(image, up > threshold))
        strips.append(Exemplar(layer, unit, label, iou, strip_png(tiles)))
    return strips
