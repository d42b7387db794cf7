"""A probe set's identity: what makes two unit profiles comparable (docs/DESIGN.md §6).

Counts of concepts only add up across models dissected the same way: on the same images, with
concept masks from the same labeller (a Broden set's hand-drawn masks, or a named segmenter), by
the same method with the same top quantile q, at the same mask resolution. A profile's identity
is recorded in the warehouse's ``identities`` table per (model, layer, probe): from a
dissection's ``meta.json`` (its probe set and dissect settings) and, for imported profiles, from
what the publication used. An analysis whose profiles carry two identities is refused, naming the
fields that differ, instead of silently mixing populations.

Stdlib and SQL only, so the warehouse build can record identities without the analysis stack.
"""

from __future__ import annotations

import json
from dataclasses import astuple, dataclass, fields
from pathlib import Path

from lce.errors import LCEError


@dataclass(frozen=True)
class Identity:
    images: str        # the image set ("places365-val", or the probe set's name)
    labeller: str      # "masks" (the set's own masks) or a segmenter key ("netpqc")
    method: str        # "dissect" | "netdissect" (lce.dissect.methods)
    quantile: float    # the top quantile q of each unit's threshold
    mask_size: int | None  # mask resolution in pixels (56 = 224 / 4)

    def differences(self, other: Identity) -> list[str]:
        """``field a vs b`` for every field that differs."""
        return [f"{f.name} {getattr(self, f.name)} vs {getattr(other, f.name)}"
                for f in fields(self) if getattr(self, f.name) != getattr(other, f.name)]

    def describe(self) -> str:
        size = f"{self.mask_size} px" if self.mask_size else "mask size unknown"
        return (f"{self.images} labelled by {self.labeller}, method {self.method}, "
                f"q = {self.quantile:g}, {size}")


# The seed paper's 20 released profiles (docs/DESIGN.md §6): Dissect's `places` set labelled by
# its default segmenter netpqc, method dissect, q = 0.01, masks at 56 x 56.
SEED_PAPER_PROBE = "places365-netpqc"
SEED_PAPER = Identity("places365-val", "netpqc", "dissect", 0.01, 56)
# NetDissect-Lite's released results: Broden 224 (masks at 112), its own masks, q = 0.005.
NETDISSECT_LITE = Identity("broden1_224", "masks", "netdissect", 0.005, 112)
IMPORTED = {SEED_PAPER_PROBE: SEED_PAPER, "broden-netdissect-lite": NETDISSECT_LITE}

COLUMNS = tuple(f.name for f in fields(Identity))


# Written into a segmenter-labelled probe directory: {"images": ..., "labeller": ...}.
PROBE_NOTE = "labeller.json"


def probe_note(root: str | Path | None) -> dict:
    """What a probe directory says about its images and labeller ({} when it says nothing: a
    Broden-format set with its own masks)."""
    path = Path(root) / PROBE_NOTE if root else None
    if path is None or not path.is_file():
        return {}
    try:
        return dict(json.loads(path.read_text()))
    except (ValueError, TypeError):
        raise LCEError(f"{path}: not a JSON object") from None


def dissection_identity(meta: dict, mask_size: int | None,
                        probe_root: str | Path | None = None) -> Identity | None:
    """The identity of one dissection output from its ``meta.json`` and its probe directory:
    images and labeller as ``meta["probe_identity"]`` or the probe's :data:`PROBE_NOTE` say
    (a segmenter-labelled set records them), else the probe set's name and its own masks;
    method and q as run."""
    settings = meta.get("dissect") or {}
    if "method" not in settings or settings.get("quantile") is None:
        return None  # an output written before identities were recorded
    probe = meta.get("probe_identity") or probe_note(probe_root)
    return Identity(str(probe.get("images", meta["probe"])), str(probe.get("labeller", "masks")),
                    settings["method"], float(settings["quantile"]), mask_size)


def record_identity(con, model: str, probe: str, identity: Identity | None) -> None:
    """Record ``identity`` for every layer of ``model`` on ``probe`` (re-recording replaces)."""
    if identity is None:
        return
    con.execute("DELETE FROM identities WHERE model = ? AND probe = ?", [model, probe])
    con.execute(f"""
        INSERT INTO identities (model, layer, probe, {', '.join(COLUMNS)})
        SELECT model, layer, probe, ?, ?, ?, ?, ? FROM layers WHERE model = ? AND probe = ?
        ORDER BY layer""", [*astuple(identity), model, probe])  # noqa: S608 - fixed columns


def model_identities(con, models: list[str], probe: str) -> dict[Identity, list[str]]:
    """Identity -> the models (of ``models``) whose profiles on ``probe`` carry it; profiles
    without a recorded identity are left out."""
    import duckdb

    try:
        rows = con.execute(f"""
            SELECT DISTINCT {', '.join(COLUMNS)}, model FROM identities
            WHERE probe = ? AND list_contains(?, model) ORDER BY ALL""",  # noqa: S608
                           [probe, models]).fetchall()
    except duckdb.CatalogException:  # a warehouse built before identities were recorded
        return {}
    found: dict[Identity, list[str]] = {}
    for *values, model in rows:
        found.setdefault(Identity(*values), []).append(model)
    return found


def check_one_identity(con, models: list[str], probe: str) -> Identity | None:
    """The one identity of ``models``' profiles on ``probe`` (None when none is recorded); two
    or more are an LCEError naming the models and the fields that differ."""
    found = model_identities(con, models, probe)
    if len(found) <= 1:
        return next(iter(found), None)
    (first, a), (second, b) = list(found.items())[:2]
    raise LCEError(
        f"profiles of different probe-set identities cannot share one analysis: "
        f"{a[0]} and {b[0]} on probe {probe!r} differ in "
        f"{'; '.join(first.differences(second))}",
        hint="compare models dissected the same way (lce models shows each model's probe sets)")
