"""What a metric is, once: its names, unit, direction, nightly tolerance, and how to read it from a run.

    from suite.spec.metrics import METRICS, metric_value
    METRICS["val_acc"].words                  # "validation accuracy"
    METRICS["val_acc"].unit.value.scale       # 100: a fraction, shown and plotted in percent
    metric_value(run, "gap_acc", epoch=1)     # train minus validation accuracy after epoch 1

Claims, the report (tables, sentences, figures, the nightly section), the book's values and the
regression check all read this table; no caller decides a unit or a direction from a metric's
name, and adding a metric is one entry here. A run is one serialized run of a results file
(``history`` per epoch, ``weight_abs_mean`` of the final model). No torch.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Style:
    """How a number is written: times SCALE, to DECIMALS fixed decimals with SYMBOL after it, or,
    where DECIMALS is None, to DIGITS significant digits (then SCALE is 1 and there is no symbol)."""

    scale: float = 1.0
    decimals: int | None = None
    symbol: str = ""
    digits: int = 3


@dataclass(frozen=True)
class Unit:
    """What a metric's numbers are, and so how they read: ``value`` styles one value (a table cell,
    a book value, a claim on one variant), ``difference`` two values' difference (a change since the
    baseline, a tolerance, a claim against a baseline). The report's typography (true minus, no-break
    spaces, ∞) is ``suite.report.fmt``'s; the terminal's, ``suite.spec.numfmt``'s."""

    name: str
    value: Style = field(default_factory=Style)
    difference: Style = field(default_factory=Style)
    signed: bool = False  # its values are differences themselves (a gap): written with a sign
    relative: bool = False  # the nightly compares a change relative to the baseline's value
    clock: bool = False  # a value reads as a duration, "12 min 34 s"
    diverged: float | None = None  # what a non-finite stored value counts as (None: itself)
    axis: str = ""  # a figure's y-axis label
    worse: str = ""  # a relative change for the worse, in a word: "25 % slower"
    abbreviation: str = ""  # after a value in the terminal table: "754.2s"
    # The smallest shift between two environments the nightly calls beyond noise, however
    # consistent the seeds (suite.regress.shift): absolute, or SHIFT_SHARE of the baseline's value.
    shift_floor: float = 0.0
    shift_share: float = 0.0

    def stored(self, value) -> float:
        """A value as a history stores it; a diverged (NaN or infinite) loss counts as +inf, the worst."""
        value = float(value)
        return value if self.diverged is None or math.isfinite(value) else self.diverged


FRACTION = Unit(
    "fraction", value=Style(100, 1, "%"), difference=Style(100, 1, "pp"), axis="accuracy (%)", shift_floor=0.005
)  # an accuracy: shown in percent, a difference of two in percentage points
POINTS = Unit(
    "difference of fractions", value=Style(100, 1, "pp"), difference=Style(100, 1, "pp"), signed=True, shift_floor=0.005
)
LOSS = Unit("loss", difference=Style(decimals=3), diverged=math.inf, axis="cross-entropy loss", shift_floor=0.01)
MICROSECONDS = Unit(
    "microseconds",
    value=Style(decimals=0),
    difference=Style(100, 0, "%"),
    relative=True,
    worse="slower",
    abbreviation="µs",
)  # a training cost per run-step: compared as a share of the baseline's (pytest-benchmark's compare-fail)
SECONDS = Unit(
    "seconds", difference=Style(100, 0, "%"), relative=True, clock=True, worse="slower", abbreviation="s"
)  # a duration, "12 min 34 s"; a change of one is relative
RATE = Unit("learning rate", shift_share=0.01)
MAGNITUDE = Unit("weight magnitude", shift_share=0.01)

Reader = Callable[[dict, "int | None"], float]  # (run, 1-based epoch or None for the last) -> value


def _row(history: dict, epoch: int | None) -> int:
    """The history index of EPOCH. A diverged run stops at its diverged epoch: later epochs read that
    last, broken state."""
    last = len(history["val_acc"])
    return last - 1 if epoch is None else min(epoch, last) - 1


