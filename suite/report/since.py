"""The report's "Since the baseline" section: the nightly comparison (regress.json) shaped for reading.

    from suite.report.since import build_since
    since = build_since(folder, results, sections)   # None when the folder has no regress.json

``regress.json`` is the dict ``suite.regress.nightly`` returns, written beside results.json by
``pytest suite/cases --ablation-compare HISTORY`` (before the report is rendered) or by
``python -m suite.regress RUN --history HISTORY --json RUN/regress.json``. It is optional: without
it the report has no such section. A malformed one, or one that compares another run, is a
ResultsError naming the file, like any other malformed input. No torch, no matplotlib.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from suite.regress.kinds import FindingKind, NoteKind, RowKind, Verdict
from suite.report import fmt
from suite.report.since_rows import STATUSES, Names, heading, kind_of, number, shaped_row
from suite.spec.metrics import COMPARED, METRICS
from suite.store.files import ResultsError, read_json

REGRESS_FILE = "regress.json"
OVERVIEW_COLUMNS = [m.name for m in COMPARED]  # the compact table's cells per variant, in the registry's order
TREND_METRIC = METRICS["val_acc"]  # what the trend figure draws over the stored runs
OTHER_WORDS = {
    "MOVED": ("value moved within noise", "values moved within noise"),
    "IMPROVED": ("improvement", "improvements"),
    "SHIFTED": ("shift beyond noise", "shifts beyond noise"),
    "CHANGED": ("reported claim changed", "reported claims changed"),
    "MISSING": ("comparison missing from this run", "comparisons missing from this run"),
    "NEW": ("new comparison", "new comparisons"),
}
TREND_RUNS = 20  # the trend shows this run and at most 19 before it: older nights would crowd the axis
BAD = (KeyError, TypeError, ValueError, IndexError, AttributeError)


def _notes(notes: list, names: Names) -> list[str]:
    """The comparison's notes for a reader: the ablations not in this run on one line, 'not in this
    run, not compared: Depth, Dropout', where the first of them was; any other note as its text."""
    lines: list[str | None] = []
    missing: list[str] = []
    for note in notes:
        kind = kind_of(note)
        if kind == NoteKind.TIME_NOT_COMPARED:  # the "Training time against" line says it already
            continue
        if kind == NoteKind.ABLATION_MISSING:
            if not missing:
                lines.append(None)
            missing.append(names.section(str(note["ablation"]))["title"])
        else:
            lines.append(str(note["text"]))
    return [f"not in this run, not compared: {', '.join(missing)}" if line is None else line for line in lines]


def _run(run: dict | None) -> dict | None:
    if run is None:
        return None
    return {
        "run_id": str(run["run_id"]),
        "started": fmt.date(run.get("started")),
        "device": run.get("device") or "?",
        "profile": run.get("profile") or "?",
    }


def noise_rule(rule) -> str | None:
    """The caption's sentence on what "beyond noise" meant, from the numbers the check stored
    (None for a comparison written before it stored them: the caption then points at the docs)."""
    try:
        alpha, floor, k, window = (rule[key] for key in ("alpha", "time_floor", "time_mad_k", "time_window"))
        return (
            f"Allowed: the larger of a floor and what Welch's t-test at the {100 * alpha:g} % level calls noise given "
            f"the seeds' spread; training time per run-step: the larger of {100 * floor:g} % and {k:g} robust standard "
            f"deviations over up to {window:g} earlier quiet nights on this machine."
        )
    except (TypeError, KeyError, ValueError):
        return None


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else (plural or word + 's')}"


def _finding(row: dict) -> str:
    """A changed row in words: 'Scaling the input, “pixels / 255”: validation accuracy 71.8 % → 66.1 % (...)'."""
    if row["kind"] == RowKind.STATISTIC:
        return f"{row['section']['title']}, {row['what'].lower()}: {row['baseline']} → {row['current']}"
    if row["kind"] == RowKind.CLAIM:
        old = row["baseline"]["text"] if row["baseline"] else "absent"
        new = row["current"]["text"] if row["current"] else "absent"
        return f"{row['section']['title']}, claim “{row['claim']}”: {old} → {new}"
    what = METRICS[row["metric"]].words
    return (
        f"{row['section']['title']}, “{row['variant']['label']}”: {what} {row['baseline']} → "
        f"{row['current']} ({row['change']}; allowed {row['allowed']})"
    )


