"""Loading a run's results folder: its results file through the records, its benchmark file.

    from suite.store.results import load_results, load_run
    run = load_run("reports/20261126-221500")          # -> RunResults, or ResultsError
    results = load_results("reports/20261126-221500")  # -> the same, checked, as the file's dict

A run writes ``reports/<run-id>/results.json`` (rewritten atomically after each case, so a
killed run leaves the last complete version) and pytest-benchmark's ``benchmark.json`` beside
it. No torch here: the report reads results with this module alone.
"""

from __future__ import annotations

import os
from pathlib import Path

from suite.store.files import BENCHMARK_FILE, RESULTS_FILE, ResultsError, read_json
from suite.store.records import RunResults


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
    """Load and check a run's results.json; FOLDER may also be the file itself."""
    path = Path(folder)
    if path.is_dir():
        path = path / RESULTS_FILE
    return RunResults.from_json(read_json(path), path)


def load_results(folder: str | os.PathLike) -> dict:
    """The checked results file as JSON data (``load_run(folder).to_json()``), for readers of dicts."""
    return load_run(folder).to_json()