def _loss(run: dict, key: str, epoch: int | None) -> float:
    history = run["history"]
    return LOSS.stored(history[key][_row(history, epoch)])


def _gap_acc(run: dict, epoch: int | None) -> float:
    history = run["history"]
    row = _row(history, epoch)
    return history["train_acc"][row] - history["val_acc"][row]


@dataclass(frozen=True)
class Metric:
    name: str  # the key in a claim, a history or the nightly comparison
    label: str  # a figure title or table header: "Validation accuracy"
    words: str  # inside a sentence: "validation accuracy"
    short: str  # in a dense line: "val. acc."
    higher_is_better: bool | None  # None: neither (a learning rate, a weight size)
    unit: Unit
    tolerance: float | None = None  # the nightly's floor on a change (a share for a relative unit); None: not compared
    curve: bool = False  # plotted per epoch in each ablation's figure
    read: Reader | None = None  # None: the history of this name at the epoch
    of_runs: bool = True  # False: a variant's measure, never a run's (a claim cannot read it)

    def value(self, run: dict, epoch: int | None = None) -> float:
        if not self.of_runs:
            raise KeyError(f"metric {self.name!r} is a variant's, not read from a run")
        if self.read is not None:
            return self.read(run, epoch)
        history = run["history"]
        return self.unit.stored(history[self.name][_row(history, epoch)])

    def shown(self, value: float) -> float:
        """VALUE as a figure draws it: an accuracy in percent."""
        return value * self.unit.value.scale


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("train_loss", "Training loss", "training loss", "train loss", False, LOSS, curve=True),
        Metric("val_loss", "Validation loss", "validation loss", "val. loss", False, LOSS, 0.05, curve=True),
        Metric("train_acc", "Training accuracy", "training accuracy", "train acc.", True, FRACTION, 0.02, curve=True),
        Metric("val_acc", "Validation accuracy", "validation accuracy", "val. acc.", True, FRACTION, 0.02, curve=True),
        Metric(
            "train_eval_loss",
            "Training loss (eval mode)",
            "training loss (eval mode)",
            "train loss (eval)",
            False,
            LOSS,
        ),
        Metric(
            "gap_acc",
            "Train − validation accuracy",
            "the gap between training and validation accuracy",
            "acc. gap",
            False,
            POINTS,
            read=_gap_acc,
        ),
        Metric(
            "gap_loss",
            "Validation − training loss",
            "the gap between validation and training loss",
            "loss gap",
            False,
            LOSS,
            read=lambda run, epoch: _loss(run, "val_loss", epoch) - _loss(run, "train_eval_loss", epoch),
        ),
        Metric(
            "min_val_loss",
            "Lowest validation loss",
            "the lowest validation loss",
            "lowest val. loss",
            False,
            LOSS,
            read=lambda run, epoch: min(LOSS.stored(v) for v in run["history"]["val_loss"]),
        ),
        Metric(
            "weight_abs_mean",
            "Mean |w|",
            "the mean |weight|",
            "mean |w|",
            None,
            MAGNITUDE,
            read=lambda run, epoch: float(run["weight_abs_mean"]),
        ),
        Metric("lr", "Learning rate", "the learning rate", "learning rate", None, RATE),
        # What training a variant's runs cost, per run and optimizer step (suite.regress.cost): a
        # variant's wall time would count the runs it was served from another's record as free.
        Metric(
            "step_us",
            "Training time per step",
            "training time per run-step",
            "µs/step",
            False,
            MICROSECONDS,
            0.25,
            of_runs=False,
        ),
    )
}
CURVES = [m for m in METRICS.values() if m.curve]  # in the order the figure's panels are laid out
COMPARED = [m for m in METRICS.values() if m.tolerance is not None]  # by the nightly check, in its table's order


def metric_value(run: dict, metric: str, epoch: int | None = None) -> float:
    """One metric of one serialized run. Non-finite losses count as +inf (worst possible).

    A diverged run stops at its diverged epoch: later epochs read that last, broken state.
    """
    if metric not in METRICS:
        raise KeyError(f"unknown metric {metric!r} (one of {', '.join(METRICS)})")
    return METRICS[metric].value(run, epoch)
