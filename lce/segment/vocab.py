"""The label numbering of Dissect's segmenters, read from each model's published ``labels.json``.

Dissect numbers every (label, category) a segmenter can predict from 1 (0 = no prediction) and a
merged segmenter appends each component's list after the previous ones. ``netpqc`` is the
unified-parsing model with all parts (``p``) and quadrants (``q``) merged with the colour model
(``c``). Its unified-parsing numbering (N objects without ``-``, M materials without ``-``):

- ``0`` = ``-``; ``1..N`` the objects (category object);
- ``j + k*N`` for k = 1..4 the quadrant labels ``<object j>-t``, ``-l``, ``-b``, ``-r`` (part);
- ``5N + m`` the materials (material);
- then the parts of every object with parts, in the order of the objects' numbers and of each
  object's part list, each new name once (part); a part name that is also an object (``door``)
  is that object's number, and ``-`` is 0.

The colour model's labels follow (``offset`` = the length of the list above), in its
``labels.json`` order without the ``internal`` ones; its own ``-`` is mapped to 0 here rather than
to a concept named ``-`` (Dissect keeps it as a label of category ``-``, which can never be a
unit's interpretable label in the published profiles: their categories are object, part,
material and color).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from lce.errors import LCEError

QUADRANTS = ("t", "l", "b", "r")
NO_LABEL = "-"


def read_labels_json(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise LCEError(f"{path}: file not found") from None
    except ValueError as exc:
        raise LCEError(f"{path}: not JSON ({exc})") from None


@dataclass(frozen=True)
class UnifiedVocabulary:
    """The unified-parsing labels (``labels.json``: object, material, scene, object_part)."""

    objects: tuple[str, ...]          # with "-" first, as published
    materials: tuple[str, ...]        # with "-" first
    scenes: tuple[str, ...]
    object_parts: tuple[tuple[str, tuple[str, ...]], ...]  # (owner, its part list), by owner number

    @classmethod
    def from_json(cls, data: dict, where: str) -> UnifiedVocabulary:
        try:
            objects = tuple(data["object"])
            number = {name: i for i, name in enumerate(objects)}
            owners = sorted(data["object_part"], key=lambda o: number[o])
            return cls(objects, tuple(data["material"]), tuple(data["scene"]),
                       tuple((o, tuple(data["object_part"][o])) for o in owners))
        except (KeyError, TypeError) as exc:
            raise LCEError(f"{where}: not a unified-parsing labels.json (missing {exc})") from None

    @property
    def n_objects(self) -> int:
        """Objects without ``-`` (Dissect's ``num_object_classes``)."""
        return len(self.objects) - 1

    @property
    def classes(self) -> dict[str, int]:
        """Channel counts of the decoder heads."""
        return {"object": len(self.objects), "material": len(self.materials),
                "scene": len(self.scenes),
                "part": sum(len(parts) for _, parts in self.object_parts)}

    def numbering(self, quadrants: bool = True) -> tuple[list[tuple[str, str]], list[list[int]]]:
        """(labels, part translation): ``labels[i]`` = (name, category) of label number i; the
        translation maps, per object with parts, its part channel to a label number."""
        n, mult = self.n_objects, 5 if quadrants else 1
        labels = [(name, "object") for name in self.objects]
        for suffix in QUADRANTS if quadrants else ():
            labels += [(f"{name}-{suffix}", "part") for name in self.objects[1:]]
        labels += [(name, "material") for name in self.materials[1:]]
        object_number = {name: i for i, name in enumerate(self.objects)}
        part_number: dict[str, int] = {}
        first_part = n * mult + len(self.materials)
        translation = []
        for _, parts in self.object_parts:
            numbers = []
            for part in parts:
                if part in object_number:
                    numbers.append(object_number[part])
                else:
                    if part not in part_number:
                        part_number[part] = first_part + len(part_number)
                        labels.append((part, "part"))
                    numbers.append(part_number[part])
            translation.append(numbers)
        return labels, translation

    def owner_numbers(self) -> list[int]:
        number = {name: i for i, name in enumerate(self.objects)}
        return [number[owner] for owner, _ in self.object_parts]


@dataclass(frozen=True)
class SemanticVocabulary:
    """A CSAIL semantic segmenter's ``labels.json`` as Dissect reads it (the colour model):
    ``labels`` [{name, category, internal?}], ``categories`` [{name, mask?}], ``imageformat``
    {byteorder, mean, stdev}, optional ``segsizes``."""

    channel_names: tuple[str, ...]
    channel_categories: tuple[str, ...]
    internal: tuple[bool, ...]
    categories: tuple[tuple[str, str | None], ...]   # (name, mask label or None)
    bgr: bool
    mean: tuple[float, ...]
    std: tuple[float, ...]
    segsizes: tuple[int, ...]

    @classmethod
    def from_json(cls, data: dict, where: str) -> SemanticVocabulary:
        try:
            labels = data["labels"]
            fmt = data["imageformat"]
            return cls(tuple(d["name"] for d in labels), tuple(d["category"] for d in labels),
                       tuple(bool(d.get("internal")) for d in labels),
                       tuple((c["name"], c.get("mask")) for c in data["categories"]),
                       fmt.get("byteorder") == "BGR", tuple(fmt["mean"]), tuple(fmt["stdev"]),
                       tuple(data.get("segsizes", [256])))
        except (KeyError, TypeError) as exc:
            raise LCEError(f"{where}: not a semantic-segmenter labels.json (missing {exc})") \
                from None

    def numbering(self) -> tuple[list[tuple[str, str]], list[int]]:
        """(labels, external number of each channel): the first channel of each name that is
        not internal gets the next number; internal channels map to 0."""
        labels = [(NO_LABEL, NO_LABEL)]
        number = {NO_LABEL: 0}
        for name, category, internal in zip(self.channel_names, self.channel_categories,
                                            self.internal, strict=True):
            if not internal and name not in number:
                number[name] = len(labels)
                labels.append((name, category))
        return labels, [number.get(name, 0) for name in self.channel_names]
