"""The history of nightly runs: a results folder reduced to what is compared, reading and storing one.

    from suite.regress.history import load_run, read_history, store
    run = load_run("reports/20261126-221500")        # Run; ResultsError on a bad file
    runs, skipped = read_history(Path("~/ablation-history"))   # skipped: warnings, one line each
    store(run, "~/ablation-history", accepted="new trainer")   # refuses an id already stored

See ``suite.regress`` for what is compared and docs/nightly.md for the layout of a history.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from suite.regress import cost, environment, exact
from suite.spec.claims import stored_outcome_read_today
from suite.spec.metrics import COMPARED, metric_value
from suite.store.files import (
    BENCHMARK_FILE,
    RESULTS_FILE,
    ResultsError,
    atomic_write_json,
    first_line,
    read_json,
    umask,
)
from suite.store.load import run_loaded
from suite.store.records import SCHEMA
from suite.store.results import KILLED, KILLED_TEXT, load_results, run_status

SEED_MEANS = tuple(m.name for m in COMPARED if m.of_runs)  # final metrics compared per seed
ACCEPTED_FILE = "accepted.json"  # beside a stored run accepted with --accept: why, and what it changed
BAD = (KeyError, TypeError, IndexError, ValueError, AttributeError)  # what a wrongly shaped file raises


class ClaimOutcome(NamedTuple):
    outcome: str  # PASS, FAIL, REPRODUCED, NOT REPRODUCED, ...
    asserted: bool  # an asserted claim's flip fails the nightly; a reported one's is only CHANGED


class ClaimStatistic(NamedTuple):
    """What a claim measured on each seed (its verdict's ``per_seed``) and which way is worse."""

    metric: str  # the metric the statistic reads (its unit gives the shift floor)
    per_seed: list[float]
    higher_is_better: bool | None  # from the claim's bound: at_least only → True, at_most only → False
    relative: bool  # a ratio to the baseline variant's value
    middle: float | None  # a claim with both bounds: the middle of its band (away from it is worse)


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
    environment: dict  # suite.regress.environment.fingerprint: equal → every value must repeat
    machine: tuple  # suite.regress.environment.speed_machine: equal → times are comparable
    loaded: str | None  # why this run's times say nothing (another job held the CPUs), or None
    stats: dict  # (ablation, variant) -> {metric: [final value per seed]}
    claims: dict  # (ablation, claim text) -> ClaimStatistic
    verdicts: dict  # (ablation, claim text) -> ClaimOutcome
    values: dict  # every stored per-seed value, in the file's order (suite.regress.exact)
    costs: dict  # (ablation, variant) -> µs per run-step of its trained runs; [] where all were served
    error: str | None = None  # why the run ended with status "error"
    accepted: dict | None = None  # a stored run's acceptance: {"reason", "changed"}


def load_run(folder: str | os.PathLike) -> Run:
    path = Path(folder)
    path = path.parent if path.name == RESULTS_FILE else path
    data = load_results(path)
    try:
        profile = data["profile"]
        device = str(data.get("device", "?"))
        accepted = read_json(path / ACCEPTED_FILE) if (path / ACCEPTED_FILE).is_file() else None
        return Run(
            path,
            str(data["run_id"]),
            str(data.get("started") or ""),
            run_status(path, str(data.get("status"))),  # a killed run's 'running' file is 'killed'
            device,
            list(data["ablations"]),
            (profile["name"], profile.get("train_size"), profile.get("val_size")),
            environment.fingerprint(data),
            environment.speed_machine(data),
            run_loaded(data),
            *_extract(data["ablations"]),
            exact.values(data["ablations"]),
            cost.per_variant(data),
            error=data.get("error"),
            accepted=accepted,
        )
    except BAD as exc:
        raise ResultsError(f"malformed results file {path / RESULTS_FILE}: {type(exc).__name__} {exc}") from None


def _extract(ablations: dict) -> tuple[dict, dict, dict]:

    stats, claims, verdicts = {}, {}, {}
    for name, entry in ablations.items():
        for variant, record in entry["variants"].items():
            stats[name, variant] = {m: [metric_value(run, m) for run in record["runs"]] for m in SEED_MEANS}
        bounds = {claim["text"]: claim for claim in entry["claims"]}
        for verdict in entry["verdicts"]:
            claim = bounds[verdict["claim"]]
            low, high = claim.get("at_least"), claim.get("at_most")
            direction = None if (low is None) == (high is None) else low is not None
            middle = (low + high) / 2 if low is not None and high is not None else None
            claims[name, verdict["claim"]] = ClaimStatistic(
                claim["metric"], list(verdict["per_seed"]), direction, bool(claim.get("relative")), middle
            )
            # re-read with today's rule: a file stored before INCONCLUSIVE existed says REPRODUCED
            # where the seeds straddle the bound, a change of reading, not of the code under test
            outcome = stored_outcome_read_today(verdict, claim)
            verdicts[name, verdict["claim"]] = ClaimOutcome(outcome, bool(verdict["asserted"]))
    return stats, claims, verdicts


def read_history(history: Path) -> tuple[list[Run], list[str]]:
    """Every stored run under HISTORY (or HISTORY itself, a results folder), and one warning per
    results file of another schema, which is skipped (a newer version wrote it). Hidden folders are
    store()'s unfinished copies. Two stored runs with one id: ResultsError naming both."""
    if (history / RESULTS_FILE).is_file():
        found = [history / RESULTS_FILE]
    else:
        found = sorted(
            p
            for p in history.rglob(RESULTS_FILE)
            if not any(part.startswith(".") for part in p.relative_to(history).parts)
        )
    runs: list[Run] = []
    skipped: list[str] = []
    where: dict[str, Path] = {}
    for path in found:
        schema = _schema(path)
        if schema != SCHEMA:
            skipped.append(f"skipped {path}: schema {schema}, this version reads {SCHEMA}")
            continue
        run = load_run(path)
        if run.run_id in where:
            raise ResultsError(f"run id {run.run_id} is stored twice in the history: {where[run.run_id]} and {path}")
        where[run.run_id] = path
        runs.append(run)
    return runs, skipped


def _schema(path: Path):
    data = read_json(path)
    return data.get("schema") if isinstance(data, dict) else None


def history_runs(history: Path) -> list[Run]:
    """The stored runs alone (read_history without its warnings)."""
    return read_history(history)[0]


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
    why = f" ({first_line(run.error)})" if run.status == "error" and run.error else ""
    if run.status == KILLED:
        return f"the run {run.run_id} {KILLED_TEXT}, only complete runs are kept"
    return f"the run {run.run_id} is {run.status!r}{why}, only complete runs are kept"


def find_run(run_id: str, runs: list[Run]) -> Run:
    for run in runs:
        if run.run_id == run_id:
            return run
    raise ResultsError(f"no baseline run {run_id!r}: neither a results folder nor a run id in the history")


class Interrupted(Exception):
    """SIGTERM arrived while a run was being stored."""


@contextmanager
def _sigterm_raises():
    """SIGTERM during a store raises Interrupted (so the staging copy is removed) instead of
    killing the process half-way; only the main thread can set a handler."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Interrupted

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def store(run: Run | str | os.PathLike, history_dir: str | os.PathLike, accepted: dict | None = None) -> Path:
    """Copy a complete RUN to HISTORY/<profile>-<device>/<run_id>/ (results.json, benchmark.json,
    and accepted.json when ACCEPTED). A run id already in the history is refused, never replaced.

    Crash-safe: the copy is made in a hidden folder beside the destination and renamed into place
    in one step, so a reader sees the previous history until the new run is complete; a store
    killed before the rename leaves a hidden folder that readers skip and the next store removes.
    """
    run = run if isinstance(run, Run) else load_run(run)
    if run.status != "complete":
        raise ResultsError(f"not stored: {unstorable_reason(run)}")
    history = Path(history_dir)
    if history.is_dir():
        stored = {r.run_id: r.path for r in read_history(history)[0]}
        if run.run_id in stored:
            raise ResultsError(f"not stored: run {run.run_id} is already in the history at {stored[run.run_id]}")
    dest = history / f"{_slug(run.profile[0])}-{_slug(run.device)}" / _slug(run.run_id)
    staging = None
    try:
        with _sigterm_raises():
            dest.parent.mkdir(parents=True, exist_ok=True)
            for leftover in dest.parent.glob(f".{dest.name}.*"):  # a store killed before its rename
                shutil.rmtree(leftover, ignore_errors=True)
            staging = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}."))
            staging.chmod(0o777 & ~umask())  # mkdtemp's 0700 would hide the history from a shared CI account
            for name in (RESULTS_FILE, BENCHMARK_FILE):
                if (run.path / name).is_file():
                    shutil.copy2(run.path / name, staging / name)
            if accepted:
                atomic_write_json(staging / ACCEPTED_FILE, accepted)
            os.rename(staging, dest)  # fails, rather than merging, where dest appeared meanwhile
            staging = None
    except Interrupted:
        raise ResultsError(f"not stored: interrupted by SIGTERM; the history at {history} is as before") from None
    except OSError as exc:
        raise ResultsError(f"cannot store {run.path} in {history}: {exc}") from None
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    return dest


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "", text) or "unknown"
