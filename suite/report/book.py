"""Does this run match the book? The book's own values (suite.spec.book_values) beside the measured ones.

    from suite.report.book import compare, book_sections
    compare(value, runs, profile="book")     # one BookValue against one variant's runs
    book_sections(results)                   # {ablation: what its section shows}, plus the summary

A book value is reproduced when it lies within the run's spread over seeds, widened by the
reading precision: min over seeds − precision ≤ book ≤ max over seeds + precision, at the book's
epoch. Otherwise the report says how far it lies from the nearest seed's value. A reading precision
wider than the quantity allows (``MAX_TOLERANCE``: a few points of accuracy, a tenth of a loss) is
no comparison: that value is shown and counted, not compared. This is
information, never a verdict: nothing here fails a test. A run of another profile than ``book``
(the ci profile: 6k images, fewer epochs) is shown beside the book but not compared. No torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from suite.report import fmt
from suite.spec.book_values import BOOK_VALUES, BookValue
from suite.spec.chapter3 import ABLATIONS
from suite.spec.metrics import METRICS, metric_value

COMPARABLE_PROFILE = "book"
NOT_COMPARABLE = "not comparable (protocol differs: 6k images, fewer epochs)"
TABLE_METRICS = {"val_acc": "val.", "train_acc": "train", "val_loss": "loss"}  # the table's book column
TOLERANCE = 1e-9  # a printed learning rate equals the run's float exactly, give or take rounding
# The widest reading precision that still makes a comparison, per unit: (absolute, relative to the
# value). An accuracy read off a plot to within 2 points says something; a loss of 2.3 read to ±5
# (an axis running to 150) says nothing, and a tenth of the value is the most a loss may be off.
MAX_TOLERANCE = {"fraction": (0.02, 0.0), "loss": (0.0, 0.10)}
TOLERANCE_TEXT = (
    "the reading precision of each book value, at most 2 pp for an accuracy and 10 % of the value for a loss; "
    "a value read more coarsely is shown but not compared"
)
REASONS = {  # why a book value is not compared, as the count line says it
    "not compared": "measured differently by the book",
    "too coarse": "read off the plot too coarsely to compare",
    "not reached": "beyond this run's last epoch",
    "not run": "of variants this run did not train",
}


def sensible(book: BookValue) -> bool:
    """Whether BOOK was read precisely enough for a comparison (``MAX_TOLERANCE``)."""
    absolute, relative = MAX_TOLERANCE.get(METRICS[book.metric].unit.name, (0.0, 0.0))
    if not absolute and not relative:
        return True  # no rule for this unit: a printed value (precision 0)
    return book.precision <= max(absolute, relative * abs(book.value))


@dataclass(frozen=True)
class Comparison:
    book: BookValue
    seeds: tuple[float, ...]  # the run's value at the book's epoch, one per seed (empty: none)
    state: str  # within | outside | not comparable | not compared | too coarse | not reached | not run
    distance: float = math.nan  # outside: from the book's value to the nearest seed's value

    @property
    def low(self) -> float:
        return min(self.seeds) if self.seeds else math.nan

    @property
    def high(self) -> float:
        return max(self.seeds) if self.seeds else math.nan


def compare(book: BookValue, runs: list[dict], profile: str, epochs: int | None = None) -> Comparison:
    """BOOK against the runs of its variant. EPOCHS: how many the variant was configured for (a
    diverged run stops early but is read at its last, broken state, as the claims read it)."""
    if not runs:
        return Comparison(book, (), "not run")
    planned = epochs if epochs is not None else max(len(r["history"].get("val_acc", [])) for r in runs)
    if book.epoch > planned:
        return Comparison(book, (), "not reached")
    seeds = tuple(metric_value(run, book.metric, book.epoch) for run in runs)
    if profile != COMPARABLE_PROFILE:
        return Comparison(book, seeds, "not comparable")
    if not book.compared:
        return Comparison(book, seeds, "not compared")
    if not sensible(book):
        return Comparison(book, seeds, "too coarse")
    slack = book.precision + TOLERANCE * abs(book.value)
    if min(seeds) - slack <= book.value <= max(seeds) + slack:
        return Comparison(book, seeds, "within")
    return Comparison(book, seeds, "outside", min(abs(book.value - s) for s in seeds))


def value_text(metric: str, value: float, *, unit: bool = True) -> str:
    return fmt.metric_value(METRICS[metric], value, unit=unit)


def _spread_text(c: Comparison) -> str:
    if len(c.seeds) == 1 or c.low == c.high:
        return value_text(c.book.metric, c.low)
    low, high = value_text(c.book.metric, c.low, unit=False), value_text(c.book.metric, c.high)
    if METRICS[c.book.metric].unit.value.decimals is None and all(map(math.isfinite, (c.low, c.high))):
        # significant digits drop a trailing zero ('0.376–0.38'): both ends to the same decimals
        decimals = max((len(text.partition(".")[2]) for text in (low, high) if "e" not in text), default=3)
        low, high = (f"{value:.{decimals}f}".replace("-", "−") for value in (c.low, c.high))
    return f"{low}–{high}"


def _amount(metric: str, size: float) -> str:
    """A reading precision or a distance: in the unit's difference symbol where it has one
    ('0.4 pp'), else to two significant digits ('0.012')."""
    style = METRICS[metric].unit.difference
    return fmt.styled(style, size) if style.symbol else fmt.number(size, 2)


def _precision_text(book: BookValue) -> str:
    return f"±{fmt.NB}{_amount(book.metric, book.precision)}" if book.precision else "printed"


def _distance_text(c: Comparison) -> str:
    side = "above" if c.book.value > c.high else "below"
    return f"{_amount(c.book.metric, c.distance)} {side} the seeds"


def _row(variant: str, label: str, c: Comparison) -> dict:
    """One row of a section's book table: which value, the book's, this run's range, the result."""
    book = c.book
    far = c.distance / max(book.precision, TOLERANCE * abs(book.value), 1e-12) if c.state == "outside" else -1.0
    return {
        "variant": variant,
        "label": label,
        "what": f"{METRICS[book.metric].short} at epoch {book.epoch}",
        "book": f"{value_text(book.metric, book.value)} ({_precision_text(book)})",
        "run": _spread_text(c) if c.seeds else fmt.MISSING,
        "result": {"within": "within", "outside": _distance_text(c) if c.state == "outside" else ""}.get(
            c.state, c.state
        ),
        "class": c.state if c.state in ("within", "outside") else "neutral",
        "far": far,  # in reading precisions: the table lists the farthest first
    }


