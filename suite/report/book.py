"""Does this run match the book? The book's own values (suite.spec.book_values) beside the measured ones.

    from suite.report.book import compare, book_sections
    compare(value, runs, profile="book")     # one BookValue against one variant's runs
    book_sections(results)                   # {ablation: what its section shows}, plus the summary

A book value is reproduced when it lies within the run's spread over seeds, widened by the
reading precision: min over seeds − precision ≤ book ≤ max over seeds + precision, at the book's
epoch. Otherwise the report says how far it lies from the nearest seed's value. This is
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


@dataclass(frozen=True)
class Comparison:
    book: BookValue
    seeds: tuple[float, ...]  # the run's value at the book's epoch, one per seed (empty: none)
    state: str  # within | outside | not comparable | not compared | not reached | not run
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
    slack = book.precision + TOLERANCE * abs(book.value)
    if min(seeds) - slack <= book.value <= max(seeds) + slack:
        return Comparison(book, seeds, "within")
    return Comparison(book, seeds, "outside", min(abs(book.value - s) for s in seeds))


def value_text(metric: str, value: float, *, unit: bool = True) -> str:
    return fmt.metric_value(METRICS[metric], value, unit=unit)


def _spread_text(c: Comparison) -> str:
    if len(c.seeds) == 1 or c.low == c.high:
        return value_text(c.book.metric, c.low)
    return f"{value_text(c.book.metric, c.low, unit=False)}–{value_text(c.book.metric, c.high)}"


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


def describe(c: Comparison) -> str:
    """'val. acc. at epoch 10: book 85.3 % (±0.3 pp), this run 84.1–84.9 %: 0.4 pp above the seeds'."""
    book = c.book
    head = (
        f"{METRICS[book.metric].short} at epoch {book.epoch}: book "
        f"{value_text(book.metric, book.value)} ({_precision_text(book)})"
    )
    if c.state == "not run":
        return f"{head}; not run here"
    if c.state == "not reached":
        return f"{head}; this run stops before epoch {book.epoch}"
    text = f"{head}, this run {_spread_text(c)}"
    if c.state == "outside":
        text += f": {_distance_text(c)}"
    elif c.state == "not compared":
        text += f": not compared, {book.note}"
    return text


def _variant_line(label: str, comparisons: list[Comparison], comparable: bool) -> dict:
    """One line per variant: the verdict-free count, what lies outside, what could not be compared."""
    judged = [c for c in comparisons if c.state in ("within", "outside")]
    outside = [c for c in judged if c.state == "outside"]
    beyond = sorted({c.book.epoch for c in comparisons if c.state == "not reached"})
    parts = []
    if not comparable:  # the paragraph above the lines says so once
        head, css = "", "neutral"
        parts = [describe(c) for c in comparisons if c.seeds]
    elif judged:
        head = f"{len(judged) - len(outside)} of {len(judged)} book values within the seed spread."
        css = "outside" if outside else "within"
        parts = [describe(c) for c in outside]
    else:
        head, css = "No book value compared.", "neutral"
    parts += [describe(c) for c in comparisons if c.state == "not compared" or c.state == "not run"]
    text = head + (" Outside: " if comparable and outside else " ") + "; ".join(parts) + ("." if parts else "")
    if beyond:
        text += f" The book's values at epoch {', '.join(map(str, beyond))} lie beyond this run's last epoch."
    notes = dict.fromkeys(c.book.note for c in comparisons if c.book.note and c.book.compared)
    text += "".join(f" Why this comparison: {note}." for note in notes)
    text = " ".join(text.split())
    return {"label": label, "text": text[:1].upper() + text[1:], "class": css}


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
        section = {"comparable": comparable, "cells": {}, "lines": [], "points": []}
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
            section["lines"].append(_variant_line(label, comparisons, comparable))
            section["points"] += _points(label, comparisons)
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
    text = f"{len(judged) - len(outside)} of {len(judged)} book values reproduced within the seed spread"
    if outside:
        text += "; not: " + "; ".join(
            f"{a} / {label}: {METRICS[c.book.metric].short} at epoch {c.book.epoch} ({_distance_text(c)})"
            for a, label, c in outside
        )
    skipped = len([c for _, _, c in comparisons if c.state == "not compared"])
    if skipped:
        text += f". {skipped} more are shown but not compared: the book measured them differently"
    return {
        "comparable": True,
        "text": text + ".",
        # the same, counted and listed, for the scoreboard and the summary's table
        "reproduced": len(judged) - len(outside),
        "compared": len(judged),
        "skipped": skipped,
        "outside": [
            {
                "where": f"{a} / {label}",
                "what": f"{METRICS[c.book.metric].short} at epoch {c.book.epoch}",
                "distance": _distance_text(c),
            }
            for a, label, c in outside
        ],
    }
