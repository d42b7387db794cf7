"""What LCE knows about one pretrained checkpoint (in the spirit of timm's ``PretrainedCfg``).

A spec is pure data: where the file lives, how to verify it, how to turn its keys into the
architecture's own layout, and how the network expects its inputs. Keeping it free of torch lets
``lce zoo list`` and the params validation run without the scientific stack.
"""

from __future__ import annotations

from dataclasses import dataclass, field

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# SimCLR's TensorFlow weights (and their PyTorch conversions) take RGB in [0, 1] as is.
UNIT_MEAN = (0.0, 0.0, 0.0)
UNIT_STD = (1.0, 1.0, 1.0)


@dataclass(frozen=True)
class ModelSpec:
    key: str  # dot-free: DVC splits foreach keys on dots
    arch: str  # a torchvision.models builder name or an LCE architecture
    method: str
    source: str  # URL, local path, ``package:<module>/<path>`` or ``random``
    sha256: str | None = None  # published checksum of the source file, when there is one
    epochs: int | None = None  # pre-training epochs
    family: str = "torchvision"  # checkpoint layout, see lce.zoo.families
    containers: tuple[str, ...] = ()  # nested dict keys to descend into, in order
    prefix: str = ""  # key prefix stripped from every kept key
    drop: tuple[str, ...] = ()  # key prefixes (of the raw keys) that are not part of the net
    # builder arguments the weights need (torchvision's Inception nets normalize their own input)
    arch_kwargs: dict = field(default_factory=dict)
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD
    layers: tuple[str, ...] = ()  # default layers to dissect
    display_name: str = ""  # the name published tables use (e.g. "MoCoV2")
    aliases: tuple[str, ...] = ()  # other published names of the same checkpoint
    license: str = ""
    paper: str = ""
    needs: str = ""  # what loading needs beyond downloading the file (e.g. a conversion)
    notes: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        """Every name this checkpoint is known by, the key first."""
        return tuple(n for n in (self.key, self.display_name, *self.aliases) if n)
