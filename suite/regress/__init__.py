"""Nightly regression check: compare a run with a baseline run or the stored history of earlier runs.

    python -m suite.regress reports/20261126-221500 --history ~/ablation-history --store
    python -m suite.regress reports/NEW --history reports/OLD          # OLD: one baseline results folder
    python -m suite.regress reports/NEW --history hist --baseline 20261120-221500 \\
        --tolerance val_acc=0.03 time=40% --json reports/NEW/regress.json

Exit status: 0 nothing regressed, 1 something did, 2 a missing or malformed file, or a run that
--store refused because it is not complete (one line).
See docs/nightly.md. Per (ablation, variant), against the baseline (``--baseline``, else the latest
earlier complete run of the same profile in the history; other profiles are never compared):

* final val_acc and train_acc (higher is better) and val_loss (lower is better): the mean over
  seeds of the last epoch. Allowed change = max(floor, K * spread), floor = TOLERANCE[metric],
  K = 3, spread = the larger of (a) the standard error of a difference of two seed means,
  sd_seed * sqrt(1/n_base + 1/n_now), sd_seed pooled over the history, and (b) the standard
  deviation of the per-run means over the history. Why both: the seeds are fixed (B*1000+i), so
  an unchanged commit on CPU repeats its numbers and (b) is ~0, yet any harmless change in how the
  RNG is consumed moves a mean by about (a). The floor (two accuracy points, 0.05 of loss) keeps
  variants whose seeds agree to 0.001 from flagging noise; chaotic ones (raw pixels, lr 0.1) get
  a band as wide as their own seed scatter. K = 3 keeps false alarms rare over ~60 comparisons.
* claims: an asserted claim that PASSed and now FAILs is REGRESSED (FAIL -> PASS: IMPROVED). A
  reported claim that flips is CHANGED, never a failure: it is reported because it is not robust.
* training time: pytest-benchmark's mean (benchmark.json) when both runs have one, else
  ``duration_s``; like ``--benchmark-compare-fail=mean:25%``, REGRESSED when more than 25% slower.
  Compared only with a run of the same machine (device type, CPU model and count, GPU model):
  on another one a slow-down says nothing about the code.

NEW: not in the baseline. MISSING: in the baseline, not in this run; not a failure by itself, as
pytest's own exit status already reports a case that crashed.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean, stdev

from suite.metrics import COMPARED, METRICS as METRIC_INFO, metric_value
from suite.results import (BENCHMARK_FILE, RESULTS_FILE, ResultsError, atomic_write_json, load_results,
                           read_benchmark, umask)

METRICS = tuple(m.name for m in COMPARED)
TOLERANCE = {**{m.name: m.tolerance for m in COMPARED}, "time": 0.25}  # time: relative
SPREAD_K = 3.0
BAD = (KeyError, TypeError, IndexError, ValueError, AttributeError)  # what a wrongly shaped file raises


@dataclass
class Run:
    """One results folder, reduced to what is compared (see ``load_run``)."""

    path: Path
    run_id: str
    started: str
    status: str
    device: str
    ablations: list  # the names the run selected, even those that trained nothing
    profile: tuple  # name, train_size, val_size: the same name with other sizes is another profile
    machine: tuple  # device type, cpu, cpu_count, gpu
    stats: dict  # (ablation, variant) -> {metric: [final value per seed]}
    times: dict  # (ablation, variant) -> (pytest-benchmark mean or None, duration_s)
    verdicts: dict  # (ablation, claim text) -> (outcome, asserted)
    error: str | None = None  # why the run ended with status "error"


def load_run(folder: str | os.PathLike) -> Run:
    path = Path(folder)
    path = path.parent if path.name == RESULTS_FILE else path
    data = load_results(path)
    bench = read_benchmark(path) or {}
    try:
        profile, machine, device = data["profile"], data["machine"] or {}, str(data.get("device", "?"))
        if not isinstance(profile, dict):
            profile = {"name": str(profile)}
        return Run(path, str(data["run_id"]), str(data.get("started") or ""), str(data.get("status")), device,
                   list(data["ablations"]),
                   (profile["name"], profile.get("train_size"), profile.get("val_size")),
                   (device.split(":")[0], machine.get("cpu"), machine.get("cpu_count"), machine.get("gpu")),
                   *_extract(data["ablations"], bench), error=data.get("error"))
    except BAD as exc:
        raise ResultsError(f"malformed results file {path / RESULTS_FILE}: {type(exc).__name__} {exc}") from None


def _extract(ablations: dict, bench: dict) -> tuple[dict, dict, dict]:
    stats, times, verdicts = {}, {}, {}
    for name, entry in ablations.items():
        for variant, record in entry["variants"].items():
            stats[name, variant] = {m: [metric_value(run, m) for run in record["runs"]] for m in METRICS}
            times[name, variant] = (bench.get((name, variant)), float(record["duration_s"]))
        for verdict in entry["verdicts"]:
            verdicts[name, verdict["claim"]] = (verdict["outcome"], bool(verdict["asserted"]))
    return stats, times, verdicts


def history_runs(history: Path, exclude: str = "") -> list[Run]:
    """Every results folder under HISTORY (or HISTORY itself) but run EXCLUDE. Hidden folders are
    store()'s unfinished copies."""
    if (history / RESULTS_FILE).is_file():
        found = [history / RESULTS_FILE]
    else:
        found = sorted(p for p in history.rglob(RESULTS_FILE)
                       if not any(part.startswith(".") for part in p.relative_to(history).parts))
    return [run for run in map(load_run, found) if run.run_id != exclude]


