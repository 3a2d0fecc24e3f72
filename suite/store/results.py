"""Loading a run's results folder: its results file through the records, its benchmark file.

    from suite.store.results import load_results, load_run
    run = load_run("reports/20261126-221500")          # -> RunResults, or ResultsError
    results = load_results("reports/20261126-221500")  # -> the same, checked, as the file's dict

A run writes ``reports/<run-id>/results.json`` (rewritten atomically after each case, so a
killed run leaves the last complete version) and pytest-benchmark's ``benchmark.json`` beside
it. No torch here: the report reads results with this module alone.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from suite.store.files import BENCHMARK_FILE, RESULTS_FILE, ResultsError, read_json
from suite.store.folder import writer_alive
from suite.store.records import AblationEntry, AblationStatus, RunResults, RunStatus

WORKERS_DIR = "workers"  # a pytest-xdist run's folder: workers/<id>.json, merged by the controller at the end
# A reader's status, never stored: the results file says "running", but no process writes its
# folder any more. A run ends so only when its process is killed without a word.
KILLED = "killed"
KILLED_TEXT = "ended without a status (killed?)"


def read_benchmark(folder: str | os.PathLike) -> dict | None:
    """{(ablation, variant): mean seconds} from the run's pytest-benchmark file; None if it has none.

    The plugin sets each benchmark's group to the ablation and ``extra_info.variant``; benchmarks
    without a variant are not the suite's and are skipped.
    """
    path = Path(folder) / BENCHMARK_FILE
    if not path.exists():
        return None
    data = read_json(path)
    try:
        times = {}
        for bench in data["benchmarks"]:
            params = bench.get("params") or {}
            ablation = params.get("ablation") or bench.get("group")
            variant = params.get("variant") or (bench.get("extra_info") or {}).get("variant")
            if ablation and variant:
                times[(ablation, variant)] = float(bench["stats"]["mean"])
        return times
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ResultsError(f"malformed benchmark file {path}: {type(exc).__name__}: {exc}") from None


def load_run(folder: str | os.PathLike) -> RunResults:
    """Load and check a run's results.json; FOLDER may also be the file itself.

    A pytest-xdist run that has not ended (still running, or killed) keeps what its workers
    finished in workers/*.json until its controller merges them and writes results.json at the
    end: they are merged in here (a folder with worker files only reads as the run they make up),
    so that no reader misses what a killed controller never merged.
    """
    path = Path(folder)
    if path.is_dir():
        path = path / RESULTS_FILE
    workers = sorted((path.parent / WORKERS_DIR).glob("*.json")) if path.name == RESULTS_FILE else []
    if workers and not path.exists():  # a controller writes its file only at the end
        # the run as its controller would write it: still running (a worker that finished its own
        # share says "complete" for its part only), made of every worker's part
        first = _load(workers[0])
        run = dataclasses.replace(
            first, worker_id=None, ablations={}, extras={}, workers=None, status=RunStatus.RUNNING
        )
        run.finished = run.error = run.stop = None
    else:
        run = _load(path)
    if run.status == RunStatus.RUNNING and run.worker_id is None:
        merge_workers(run, [_load(part) for part in workers])
    return run


def _load(path: Path) -> RunResults:
    return RunResults.from_json(read_json(path), path)


def merge_workers(run: RunResults, parts: list[RunResults]) -> None:
    """Fold the pytest-xdist workers' results PARTS into RUN (the controller's), in place.

    Of the entries of one ablation the most advanced is kept (judged, then the most variants,
    then started at all): every worker lists every selected ablation, and when pytest-xdist
    splits an ablation's cases over workers, a worker that trained one of its variants must not
    hide the one that judged it. Verdicts are not judged here (the session judges, the report
    judges what is unjudged).
    """

    def advance(entry: AblationEntry) -> tuple[bool, int, bool]:
        return bool(entry.verdicts), len(entry.variants), entry.status != AblationStatus.NOT_RUN

    for part in parts:
        for name, entry in part.ablations.items():
            mine = run.ablations.get(name)
            if mine is None or advance(entry) >= advance(mine):
                run.ablations[name] = entry
        run.extras.update(part.extras)
        if not run.machine:  # the controller trained nothing itself
            run.machine, run.device = dict(part.machine), part.device
        run.workers = {**(run.workers or {}), str(part.worker_id): str(part.device)}
    if parts and run.machine:
        for when in ("load_start", "load_end"):  # the workers trained: their threads' times, not the controller's
            run.machine[when] = _summed_load([part.machine.get(when) for part in parts])


def _summed_load(samples: list) -> dict:
    """One load sample of the workers together: their threads' run and wait seconds added (so the
    nightly's share of time spent waiting for a CPU is over every worker), the first's load average."""
    known = [s for s in samples if isinstance(s, dict)]
    merged = dict(known[0]) if known else {}
    if known and len(known) == len(samples) and all("run_s" in s and "wait_s" in s for s in known):
        merged.update(run_s=sum(s["run_s"] for s in known), wait_s=sum(s["wait_s"] for s in known))
    else:  # a worker without schedstat: no share can be formed over all of them
        merged.pop("run_s", None), merged.pop("wait_s", None)
    return merged


def run_status(folder: str | os.PathLike, stored: str) -> str:
    """A run's status as a reader should take it: STORED (its results file's), except that a
    'running' file in a folder no live process writes is KILLED."""
    path = Path(folder)
    home = path if path.is_dir() else path.parent
    if stored == RunStatus.RUNNING and not writer_alive(home):
        return KILLED
    return stored


def load_results(folder: str | os.PathLike) -> dict:
    """The checked results file as JSON data (``load_run(folder).to_json()``), for readers of dicts."""
    return load_run(folder).to_json()
