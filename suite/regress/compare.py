"""The nightly comparison itself: a run against its baseline and history, row by row.

    from suite.regress.compare import nightly
    report = nightly("reports/NEW", "~/ablation-history", keep=True)   # dict; ResultsError on bad input

See ``suite.regress`` for the rules (tolerances, spreads, verdict changes, timing).
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from statistics import fmean, stdev

from suite.regress.history import (
    SEED_MEANS,
    ClaimOutcome,
    Run,
    VariantTime,
    earlier_runs,
    find_run,
    history_runs,
    load_run,
    store,
    unstorable_reason,
)
from suite.regress.kinds import NoteKind, RowKind
from suite.spec.metrics import METRICS
from suite.store.files import RESULTS_FILE, ResultsError, atomic_write_json, write_failure

TIME = METRICS["time_s"]
# "time": the name --tolerance and regress.json have always given time_s's tolerance (relative)
TOLERANCE = {**{m: METRICS[m].tolerance for m in SEED_MEANS}, "time": TIME.tolerance}
SPREAD_K = 3.0


def _mean(values: list[float] | None) -> float | None:
    return fmean(values) if values else None


def _spread(key: tuple, metric: str, runs: list[Run], n_now: int) -> float:
    per_run = [r.stats[key][metric] for r in runs if r.stats.get(key, {}).get(metric)]
    finite = [v for v in per_run if all(map(math.isfinite, v))]
    sds = [stdev(v) for v in finite if len(v) > 1]  # pooled: three seeds alone give a shaky sd
    # the latest run's seed count stands for the baseline's
    seed_term = math.sqrt(fmean(s * s for s in sds) * (1 / len(finite[-1]) + 1 / max(n_now, 1))) if sds else 0.0
    means = [fmean(v) for v in finite]
    return max(seed_term, stdev(means) if len(means) > 1 else 0.0)


def _status(ref, cur, allowed: float, higher: bool | None) -> str:
    if higher is None:  # a metric without a direction cannot regress
        raise ValueError("the nightly compares only metrics with a direction")
    if ref is None:
        return "NEW"
    if cur is None:
        return "MISSING"
    if ref == cur:  # also two infinite losses
        return "OK"
    if math.isnan(cur) or math.isnan(ref):
        return "REGRESSED" if math.isnan(cur) else "IMPROVED"
    gain = cur - ref if higher else ref - cur
    return "REGRESSED" if gain < -allowed else "IMPROVED" if gain > allowed else "OK"


def _row(kind, ablation, variant, subject: dict, ref, cur, tolerance, status, **extra) -> dict:
    """One row of the comparison; SUBJECT names what it compares: {"metric": ...} or {"claim": ...}."""
    delta = cur - ref if isinstance(ref, float) and isinstance(cur, float) else None
    return dict(
        kind=kind,
        ablation=ablation,
        variant=variant,
        **subject,
        baseline=ref,
        current=cur,
        delta=delta,
        tolerance=tolerance,
        status=status,
        **extra,
    )


def _one_clock(old: VariantTime | None, new: VariantTime) -> tuple[float | None, float]:
    """Both runs' times by one clock: pytest-benchmark's mean when both have one, else duration_s."""
    if old is not None and old.benchmark_mean_s is not None and new.benchmark_mean_s is not None:
        return old.benchmark_mean_s, new.benchmark_mean_s
    return (old.duration_s if old is not None else None), new.duration_s


def _variant_rows(key: tuple[str, str], current, base, spread_runs, time_base, tol) -> list[dict]:
    rows = []
    for metric in SEED_MEANS:
        ref, cur = _mean(base.stats.get(key, {}).get(metric)), _mean(current.stats.get(key, {}).get(metric))
        n_now = len(current.stats.get(key, {}).get(metric) or ())
        allowed = max(tol[metric], SPREAD_K * _spread(key, metric, spread_runs, n_now))
        status = _status(ref, cur, allowed, METRICS[metric].higher_is_better)
        rows.append(_row(RowKind.METRIC, *key, {"metric": metric}, ref, cur, allowed, status))
    if time_base is not None and key in current.times:
        ref, cur = _one_clock(time_base.times.get(key), current.times[key])
        change = (cur / ref - 1 if ref > 0 else 0.0) if ref is not None else None
        status = "NEW" if ref is None else _status(0.0, change, tol["time"], TIME.higher_is_better)
        rows.append(
            _row(RowKind.TIME, *key, {"metric": TIME.name}, ref, cur, tol["time"], status, relative_delta=change)
        )
    return rows


def _verdict_status(ref: ClaimOutcome | None, cur: ClaimOutcome | None) -> str:
    if ref is None or cur is None:
        return "NEW" if ref is None else "MISSING"
    if ref.outcome == cur.outcome:
        return "OK"
    if ref.asserted and cur.asserted:
        return "REGRESSED" if cur[0] == "FAIL" else "IMPROVED"
    return "CHANGED"


def compare(
    current: Run, earlier: list[Run], base: Run | None, time_base: Run | None, tolerance: dict | None = None
) -> dict:
    """The machine-readable comparison: rows, counts, and the trend over EARLIER plus CURRENT."""
    tol = {**TOLERANCE, **(tolerance or {})}
    ref = base or Run(Path(), "", "", "", "", [], (), (), {}, {}, {})
    spread_runs = earlier if base is None or base.run_id in {r.run_id for r in earlier} else [*earlier, base]
    rows = []
    for name in current.ablations:
        keys = [k for k in dict.fromkeys([*current.stats, *ref.stats]) if k[0] == name]
        for key in keys:
            rows += _variant_rows(key, current, ref, spread_runs, time_base, tol)
        for key in dict.fromkeys(k for k in [*current.verdicts, *ref.verdicts] if k[0] == name):
            old, new = ref.verdicts.get(key), current.verdicts.get(key)
            outcomes = (old and old.outcome, new and new.outcome)
            rows.append(_row(RowKind.CLAIM, name, "-", {"claim": key[1]}, *outcomes, None, _verdict_status(old, new)))
    notes = [
        _note(NoteKind.ABLATION_MISSING, f"not in this run, not compared: {n}", ablation=n)
        for n in ref.ablations
        if n not in current.ablations
    ]
    if time_base is None:
        notes.append(
            _note(NoteKind.TIME_NOT_COMPARED, "time not compared: no earlier run of this profile on this machine")
        )
    counts = Counter(row["status"] for row in rows)
    return {
        "current": _describe(current),
        "baseline": base and _describe(base),
        "time_baseline": time_base and _describe(time_base),
        "tolerance": tol,
        "spread_k": SPREAD_K,
        "rows": rows,
        "counts": dict(counts),
        "regressed": counts["REGRESSED"] > 0,
        "notes": notes,
        "trend": _trend(current, earlier),
    }


def _note(kind: str, text: str, **subject) -> dict:
    """A note of the comparison: its kind and subject for a program, its text for a person."""
    return {"kind": kind, **subject, "text": text}


def _describe(run: Run) -> dict:
    return {
        "run_id": run.run_id,
        "started": run.started,
        "device": run.device,
        "profile": run.profile[0],
        "path": str(run.path),
    }


def _trend(current: Run, earlier: list[Run]) -> dict:
    """Per ablation, variant and key metric: the series over the history, oldest first, then now;
    None where a run lacks the variant, and time only for runs of this machine."""
    runs = [*earlier, current]
    series: dict = {}
    for key in current.stats:
        values = {m: [_mean(r.stats.get(key, {}).get(m)) for r in runs] for m in SEED_MEANS}
        values[TIME.name] = [
            r.times[key].duration_s if key in r.times and r.machine == current.machine else None for r in runs
        ]  # duration_s: every run has one
        series.setdefault(key[0], {})[key[1]] = values
    return {"runs": [{**_describe(r), "same_machine": r.machine == current.machine} for r in runs], "series": series}


def check(
    current: Run, history: Path, baseline: str | None = None, tolerance: dict | None = None, create: bool = False
) -> dict:
    """Find the baseline(s) for CURRENT in HISTORY and compare; ResultsError on bad input."""
    if not (history.is_dir() or create):  # a typo would otherwise pass as "first night"
        raise ResultsError(f"no history folder at {history}")
    runs = history_runs(history, exclude=current.run_id) if history.is_dir() else []
    earlier = earlier_runs(current, runs)
    if baseline is None and (history / RESULTS_FILE).is_file() and runs:
        baseline = str(history)  # a single results folder is an explicit baseline
    if baseline is None:
        same_machine = [r for r in earlier if r.machine == current.machine]
        return compare(
            current, earlier, earlier[-1] if earlier else None, same_machine[-1] if same_machine else None, tolerance
        )
    base = load_run(baseline) if (Path(baseline) / RESULTS_FILE).is_file() else find_run(baseline, runs)
    if base.profile != current.profile:
        raise ResultsError(
            f"baseline {base.run_id} is profile {base.profile}, {current.run_id} is "
            f"{current.profile}: only runs of one profile are compared"
        )
    return compare(current, earlier, base, base if base.machine == current.machine else None, tolerance)


def nightly(
    run_dir, history, baseline: str | None = None, tolerance: dict | None = None, *, keep: bool = False, json_path=None
) -> dict:
    """Compare RUN_DIR with HISTORY, then (KEEP) store it if complete and write the JSON; for the
    CLI and the pytest plugin alike. Raises ResultsError."""
    current = load_run(run_dir)
    report = check(current, Path(history), baseline, tolerance, create=keep)
    report["stored"] = None
    if keep and current.status == "complete":
        report["stored"] = str(store(current.path, history))
    elif keep:
        why = f"not stored: {unstorable_reason(current)}"
        report["notes"].append(
            _note(NoteKind.NOT_STORED, why, run_id=current.run_id, status=current.status, error=current.error)
        )
    if json_path:
        try:
            atomic_write_json(json_path, report)
        except OSError as exc:  # exit 1 means "regressed": an unwritable --json is bad input, one line
            raise ResultsError(f"cannot write the comparison: {write_failure(json_path, exc)}") from None
    return report