def _uncompared(labelled: list[tuple[str, Comparison]]) -> str:
    """'Not compared: 2 values measured differently by the book (dropout 0.25: val. acc. at epoch 30 ...)'."""
    parts = []
    for state, reason in REASONS.items():
        which = [(label, c) for label, c in labelled if c.state == state]
        if not which:
            continue
        if state in ("not reached", "not run"):  # many, and all for one reason: the epochs say it
            epochs = sorted({c.book.epoch for _, c in which})
            names = f"epoch {', '.join(map(str, epochs))}" if state == "not reached" else "no runs"
        else:
            names = "; ".join(
                f"{label}: {METRICS[c.book.metric].short} at epoch {c.book.epoch}"
                + (f", read {_precision_text(c.book)}" if state == "too coarse" else "")
                for label, c in which
            )
        notes = dict.fromkeys(c.book.note for _, c in which if state == "not compared" and c.book.note)
        why = "".join(f"; {note}" for note in notes)
        parts.append(f"{len(which)} {'value' if len(which) == 1 else 'values'} {reason} ({names}{why})")
    return ("Not compared: " + "; ".join(parts) + ".") if parts else ""


def _table(labelled: list[tuple[str, str, Comparison]], comparable: bool) -> dict:
    """A section's book table: compared values, farthest outside first; the rest counted, with why."""
    if comparable:
        rows = [_row(v, label, c) for v, label, c in labelled if c.state in ("within", "outside")]
        rows.sort(key=lambda row: -row["far"])  # stable: within rows keep the variants' order
        rest = [(label, c) for _, label, c in labelled if c.state not in ("within", "outside")]
    else:  # shown for information, nothing judged: every value the run reached
        rows = [_row(v, label, c) for v, label, c in labelled if c.seeds]
        rest = [(label, c) for _, label, c in labelled if not c.seeds]
    notes: dict[str, str] = {}
    for _, label, c in labelled:
        if c.book.note and c.book.compared and c.state in ("within", "outside"):
            notes.setdefault(c.book.note, label)
    return {
        "rows": rows,
        "outside": sum(row["class"] == "outside" for row in rows),
        "uncompared": _uncompared(rest),
        "notes": [f"{label}: {note[:1].upper()}{note[1:]}." for note, label in notes.items()],
    }


