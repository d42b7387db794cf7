"""Published model names (``MoCoV2(R)``, ``SwAV``) -> zoo keys (``resnet50-mocov2``).

Imported tables name models the way their paper does; the warehouse keys them like the zoo so that
an imported profile, a measured benchmark and a dissected checkpoint of the same model meet on one
key. The display name is kept beside it for users who think in the paper's names.
"""

from __future__ import annotations

import re

from lce.errors import LCEError
from lce.zoo.registry import key_for_name


def display_name(name: str) -> str:
    """The paper's name without the architecture suffix: ``MoCoV2(R)`` -> ``MoCoV2``."""
    return re.sub(r"\s*\([A-Za-z0-9]+\)\s*$", "", name.strip())


def model_key(name: str, arch_prefix: str = "resnet50") -> str:
    """The zoo key of a published model name; unknown names get ``<arch>-<slug>``.

    Names the zoo does not know (the paper's SwAV variants, its random baseline) still need a
    stable dot-free key, so they are slugged under the architecture every model of the table has.
    """
    display = display_name(name)
    known = key_for_name(display)
    if known:
        return known
    if re.fullmatch(r"[a-z0-9][a-z0-9_-]*", display):
        return display  # already a key
    slug = re.sub(r"[^a-z0-9]+", "-", display.lower()).strip("-")
    if not slug:
        raise LCEError(f"cannot make a model key from name {name!r}")
    return f"{arch_prefix}-{slug}"


def resolve_model(con, name: str) -> str:
    """The warehouse's key of a model a user names by key or display name (``MoCoV2``),
    case-insensitively; a name matching two models is an error, never a guess."""
    rows = con.execute("SELECT model FROM models WHERE lower(model) = lower($n) "
                       "UNION SELECT model FROM models WHERE lower(display_name) = lower($n)",
                       {"n": name}).fetchall()
    if len(rows) != 1:
        known = [r[0] for r in con.execute("SELECT coalesce(display_name, model) FROM models "
                                           "ORDER BY 1 LIMIT 30").fetchall()]
        raise LCEError(f"unknown model {name!r}" if not rows else f"ambiguous model {name!r}",
                       hint=f"models: {', '.join(known)}")
    return rows[0][0]
