"""What a metric is, once: its names, its direction, its nightly tolerance, how to read it from a run.

    from suite.spec.metrics import METRICS, metric_value
    METRICS["val_acc"].words                  # "validation accuracy"
    metric_value(run, "gap_acc", epoch=1)     # train minus validation accuracy after epoch 1

Claims, the report (tables, sentences, figures, the nightly section) and the regression check all
read this table; adding a metric is one entry here. A run is one serialized run of a results file
(``history`` per epoch, ``weight_abs_mean`` of the final model). No torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    name: str  # the key in a claim, a history or the nightly comparison
    label: str  # a figure title or table header: "Validation accuracy"
    words: str  # inside a sentence: "validation accuracy"
    higher_is_better: bool | None  # None: neither (a learning rate, a weight size)
    accuracy: bool = False  # a fraction shown in percent (a difference of two: percentage points)
    tolerance: float | None = None  # the nightly check's floor on an absolute change; None: not compared
    curve: bool = False  # plotted per epoch in each ablation's figure


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("train_loss", "Training loss", "training loss", False, curve=True),
        Metric("val_loss", "Validation loss", "validation loss", False, tolerance=0.05, curve=True),
        Metric("train_acc", "Training accuracy", "training accuracy", True, accuracy=True, tolerance=0.02, curve=True),
        Metric(
            "val_acc", "Validation accuracy", "validation accuracy", True, accuracy=True, tolerance=0.02, curve=True
        ),
        Metric("train_eval_loss", "Training loss (eval mode)", "training loss (eval mode)", False),
        Metric(
            "gap_acc",
            "Train − validation accuracy",
            "the gap between training and validation accuracy",
            False,
            accuracy=True,
        ),
        Metric("gap_loss", "Validation − training loss", "the gap between validation and training loss", False),
        Metric("min_val_loss", "Lowest validation loss", "the lowest validation loss", False),
        Metric("weight_abs_mean", "Mean |w|", "the mean |weight|", None),
        Metric("lr", "Learning rate", "the learning rate", None),
    )
}
CURVES = [m for m in METRICS.values() if m.curve]  # in the order the figure's panels are laid out
COMPARED = [m for m in METRICS.values() if m.tolerance is not None]  # by the nightly regression check


def _finite_loss(value: float) -> float:
    """A NaN or infinite loss (a diverged run) counts as +inf: the worst possible."""
    return float(value) if math.isfinite(value) else math.inf


def metric_value(run: dict, metric: str, epoch: int | None = None) -> float:
    """One metric of one serialized run. Non-finite losses count as +inf (worst possible).

    A diverged run stops at its diverged epoch: later epochs read that last, broken state.
    """
    if metric not in METRICS:
        raise KeyError(f"unknown metric {metric!r} (one of {', '.join(METRICS)})")
    history = run["history"]
    if metric == "weight_abs_mean":
        return float(run["weight_abs_mean"])
    if metric == "min_val_loss":
        return min(_finite_loss(v) for v in history["val_loss"])
    last = len(history["val_acc"])
    row = last - 1 if epoch is None else min(epoch, last) - 1
    if metric == "gap_acc":
        return history["train_acc"][row] - history["val_acc"][row]
    if metric == "gap_loss":
        return _finite_loss(history["val_loss"][row]) - _finite_loss(history["train_eval_loss"][row])
    value = history[metric][row]
    return _finite_loss(value) if metric.endswith("loss") else float(value)
