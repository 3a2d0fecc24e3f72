"""The history of nightly runs: a results folder reduced to what is compared, and storing one.

    from suite.regress.history import load_run, store
    run = load_run("reports/20261126-221500")      # Run; ResultsError on a bad file
    store(run.path, "~/ablation-history")            # only complete runs

See ``suite.regress`` for what is compared and docs/nightly.md for the layout of a history.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from suite.spec.metrics import COMPARED, metric_value
from suite.store.files import BENCHMARK_FILE, RESULTS_FILE, ResultsError, umask
from suite.store.results import KILLED, KILLED_TEXT, load_results, read_benchmark, run_status

SEED_MEANS = tuple(m.name for m in COMPARED if m.of_runs)  # compared as means over seeds; time per variant
BAD = (KeyError, TypeError, IndexError, ValueError, AttributeError)  # what a wrongly shaped file raises


class VariantTime(NamedTuple):
    """How long a variant trained, by both clocks: a comparison uses one clock for both runs."""

    benchmark_mean_s: float | None  # pytest-benchmark's mean, when benchmark.json has the variant
    duration_s: float  # results.json's: every run has one


class ClaimOutcome(NamedTuple):
    outcome: str  # PASS, FAIL, REPRODUCED, NOT REPRODUCED, ...
    asserted: bool  # an asserted claim's flip fails the nightly; a reported one's is only CHANGED


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
    times: dict  # (ablation, variant) -> VariantTime
    verdicts: dict  # (ablation, claim text) -> ClaimOutcome
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
        return Run(
            path,
            str(data["run_id"]),
            str(data.get("started") or ""),
            run_status(path, str(data.get("status"))),  # a killed run's 'running' file is 'killed'
            device,
            list(data["ablations"]),
            (profile["name"], profile.get("train_size"), profile.get("val_size")),
            (device.split(":")[0], machine.get("cpu"), machine.get("cpu_count"), machine.get("gpu")),
            *_extract(data["ablations"], bench),
            error=data.get("error"),
        )
    except BAD as exc:
        raise ResultsError(f"malformed results file {path / RESULTS_FILE}: {type(exc).__name__} {exc}") from None


def _extract(ablations: dict, bench: dict) -> tuple[dict, dict, dict]:
    stats, times, verdicts = {}, {}, {}
    for name, entry in ablations.items():
        for variant, record in entry["variants"].items():
            stats[name, variant] = {m: [metric_value(run, m) for run in record["runs"]] for m in SEED_MEANS}
            times[name, variant] = VariantTime(bench.get((name, variant)), float(record["duration_s"]))
        for verdict in entry["verdicts"]:
            verdicts[name, verdict["claim"]] = ClaimOutcome(verdict["outcome"], bool(verdict["asserted"]))
    return stats, times, verdicts


def history_runs(history: Path, exclude: str = "") -> list[Run]:
    """Every results folder under HISTORY (or HISTORY itself) but run EXCLUDE. Hidden folders are
    store()'s unfinished copies."""
    if (history / RESULTS_FILE).is_file():
        found = [history / RESULTS_FILE]
    else:
        found = sorted(
            p
            for p in history.rglob(RESULTS_FILE)
            if not any(part.startswith(".") for part in p.relative_to(history).parts)
        )
    return [run for run in map(load_run, found) if run.run_id != exclude]


def earlier_runs(current: Run, runs: list[Run]) -> list[Run]:
    """Complete runs of the current profile that started before it, oldest first."""
    keep = [
        r
        for r in runs
        if r.profile == current.profile
        and r.status == "complete"
        and (not current.started or r.started < current.started)
    ]
    return sorted(keep, key=lambda r: (r.started, r.run_id))


def unstorable_reason(run: Run) -> str:
    """Why RUN is not kept as a baseline: a broken run must never become what later nights pass against."""
    why = f" ({run.error})" if run.status == "error" and run.error else ""
    if run.status == KILLED:
        return f"the run {run.run_id} {KILLED_TEXT}, only complete runs are kept"
    return f"the run {run.run_id} is {run.status!r}{why}, only complete runs are kept"


def find_run(run_id: str, runs: list[Run]) -> Run:
    for run in runs:
        if run.run_id == run_id:
            return run
    raise ResultsError(f"no baseline run {run_id!r}: neither a results folder nor a run id in the history")


def store(run_dir: str | os.PathLike, history_dir: str | os.PathLike) -> Path:
    """Copy a complete run to HISTORY/<profile>-<device>/<run_id>/ (results.json, benchmark.json).

    Copied into a hidden folder, then renamed: a reader never sees half a run."""
    run = load_run(run_dir)
    if run.status != "complete":
        raise ResultsError(f"not stored: {unstorable_reason(run)}")
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
