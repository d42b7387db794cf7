"""The two dissection methods and the threshold quantile each was published with.

Kept free of heavy imports so that ``lce.params`` can resolve ``dissect.quantile: null`` to the
method's own q without loading torch.
"""

from lce.errors import LCEError

# NetDissect (Bau et al., CVPR 2017): q = 0.005 on raw maps; Dissect (Bau et al., PNAS 2020):
# q = 0.01 on upsampled maps.
METHOD_QUANTILE = {"netdissect": 0.005, "dissect": 0.01}
METHODS = tuple(METHOD_QUANTILE)


def resolve_quantile(method: str, quantile: float | None, where: str) -> float:
    """The threshold quantile q to use: ``quantile``, or the method's own when it is None.

    ``where`` names the setting in the error (e.g. ``params.yaml: dissect``).
    """
    if method not in METHOD_QUANTILE:
        raise LCEError(f"{where}.method: must be one of {', '.join(METHODS)}, got {method!r}")
    if quantile is None:
        return METHOD_QUANTILE[method]
    if isinstance(quantile, bool) or not isinstance(quantile, int | float) \
            or not 0 < quantile < 1:
        raise LCEError(f"{where}.quantile: must be a number in (0, 1) or null (the method's "
                       f"own: {METHOD_QUANTILE[method]}), got {quantile!r}")
    return float(quantile)
