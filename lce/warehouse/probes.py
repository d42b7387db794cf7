"""Which probe set a question about some models is asked on.

Counts from two probe sets do not add up to anything (other images, other concepts, other
dissection rules), so every analysis and canned query reads one probe set. A model both dissected
by the pipeline and imported from a paper has units on two: ``--probe`` picks one, and without it
the only probe set all the models share is used. Plain SQL, no numpy, so the browse commands stay
fast.
"""

from __future__ import annotations

from lce.errors import LCEError


def model_probes(con, models: list[str]) -> dict[str, list[str]]:
    """Model -> the probe sets it has units on (models without units are left out)."""
    return dict(con.execute(
        "SELECT model, list(DISTINCT probe ORDER BY probe) FROM units "
        "WHERE list_contains(?, model) GROUP BY model", [models]).fetchall())


def _listing(models: list[str], probes: dict[str, list[str]]) -> str:
    shown = "; ".join(f"{m}: {', '.join(probes.get(m, [])) or 'none'}" for m in models[:6])
    return shown + ("; ..." if len(models) > 6 else "")


def common_probe(con, models: list[str], probe: str | None = None) -> str:
    """``probe`` when given (every model must have units on it), else the one probe set all of
    ``models`` share; anything else is an error that lists each model's probe sets."""
    probes = model_probes(con, models)
    if probe:
        lacking = [m for m in models if probe not in probes.get(m, [])]
        if lacking:
            have = ", ".join(probes.get(lacking[0], [])) or "none"
            raise LCEError(f"model {lacking[0]!r} has no units on probe {probe!r}",
                           hint=f"its probe sets: {have}")
        return probe
    shared = sorted(set.intersection(*(set(probes.get(m, [])) for m in models)))
    if len(shared) == 1:
        return shared[0]
    if shared:
        subject = f"model {models[0]!r} was" if len(models) == 1 else \
            f"the {len(models)} models were"
        raise LCEError(f"{subject} profiled on {len(shared)} probe sets ({', '.join(shared)})",
                       hint="choose one with --probe NAME")
    if len(models) == 1:
        raise LCEError(f"model {models[0]!r} has no profiled units")
    raise LCEError(f"the {len(models)} models share no probe set; compare models of one probe set",
                   hint=f"choose models with --models or --probe NAME ({_listing(models, probes)})")