def earlier_runs(current: Run, runs: list[Run]) -> list[Run]:
    """Complete runs of the current profile that started before it, oldest first."""
    keep = [r for r in runs if r.profile == current.profile and r.status == "complete"
            and (not current.started or r.started < current.started)]
    return sorted(keep, key=lambda r: (r.started, r.run_id))


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


def _status(ref, cur, allowed: float, higher: bool) -> str:
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


def _row(ablation, variant, metric, ref, cur, tolerance, status, **extra) -> dict:
    delta = cur - ref if isinstance(ref, float) and isinstance(cur, float) else None
    return dict(ablation=ablation, variant=variant, metric=metric, baseline=ref, current=cur, delta=delta,
                tolerance=tolerance, status=status, **extra)


def _variant_rows(key, current, base, spread_runs, time_base, tol) -> list[dict]:
    rows = []
    for metric in METRICS:
        ref, cur = _mean(base.stats.get(key, {}).get(metric)), _mean(current.stats.get(key, {}).get(metric))
        n_now = len(current.stats.get(key, {}).get(metric) or ())
        allowed = max(tol[metric], SPREAD_K * _spread(key, metric, spread_runs, n_now))
        rows.append(_row(*key, metric, ref, cur, allowed, _status(ref, cur, allowed, METRIC_INFO[metric].higher_is_better)))
    if time_base is not None and key in current.times:
        old, cur = time_base.times.get(key), current.times[key]
        clock = 0 if old is not None and old[0] is not None and cur[0] is not None else 1  # one clock for both
        ref, cur = old and old[clock], cur[clock]
        change = (cur / ref - 1 if ref > 0 else 0.0) if ref is not None else None
        status = "NEW" if ref is None else _status(0.0, -change, tol["time"], True)  # slower = a loss
        rows.append(_row(*key, "time_s", ref, cur, tol["time"], status, relative_delta=change))
    return rows


def _verdict_status(ref: tuple | None, cur: tuple | None) -> str:
    if ref is None or cur is None:
        return "NEW" if ref is None else "MISSING"
    if ref[0] == cur[0]:
        return "OK"
    if ref[1] and cur[1]:
        return "REGRESSED" if cur[0] == "FAIL" else "IMPROVED"
    return "CHANGED"


def compare(current: Run, earlier: list[Run], base: Run | None, time_base: Run | None,
            tolerance: dict | None = None) -> dict:
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
            rows.append(_row(name, "-", f"claim: {key[1]}", old and old[0], new and new[0], None,
                             _verdict_status(old, new)))
    notes = [f"not in this run, not compared: {n}" for n in ref.ablations if n not in current.ablations]
    if time_base is None:
        notes.append("time not compared: no earlier run of this profile on this machine")
    counts = Counter(row["status"] for row in rows)
    return {"current": _describe(current), "baseline": base and _describe(base),
            "time_baseline": time_base and _describe(time_base), "tolerance": tol, "spread_k": SPREAD_K,
            "rows": rows, "counts": dict(counts), "regressed": counts["REGRESSED"] > 0, "notes": notes,
            "trend": _trend(current, earlier)}


def _describe(run: Run) -> dict:
    return {"run_id": run.run_id, "started": run.started, "device": run.device, "profile": run.profile[0],
            "path": str(run.path)}


