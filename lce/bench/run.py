"""Run every benchmark task for one model and collect its scores as benchmark-contract rows.

Features are extracted once per dataset and shared by the tasks that use it (a dataset in both
the linear and few-shot lists is run through the model once), and the probe set is run once for
both the dense and the localization task.
"""

from __future__ import annotations

import numpy as np

from lce.bench.datasets import classification_dataset
from lce.bench.dense import dense_miou
from lce.bench.features import FrozenFeatures
from lce.bench.fewshot import ci95, episode_accuracies
from lce.bench.linear import linear_accuracy
from lce.bench.localization import localization_scores
from lce.bench.probe_targets import image_split, load_targets
from lce.contracts import SCORES
from lce.params import BenchParams
from lce.progress import get_logger, progress
from lce.threads import cpu_threads

log = get_logger("lce.bench")


def _classification_scores(extractor: FrozenFeatures, settings: BenchParams, bar) -> list:
    rows = []
    for name in dict.fromkeys(settings.linear_datasets + settings.fewshot_datasets):
        images, labels = classification_dataset(name, settings.max_images, settings.seed,
                                                settings.synthetic_images)
        task = bar.add_task(f"features {name}", total=len(images))
        features = extractor.pooled(images, settings.input_size,
                                    on_batch=lambda n, t=task: bar.advance(t, n))
        if name in settings.linear_datasets:
            top1 = linear_accuracy(features, labels, settings.c_grid, settings.test_fraction,
                                   settings.val_fraction, settings.seed)
            log.info("linear %s: top-1 %.4f (%d images, %d classes)", name, top1, len(labels),
                     len(np.unique(labels)))
            rows.append(("many-shot", name, "top1-accuracy", top1))
        if name in settings.fewshot_datasets:
            for shots in settings.shots:
                accuracies = episode_accuracies(features, labels, settings.ways, shots,
                                                settings.queries, settings.episodes,
                                                settings.seed)
                log.info("fewshot %s %d-way %d-shot: %.4f ± %.4f", name, settings.ways, shots,
                         accuracies.mean(), ci95(accuracies))
                rows.append(("few-shot", name, f"{shots}-shot-accuracy", float(accuracies.mean())))
                rows.append(("few-shot", name, f"{shots}-shot-ci95", ci95(accuracies)))
    return rows


def _probe_scores(extractor: FrozenFeatures, probe, settings: BenchParams, bar) -> list:
    task = bar.add_task("probe targets", total=len(probe))
    targets = load_targets(probe, settings.dense_categories, settings.label_size,
                           on_image=lambda: bar.advance(task))
    task = bar.add_task("features probe", total=len(probe))
    maps = extractor.maps(targets.images, on_batch=lambda n: bar.advance(task, n))
    train, val, test = image_split(len(probe), settings.test_fraction, settings.val_fraction,
                                   settings.seed)
    rows = []
    for category in settings.dense_categories:
        miou = dense_miou(maps, targets.labels[category], train, val, test, settings.c_grid,
                          settings.pixels_per_image, settings.seed)
        log.info("dense probe-%s: mIoU %.4f on %d held-out images", category, miou, len(test))
        rows.append(("dense", f"probe-{category}", "mean-iou", miou))
    boxes = localization_scores(maps, targets.boxes, train, val, test, settings.box_alphas,
                                settings.box_grid)
    log.info("localization: mean IoU %.4f, CorLoc %.4f", boxes["mean_iou"], boxes["corloc"])
    rows += [("localization", "probe-object", "mean-iou", boxes["mean_iou"]),
             ("localization", "probe-object", "corloc", boxes["corloc"])]
    return rows


def benchmark_scores(model_key: str, model, spec, layer: str, probe, settings: BenchParams,
                     device: str):
    """A DataFrame of benchmark-contract rows (``source = 'measured'``) for one model."""
    import pandas as pd

    extractor = FrozenFeatures(model, layer, spec.mean, spec.std, device, settings.batch_size)
    with cpu_threads(settings.threads), progress() as bar:
        rows = _classification_scores(extractor, settings, bar)
        rows += _probe_scores(extractor, probe, settings, bar)
    # every measured metric is better when higher except a confidence interval's half-width
    frame = pd.DataFrame([(model_key, task, dataset, metric, float(value),
                           not metric.endswith("-ci95"), "measured")
                          for task, dataset, metric, value in rows], columns=SCORES.names)
    return frame.sort_values(["task", "dataset", "metric"], ignore_index=True)
