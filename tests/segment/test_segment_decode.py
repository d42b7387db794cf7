"""Dissect's mask decoding on planted predictions: label numbering, parts under their owner,
quadrant labels filed under part, the colour channel, and label 0 = no prediction."""

from __future__ import annotations

import numpy as np
import torch

from lce.segment.decode import expand_quadrants, merge, semantic_masks, unified_masks
from lce.segment.vocab import SemanticVocabulary, UnifiedVocabulary
from tests.support.segment import COLOR_LABELS, UNIFIED_LABELS

VOCAB = UnifiedVocabulary.from_json(UNIFIED_LABELS, "test")
N = VOCAB.n_objects  # 5: sky building person door tree


def _one_hot(labels: np.ndarray, n: int) -> torch.Tensor:
    """Scores (1, n, h, w) whose argmax is ``labels`` (h, w)."""
    return torch.nn.functional.one_hot(torch.as_tensor(labels), n).permute(2, 0, 1)[None].float()


def test_numbering_quadrants_materials_parts():
    labels, translation = VOCAB.numbering()
    names = [name for name, _ in labels]
    assert labels[0] == ("-", "object") and labels[1] == ("sky", "object")
    assert names[1 + N] == "sky-t" and names[2 + 2 * N] == "building-l"
    assert names[3 + 3 * N] == "person-b" and names[5 + 4 * N] == "tree-r"
    assert {labels[i][1] for i in range(N + 1, 5 * N + 1)} == {"part"}
    assert labels[5 * N + 1] == ("wood", "material")
    # parts: building's window gets the first part number; 'door' is the object; '-' is 0
    assert labels[5 * N + 3] == ("window", "part")
    assert translation[0] == [0, 5 * N + 3, 4]
    assert [labels[n][0] for n in translation[1][1:]] == ["head", "arm"]


def test_planted_predictions_decode_to_dissects_channels():
    objects = np.array([[1, 1, 0, 0],
                        [1, 1, 0, 0],
                        [0, 0, 3, 3],
                        [0, 0, 3, 3]])
    materials = np.array([[0, 0, 2, 2]] * 4)
    # person's part channel says 'head' (1) everywhere, building's says 'window': only the
    # person pixels get a part (the owner must be predicted)
    building_parts = _one_hot(np.full((4, 4), 1), 3)
    person_parts = _one_hot(np.full((4, 4), 1), 3)
    masks = unified_masks(_one_hot(objects, N + 1), _one_hot(materials, 3),
                          [building_parts, person_parts], N, VOCAB.owner_numbers(),
                          VOCAB.numbering()[1]).numpy()[0]
    labels, _ = VOCAB.numbering()
    assert masks.shape == (5, 4, 4)
    assert (masks[0] == objects).all()
    assert masks[1].tolist() == [[0, 0, 5 * N + 2, 5 * N + 2]] * 4  # glass; '-' stays 0
    head = [n for n, (name, _) in enumerate(labels) if name == "head"][0]
    assert (masks[2] == np.where(objects == 3, head, 0)).all()
    # two regions: sky (first) gets quadrants; person is the last region: Dissect skips it
    assert masks[3].tolist() == [[1 + N, 1 + N, 0, 0], [1 + 3 * N, 1 + 3 * N, 0, 0],
                                 [0] * 4, [0] * 4]
    assert masks[4].tolist() == [[1 + 2 * N, 1 + 4 * N, 0, 0]] * 2 + [[0] * 4] * 2


def test_quadrants_split_each_region_at_its_bounding_box_middle():
    # sky (1) is one 8-connected region of 3 rows x 4 columns; tree (5) a later one, skipped
    objects = np.zeros((1, 5, 6), dtype=np.int64)
    objects[0, 0:3, 0:4] = 1
    objects[0, 4, 5] = 5
    tb, lr = expand_quadrants(objects, N)[0]
    # rows 0..2: vmid = (0 + 2 + 1) // 2 = 1 -> row 0 top, rows 1-2 bottom
    assert tb[0, :4].tolist() == [1 + N] * 4 and (tb[1:3, :4] == 1 + 3 * N).all()
    # cols 0..3: hmid = 2 -> cols 0-1 left, 2-3 right
    assert (lr[0:3, 0:2] == 1 + 2 * N).all() and (lr[0:3, 2:4] == 1 + 4 * N).all()
    assert tb[4, 5] == 0 and lr[4, 5] == 0 and (tb[3] == 0).all()


def test_colour_channel_and_merge_keep_label_zero():
    vocab = SemanticVocabulary.from_json(COLOR_LABELS, "test")
    labels, external = vocab.numbering()
    assert labels == [("-", "-"), ("black", "color"), ("white", "color"), ("red", "color")]
    score = _one_hot(np.array([[0, 2], [1, 1]]), 3)
    colour = semantic_masks(score, vocab.channel_categories, external, vocab.categories,
                            vocab.channel_names)
    assert colour[0, 0].tolist() == [[1, 3], [2, 2]]
    upp = torch.tensor([[[[0, 4]]]])
    merged = merge([upp, torch.tensor([[[[0, 2]]]])], [0, 40])
    assert merged[0, :, 0].tolist() == [[0, 4], [0, 42]]  # the colour's 0 stays no-label