def _cell(comparisons: list[Comparison]) -> dict | None:
    """The final-metrics table's book column: the book's last-epoch values for this variant."""
    last = max((c.book.epoch for c in comparisons if c.book.metric in TABLE_METRICS), default=None)
    if last is None:
        return None
    values = {c.book.metric: c.book for c in comparisons if c.book.epoch == last}
    lines = [f"{word} {value_text(m, values[m].value)}" for m, word in TABLE_METRICS.items() if m in values]
    return {"lines": lines, "epoch": last}


def _points(label: str, comparisons: list[Comparison]) -> list[dict]:
    """Book values the curve figure marks: only epochs this run reached, so no axis is stretched."""
    return [
        {
            "variant": label,
            "metric": c.book.metric,
            "epoch": c.book.epoch,
            "value": METRICS[c.book.metric].shown(c.book.value),
        }
        for c in comparisons
        if c.state not in ("not reached", "not run") and METRICS[c.book.metric].curve
    ]


def _epochs(record: dict | None) -> int | None:
    config = (record or {}).get("config") or {}
    return config.get("epochs")


def book_sections(results: dict, references: tuple[BookValue, ...] = BOOK_VALUES) -> dict:
    """{"sections": {ablation: {...}}, "summary": {...}}: what the report shows of the book."""
    profile = results["profile"]["name"]
    comparable = profile == COMPARABLE_PROFILE
    sections, all_comparisons = {}, []
    for ablation in dict.fromkeys(b.ablation for b in references):
        entry = results["ablations"].get(ablation) or {}
        variants = entry.get("variants") or {}
        title = entry.get("title") or (ABLATIONS[ablation].title if ablation in ABLATIONS else ablation)
        section: dict = {"comparable": comparable, "cells": {}, "points": [], "tolerance": TOLERANCE_TEXT}
        labelled = []
        for variant in dict.fromkeys(b.variant for b in references if b.ablation == ablation):
            record = variants.get(variant)
            label = (record or {}).get("label") or variant
            comparisons = [
                compare(b, (record or {}).get("runs") or [], profile, _epochs(record))
                for b in references
                if (b.ablation, b.variant) == (ablation, variant)
            ]
            all_comparisons += [(title, label, c) for c in comparisons]
            section["cells"][variant] = _cell(comparisons)
            labelled += [(variant, label, c) for c in comparisons]
            section["points"] += _points(label, comparisons)
        section.update(_table(labelled, comparable))
        sections[ablation] = section
    return {"sections": sections, "summary": summary(all_comparisons, comparable)}


def summary(comparisons: list[tuple[str, str, Comparison]], comparable: bool) -> dict:
    """One line: 'N of M book values reproduced within the seed spread', naming those that are not."""
    if not comparable:
        return {
            "comparable": False,
            "text": (
                f"Book values: {NOT_COMPARABLE}; they are shown beside each "
                "ablation's final metrics and curves for information."
            ),
        }
    judged = [(a, label, c) for a, label, c in comparisons if c.state in ("within", "outside")]
    outside = [(a, label, c) for a, label, c in judged if c.state == "outside"]
    outside.sort(key=lambda item: -item[2].distance / max(item[2].book.precision, 1e-12))  # farthest first
    text = f"{len(judged) - len(outside)} of {len(judged)} book values reproduced within the seed spread"
    if outside:
        text += "; not: " + "; ".join(
            f"{a} / {label}: {METRICS[c.book.metric].short} at epoch {c.book.epoch} ({_distance_text(c)})"
            for a, label, c in outside
        )
    counts = {
        reason: sum(c.state == state for _, _, c in comparisons)
        for state, reason in REASONS.items()
        if state in ("not compared", "too coarse")
    }
    skipped = sum(counts.values())
    skipped_text = ", ".join(f"{n} {reason}" for reason, n in counts.items() if n)
    if skipped:
        text += f". {skipped} more are shown but not compared: {skipped_text}"
    return {
        "comparable": True,
        "text": text + ".",
        # the same, counted and listed, for the scoreboard and the summary's table
        "reproduced": len(judged) - len(outside),
        "compared": len(judged),
        "skipped": skipped,
        "skipped_text": skipped_text,
        "tolerance": TOLERANCE_TEXT,
        "outside": [
            {
                "where": f"{a} / {label}",
                "what": f"{METRICS[c.book.metric].short} at epoch {c.book.epoch}",
                "distance": _distance_text(c),
            }
            for a, label, c in outside
        ],
    }