VERDICT_WORDS = {
    Verdict.PASS: "Passed",
    Verdict.FAIL: "Failed",
    Verdict.ACCEPTED: "Failed, and accepted as intended,",
}


def reading(rows: list[dict], baseline: dict | None, profile: str, verdict: str = Verdict.PASS, mode=None) -> str:
    """The section's first line: the night's verdict since which run, then what changed."""
    if baseline is None:
        return (
            f"No baseline: this is the first complete run of the {profile} profile in the history, "
            f"so all {len(rows)} comparisons are new."
        )
    since = f"since run {baseline['run_id']} ({baseline['started']})"
    counts = {s: sum(r["status"] == s for r in rows) for s in STATUSES}
    others = [_plural(counts[s], *OTHER_WORDS[s]) for s in OTHER_WORDS if counts[s]]
    tail = f" Also {', '.join(others)}." if others else ""
    how = {"exact": "compared exactly (same environment)", "statistical": "compared statistically"}.get(mode, "")
    head = (
        f"{VERDICT_WORDS.get(verdict, verdict)} {since}, {how}"
        if how
        else f"{VERDICT_WORDS.get(verdict, verdict)} {since}"
    )
    regressed = [r for r in rows if r["status"] == "REGRESSED"]
    if not regressed:
        return f"{head}: no regressions; {counts['OK']} of {len(rows)} comparisons within tolerance.{tail}"
    shown = "; ".join(_finding(r) for r in regressed[:3])
    more = f"; and {len(regressed) - 3} more" if len(regressed) > 3 else ""
    return f"{head}: {_plural(len(regressed), 'regression')}: {shown}{more}.{tail}"


def short(rows: list[dict], baseline: dict | None, verdict: str = Verdict.PASS) -> str:
    """For the summary page: the verdict and the counts that matter, without the details."""
    if baseline is None:
        return "no baseline yet (the first stored run of this profile)"
    regressed = sum(r["status"] == "REGRESSED" for r in rows)
    improved = sum(r["status"] == "IMPROVED" for r in rows)
    text = (
        f"since run {baseline['run_id']}, {_plural(regressed, 'regression') if regressed else 'no regressions'}"
        f" and {_plural(improved, 'improvement') if improved else 'no improvements'} beyond tolerance"
    )
    return text if verdict == Verdict.PASS else f"{VERDICT_WORDS.get(verdict, verdict).lower().rstrip(',')} {text}"


def ok_summary(rows: list[dict]) -> str:
    ok = [r for r in rows if r["status"] == "OK"]
    if not ok:
        return "No comparison is within tolerance."
    parts = [
        _plural(sum(r["kind"] == RowKind.METRIC for r in ok), "final metric"),
        _plural(sum(r["kind"] == RowKind.STATISTIC for r in ok), "claim statistic"),
        _plural(sum(r["kind"] == RowKind.TIME for r in ok), "training time"),
        _plural(sum(r["kind"] == RowKind.CLAIM for r in ok), "claim verdict"),
    ]
    return (
        f"{len(ok)} {'comparison is' if len(ok) == 1 else 'comparisons are'} within tolerance: "
        + ", ".join(p for p in parts if not p.startswith("0 "))
        + "."
    )


def overview(rows: list[dict]) -> list[dict]:
    """Per ablation, one line per variant: each metric's current value and change, for the compact table."""
    lines: dict = {}
    for row in rows:
        if row["kind"] in (RowKind.CLAIM, RowKind.STATISTIC):
            continue
        key = (row["section"]["name"], row["variant"]["name"])
        line = lines.setdefault(
            key, {"section": row["section"], "heading": row["heading"], "variant": row["variant"], "cells": {}}
        )
        line["cells"][row["metric"]] = row
    groups: dict = {}
    for line in lines.values():
        line["cells"] = [line["cells"].get(metric) for metric in OVERVIEW_COLUMNS]
        group = groups.setdefault(
            line["section"]["name"], {"section": line["section"], "heading": line["heading"], "lines": []}
        )
        group["lines"].append(line)
    return list(groups.values())