def _trend(current: Run, earlier: list[Run]) -> dict:
    """Per ablation, variant and key metric: the series over the history, oldest first, then now;
    None where a run lacks the variant, and time only for runs of this machine."""
    runs = [*earlier, current]
    series: dict = {}
    for key in current.stats:
        values = {m: [_mean(r.stats.get(key, {}).get(m)) for r in runs] for m in METRICS}
        values["time_s"] = [r.times[key][1] if key in r.times and r.machine == current.machine else None
                            for r in runs]  # duration_s: every run has one
        series.setdefault(key[0], {})[key[1]] = values
    return {"runs": [{**_describe(r), "same_machine": r.machine == current.machine} for r in runs],
            "series": series}


def check(current: Run, history: Path, baseline: str | None = None, tolerance: dict | None = None,
          create: bool = False) -> dict:
    """Find the baseline(s) for CURRENT in HISTORY and compare; ResultsError on bad input."""
    if not (history.is_dir() or create):  # a typo would otherwise pass as "first night"
        raise ResultsError(f"no history folder at {history}")
    runs = history_runs(history, exclude=current.run_id) if history.is_dir() else []
    earlier = earlier_runs(current, runs)
    if baseline is None and (history / RESULTS_FILE).is_file() and runs:
        baseline = str(history)  # a single results folder is an explicit baseline
    if baseline is None:
        same_machine = [r for r in earlier if r.machine == current.machine]
        return compare(current, earlier, earlier[-1] if earlier else None,
                       same_machine[-1] if same_machine else None, tolerance)
    base = load_run(baseline) if (Path(baseline) / RESULTS_FILE).is_file() else _find(baseline, runs)
    if base.profile != current.profile:
        raise ResultsError(f"baseline {base.run_id} is profile {base.profile}, {current.run_id} is "
                           f"{current.profile}: only runs of one profile are compared")
    return compare(current, earlier, base, base if base.machine == current.machine else None, tolerance)


def nightly(run_dir, history, baseline: str | None = None, tolerance: dict | None = None, *,
            keep: bool = False, json_path=None) -> dict:
    """Compare RUN_DIR with HISTORY, then (KEEP) store it if complete and write the JSON; for the
    CLI and the pytest plugin alike. Raises ResultsError."""
    current = load_run(run_dir)
    report = check(current, Path(history), baseline, tolerance, create=keep)
    report["stored"] = None
    if keep and current.status == "complete":
        report["stored"] = str(store(current.path, history))
    elif keep:
        report["notes"].append(f"not stored: {_unstorable(current)}")
    if json_path:
        atomic_write_json(json_path, report)
    return report


def _unstorable(run: Run) -> str:
    """Why RUN is not kept as a baseline: a broken run must never become what later nights pass against."""
    why = f" ({run.error})" if run.status == "error" and run.error else ""
    return f"the run {run.run_id} is {run.status!r}{why}, only complete runs are kept"


def _find(run_id: str, runs: list[Run]) -> Run:
    for run in runs:
        if run.run_id == run_id:
            return run
    raise ResultsError(f"no baseline run {run_id!r}: neither a results folder nor a run id in the history")


def store(run_dir: str | os.PathLike, history_dir: str | os.PathLike) -> Path:
    """Copy a complete run to HISTORY/<profile>-<device>/<run_id>/ (results.json, benchmark.json).

    Copied into a hidden folder, then renamed: a reader never sees half a run."""
    run = load_run(run_dir)
    if run.status != "complete":
        raise ResultsError(f"not stored: {_unstorable(run)}")
    dest = Path(history_dir) / f"{_slug(run.profile[0])}-{_slug(run.device)}" / _slug(run.run_id)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}."))
        staging.chmod(0o777 & ~umask())  # mkdtemp's 0700 would hide the history from a shared CI account
        for name in (RESULTS_FILE, BENCHMARK_FILE):
            if (run.path / name).is_file():
                shutil.copy2(run.path / name, staging / name)
        if dest.exists():  # storing a run again replaces its copy
            old = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}.old."))
            os.rename(dest, old / "run")
            os.rename(staging, dest)
            shutil.rmtree(old)
        else:
            os.rename(staging, dest)
    except OSError as exc:
        raise ResultsError(f"cannot store {run.path} in {history_dir}: {exc}") from None
    return dest


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "", text) or "unknown"
