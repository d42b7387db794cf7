"""The one strict check of a state_dict against a network, shared by every loader.

Silently half-loaded weights are the classic failure of this field (a prefix that did not match
leaves a random network that still runs), so weights are loaded non-strictly and the result is
then *checked*: tensors of the wrong shape, unexpected keys and missing keys fail with the
offending keys listed. Which keys may be missing is the caller's rule (a fetched file may lack the
classifier; a normalized checkpoint may lack exactly the keys its spec lists), so this module is a
leaf that both ``lce.zoo.loading`` and ``lce.zoo.checkpoint`` import.
"""

from __future__ import annotations

from collections.abc import Callable

from lce.errors import LCEError


def listing(keys: list[str], limit: int = 6) -> str:
    more = f" (+{len(keys) - limit} more)" if len(keys) > limit else ""
    return ", ".join(keys[:limit]) + more


def check_shapes(model, state: dict, where: str) -> None:
    """Fail naming the keys whose tensors do not fit ``model`` (``load_state_dict`` would raise
    a bare RuntimeError even when not strict)."""
    expected = model.state_dict()
    wrong_shape = [f"{k} {tuple(v.shape)} vs {tuple(expected[k].shape)}"
                   for k, v in state.items() if k in expected and v.shape != expected[k].shape]
    if wrong_shape:
        raise LCEError(f"{where}: tensors of the wrong shape: {listing(wrong_shape)}",
                       hint="the checkpoint is of another architecture or width")


def load_checked(model, state: dict, where: str, may_be_missing: Callable[[str], bool],
                 hint: str | None = None) -> list[str]:
    """Load ``state`` into ``model`` and return the missing keys that ``may_be_missing`` allows;
    any other missing key, any unexpected key or wrong shape fails naming the keys."""
    check_shapes(model, state, where)
    result = model.load_state_dict(state, strict=False)
    allowed = [k for k in result.missing_keys if may_be_missing(k)]
    problems = []
    if result.unexpected_keys:
        problems.append(f"unexpected keys {listing(sorted(result.unexpected_keys))}")
    if missing := sorted(set(result.missing_keys) - set(allowed)):
        problems.append(f"missing keys {listing(missing)}")
    if problems:
        raise LCEError(f"{where}: " + "; ".join(problems), hint=hint)
    return allowed