def trend(data: dict, rows: list[dict], names: Names, baseline: dict | None) -> dict:
    """TREND_METRIC (final validation accuracy, in percent) per ablation and variant over the stored
    runs, oldest first."""
    runs = data["runs"]
    if not isinstance(runs, list) or not runs:
        raise ValueError("trend.runs is empty")
    count = len(runs)
    keep = min(count, TREND_RUNS)
    shown = runs[-keep:]
    flagged = {
        (r["section"]["name"], r["variant"]["name"]): r["status_class"]
        for r in rows
        if r["metric"] == TREND_METRIC.name and r["status"] in ("REGRESSED", "IMPROVED")
    }
    panels = []
    order = {name: i for i, name in enumerate(names.sections)}
    for ablation in sorted(data["series"], key=lambda n: (order.get(n, len(order)), n)):
        section = names.section(ablation)
        lines: list[dict[str, Any]] = []
        for variant, metrics in data["series"][ablation].items():
            values = [number(v) for v in metrics[TREND_METRIC.name]]
            if len(values) != count:
                raise ValueError(f"trend {ablation}/{variant}: {len(values)} values for {count} runs")
            shown_values = [
                TREND_METRIC.shown(v) if v is not None and math.isfinite(v) else None for v in values[-keep:]
            ]
            if any(v is not None for v in shown_values):
                row = names.variant(ablation, variant)
                lines.append({"variant": row, "values": shown_values, "flag": flagged.get((ablation, variant))})
        if lines:
            lines.sort(key=lambda line: line["variant"]["index"])
            panels.append({"name": ablation, "title": heading(section), "lines": lines})
    ids = [str(r["run_id"]) for r in shown]
    base = ids.index(baseline["run_id"]) if baseline and baseline["run_id"] in ids else None
    listed = [
        {
            "run_id": run_id,
            "tick": fmt.date(r.get("started"), short=True),
            "device": r.get("device") or "?",
            "other_machine": not r.get("same_machine", True),
        }
        for run_id, r in zip(ids, shown)
    ]
    return {
        "runs": listed,
        "panels": panels,
        "baseline_index": base,
        "shown": keep,
        "stored": count,
        "plot": keep > 1 and bool(panels),
    }


def build_since(folder: Path, results: dict, sections: list[dict]) -> dict | None:
    """The section's content from FOLDER/regress.json; None without one, ResultsError when malformed."""
    path = folder / REGRESS_FILE
    if not path.exists():
        return None
    data = read_json(path)
    try:
        if not isinstance(data, dict):
            raise TypeError("expected a JSON object")
        current = _run(data["current"])
        if current is None:
            raise TypeError("current is null")
        if current["run_id"] != str(results["run_id"]):
            raise ValueError(f"it compares run {current['run_id']}, this report is run {results['run_id']}")
        baseline, timed = _run(data["baseline"]), data.get("time_baseline")
        if timed is not None and not isinstance(timed.get("nights"), int):
            raise TypeError("time_baseline.nights is not a count of nights")
        names = Names(sections)
        if not isinstance(data["rows"], list):
            raise TypeError("rows is not a list")
        rows = [shaped_row(row, names) for row in data["rows"]]
        # Without a baseline every row is NEW: a table of them all would say nothing the reading does not.
        changes = (
            sorted((r for r in rows if r["status"] != "OK"), key=lambda r: STATUSES.index(r["status"]))
            if baseline
            else []
        )
        notes = data.get("notes") or []
        if not isinstance(notes, list):
            raise TypeError("notes is not a list")
        verdict, mode = str(data.get("verdict") or Verdict.PASS), data.get("mode")
        findings = data.get("findings") or []
        if not isinstance(findings, list):
            raise TypeError("findings is not a list")
        return {
            "verdict": verdict,
            "mode": mode,
            # what changed, as the check states it: the first value that moved in one environment,
            # and whether the failures were accepted (the rows below hold the rest)
            "findings": [
                str(f["text"])
                for f in findings
                if kind_of(f) in (FindingKind.CHANGED_SAME_ENVIRONMENT, FindingKind.ACCEPTED)
            ],
            "reading": reading(rows, baseline, current["profile"], verdict, mode),
            "short": short(rows, baseline, verdict),
            "current": current,
            "baseline": baseline,
            "time_baseline": timed,
            "rows": rows,
            "changes": changes,
            "ok": ok_summary(rows),
            "overview": overview(rows) if baseline else [],
            "overview_columns": [METRICS[name].label for name in OVERVIEW_COLUMNS],  # the cells' order
            "notes": _notes(notes, names),
            "rule": noise_rule(data.get("noise_rule")),
            "stored": data.get("stored"),
            "regressed": verdict == Verdict.FAIL,
            "trend": trend(data["trend"], rows, names, baseline),
            "extra_variants": names.extra,
            "file": str(path),
        }
    except BAD as exc:
        raise ResultsError(f"malformed results file {path}: {type(exc).__name__}: {exc}") from None
