"""A run stopped by SIGTERM records why, and ``--ablation-resume`` finishes it as if it had not stopped.

    pytest tests/test_resume.py -q

The subprocess test trains three ablations on random images (tests.helpers.FAST_WORKBENCH, one
seed, seconds): once straight through, once stopped by SIGTERM while "optimizer/adam" trains
(after its first epoch) and then resumed with the command the run prints. On the CPU training is
bitwise reproducible, so the resumed run must hold the very verdicts and per-seed values of the
unstopped one. The other tests check the records and the refusals in process.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from suite.harness.ending import merge_benchmarks
from suite.harness.resume import stored_run
from suite.report.content import build
from suite.store.files import ResultsError, atomic_write_json, read_json
from suite.store.folder import RunFolderLock
from suite.store.records import RunResults
from suite.store.stops import StopRecord, resume_command
from suite.store.validation import Bad
from tests.helpers import FAST_WORKBENCH, REPO, SAMPLE

SELECTION = "scaling or optimizer or depth"  # 7 variants; optimizer/sgd is served from scaling/scaled's run

# Stops HOLD_AT ("ablation/variant") after the first epoch it reports, until the test's signal.
HOLD = """
import os, pathlib, time
import suite.engine.workbench

_original = suite.engine.workbench.Workbench.run_variant


def run_variant(self, ablation, variant, seeds, on_epoch=None):
    def report(trained, seed, epoch, row):
        if on_epoch:
            on_epoch(trained, seed, epoch, row)
        if os.environ.get("HOLD_AT") == f"{ablation.name}/{trained}":
            pathlib.Path(os.environ["HOLD_FILE"]).touch()
            time.sleep(600)

    return _original(self, ablation, variant, seeds, report)


suite.engine.workbench.Workbench.run_variant = run_variant
"""


def pytest_command(tmp_path: Path, *args: str) -> list[str]:
    return [
        *(sys.executable, "-m", "pytest", "-p", "suite.harness.plugin", "-p", "no:cacheprovider", "-p", "no:xdist"),
        *("--ablation-out", str(tmp_path / "reports"), *args),
    ]


def suite_run(tmp_path: Path, *args: str, hold: str | None = None) -> subprocess.Popen:
    """The suite in a child process, in TMP_PATH (whose conftest fakes the data); HOLD: stop there."""
    (tmp_path / "conftest.py").write_text(FAST_WORKBENCH + HOLD)
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1", HOLD_FILE=str(tmp_path / "held"))
    env.pop("CI", None)
    env.pop("HOLD_AT", None)
    if hold:
        env["HOLD_AT"] = hold
    command = pytest_command(tmp_path, *args)
    return subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finished(child: subprocess.Popen) -> tuple[int, str]:
    out, _ = child.communicate(timeout=240)
    return child.returncode, out


def selected(run_id: str) -> list[str]:
    return ["--ablation-seeds", "1", "--ablation-run-id", run_id, "--pyargs", "suite.cases", "-k", SELECTION]


def measured(results: dict) -> dict:
    """Every verdict and every per-seed history value (but the wall clock) of a results file."""
    return {
        name: {
            "status": entry["status"],
            "verdicts": [(v["claim"], v["outcome"], v["per_seed"], v["mean"], v["spread"]) for v in entry["verdicts"]],
            "runs": {
                variant: [
                    (run["seed"], {k: v for k, v in run["history"].items() if k != "wall_s"}, run["weight_abs_mean"])
                    for run in record["runs"]
                ]
                for variant, record in entry["variants"].items()
            },
        }
        for name, entry in results["ablations"].items()
    }


def benchmarks(folder: Path) -> dict[str, dict]:
    return {bench["name"]: bench["stats"] for bench in read_json(folder / "benchmark.json")["benchmarks"]}


@pytest.mark.subprocess
def test_a_run_stopped_by_sigterm_and_resumed_equals_the_run_never_stopped(tmp_path):
    code, out = finished(suite_run(tmp_path, *selected("straight")))
    assert code == pytest.ExitCode.TESTS_FAILED, out  # random images: the claims fail, the run completes
    straight = read_json(tmp_path / "reports" / "straight" / "results.json")
    assert straight["status"] == "complete"

    child = suite_run(tmp_path, *selected("r1"), hold="optimizer/adam")
    deadline = time.monotonic() + 120
    while not (tmp_path / "held").exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert child.poll() is None, child.communicate()[0]
    child.send_signal(signal.SIGTERM)
    code, out = finished(child)
    folder = tmp_path / "reports" / "r1"
    assert code == pytest.ExitCode.INTERRUPTED and "Traceback" not in out, out
    stopped = read_json(folder / "results.json")
    assert stopped["status"] == "interrupted"
    assert stopped["stop"] == {
        **stopped["stop"],
        **dict(cause="signal", signal="SIGTERM", ablation="optimizer", variant="adam", seed=0, epoch=1),
        **dict(variants_stored=3, variants_planned=7),
    }
    assert [stopped["ablations"][n]["status"] for n in ("optimizer", "depth")] == ["interrupted", "not run"]
    command = resume_command(folder)
    assert f"finish it with: {command}" in out
    first_part = benchmarks(folder)
    assert sorted(first_part) == [
        "test_variant[optimizer-sgd]",
        "test_variant[scaling-raw]",
        "test_variant[scaling-scaled]",
    ]
    report = build(folder)  # the interrupted run's report: what it did, what stopped it, how to finish it
    sections = {s["name"]: s for s in report["sections"]}
    assert (
        "“Adam”, seed 0, epoch 1 done" in sections["optimizer"]["stopped"] and "SIGTERM" in report["scoreboard"].cause
    )
    assert "1 of 2 variants stored (“SGD”)" in sections["optimizer"]["stopped"]
    assert [s["name"] for s in report["not_run"]["sections"]].count("depth") == 1
    assert "depth" not in [s["name"] for s in report["shown"]] and report["title"]["resume"] == command

    refused = subprocess.run(
        pytest_command(tmp_path, *selected("r1")), cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(REPO)), text=True,
        capture_output=True, timeout=120,
    )  # fmt: skip
    assert refused.returncode == pytest.ExitCode.USAGE_ERROR and "already holds an earlier run" in refused.stdout

    # The documented command, with the child's way of naming the cases (its folder has no suite/).
    args = shlex.split(command)[2:]
    code, out = finished(suite_run(tmp_path, "--pyargs", "suite.cases", *args[:2], *args[4:]))
    assert code == pytest.ExitCode.TESTS_FAILED and "Traceback" not in out, out
    resumed = read_json(folder / "results.json")
    assert resumed["status"] == "complete" and "stop" not in resumed
    assert [(r["status"], r["stop"]["signal"], r["missing"][0]) for r in resumed["resumes"]] == [
        ("interrupted", "SIGTERM", "optimizer/adam")
    ]
    assert measured(resumed) == measured(straight)
    assert "3 skipped" in out  # the variants of the first part: trained and timed before the stop
    merged = benchmarks(folder)
    assert sorted(merged) == sorted(benchmarks(tmp_path / "reports" / "straight"))  # one entry per variant test
    assert all(merged[name] == stats for name, stats in first_part.items())  # the first part's own timings
    board = build(folder)["scoreboard"]
    assert board.status_text.startswith("complete, resumed once at ") and "SIGTERM" in board.status_text
    assert any(row["label"] == "Resumed" for row in build(folder)["reading"])


# -- refusals, in process -------------------------------------------------------------------------


def config_for(root: Path, run_id: str, **options) -> SimpleNamespace:
    """What stored_run reads of a pytest config: the --ablation-* options (None where not given)."""
    values = {"ablation_resume": run_id, "ablation_out": str(root), **options}
    return SimpleNamespace(getoption=lambda name: values.get(name), option=SimpleNamespace(numprocesses=None))


def stopped_copy(root: Path, run_id: str = "r1", **changes) -> Path:
    """The ci-sample as a run stopped by SIGTERM, in ROOT/RUN_ID."""
    data = read_json(SAMPLE / "results.json")
    data.update(status="interrupted", run_id=run_id, **changes)
    data["stop"] = {"cause": "signal", "signal": "SIGTERM", "when": data["finished"]}
    atomic_write_json(root / run_id / "results.json", data)
    return root / run_id


def refusal(root: Path, run_id: str, **options) -> str:
    with pytest.raises(pytest.UsageError) as caught:
        stored_run(config_for(root, run_id, **options))
    (line,) = caught.value.args
    assert "\n" not in line
    return line


def test_a_resume_takes_a_stopped_run_and_its_settings(tmp_path):
    folder = stopped_copy(tmp_path)
    found, run = stored_run(config_for(tmp_path, "r1", ablation_profile="ci", ablation_seeds=len(run_seeds(folder))))
    assert found == folder and run.stop is not None and run.stop.signal == "SIGTERM"
    assert stored_run(config_for(tmp_path, None)) is None


def run_seeds(folder: Path) -> list[int]:
    return read_json(folder / "results.json")["seeds"]


def test_a_resume_is_refused_in_one_line_for_a_complete_missing_live_or_conflicting_run(tmp_path):
    stopped_copy(tmp_path)
    assert refusal(tmp_path, "nothing-here").endswith("holds no results.json")
    atomic_write_json(tmp_path / "done" / "results.json", read_json(SAMPLE / "results.json"))
    assert "the run is complete; only an interrupted, errored or killed run is resumed" in refusal(tmp_path, "done")
    assert "started with --ablation-profile ci, this command asks for book" in refusal(
        tmp_path, "r1", ablation_profile="book"
    )
    assert "--ablation-seeds 2, this command asks for 3" in refusal(tmp_path, "r1", ablation_seeds=3)
    assert "--ablation-device cpu, this command asks for cuda" in refusal(tmp_path, "r1", ablation_device="cuda")
    assert "--ablation-base-seed 0, this command asks for 7" in refusal(tmp_path, "r1", ablation_base_seed=7)
    assert "keeps its own id" in refusal(tmp_path, "r1", ablation_run_id="r2")
    assert "without '/'" in refusal(tmp_path, "../r1")
    lock = RunFolderLock.reopen(tmp_path / "r1")  # a live writer: this process
    try:
        with pytest.raises(ResultsError, match="another pytest process is writing into"):
            RunFolderLock.reopen(tmp_path / "r1")
    finally:
        lock.release()


@pytest.mark.subprocess
def test_a_refused_resume_exits_with_a_usage_error_and_no_traceback(tmp_path):
    stopped_copy(tmp_path / "reports")
    before = (tmp_path / "reports" / "r1" / "results.json").read_bytes()
    proc = subprocess.run(
        pytest_command(tmp_path, "--pyargs", "suite.cases", "--ablation-resume", "r1", "--ablation-profile", "book"),
        cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(REPO)), text=True, capture_output=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == pytest.ExitCode.USAGE_ERROR, proc.stdout + proc.stderr
    assert "--ablation-resume r1: the run was started with --ablation-profile ci" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert (tmp_path / "reports" / "r1" / "results.json").read_bytes() == before  # nothing written


# -- the records ----------------------------------------------------------------------------------

STOP = {"cause": "signal", "signal": "SIGTERM", "when": "2026-12-01T13:24:00+00:00", "ablation": "dropout"}
STOP.update(variant="p0.25", seed=1, epoch=3, variants_stored=5, variants_planned=12)


def test_a_stop_record_reads_back_what_it_wrote():
    stop = StopRecord.from_json(STOP, "stop")
    assert stop.to_json() == STOP and stop.cause == "signal"
    assert StopRecord.from_json({"cause": "error", "reason": "disk full", "when": "t"}, "stop").to_json() == {
        "cause": "error",
        "reason": "disk full",
        "when": "t",
    }


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"cause": "meteor"}, "stop.cause: unknown stop cause 'meteor'"),
        ({"signal": None}, "stop.signal: a stop by a signal names it"),
        ({"cause": "error", "signal": None}, "stop.reason: a stop by 'error' gives its reason"),
        ({"ablation": None}, "stop.variant: a variant without its ablation"),
        ({"epoch": -1}, "stop.epoch: -1 is less than 0"),
        ({"seed": "1"}, "stop.seed: expected an integer, found str"),
        ({"variants_stored": 13}, "stop.variants_stored: 13 variants stored of 12 planned"),
        ({"when": None}, "stop.when: expected a time, found NoneType"),
        ({"signa": "SIGTERM"}, "stop: unknown key 'signa'"),
    ],
)
def test_a_stop_record_refuses_what_it_cannot_be(change, problem):
    with pytest.raises(Bad) as caught:
        StopRecord.from_json({**STOP, **change}, "stop")
    assert str(caught.value) == problem


def test_a_results_file_without_stop_loads_and_a_complete_one_has_none():
    data = read_json(SAMPLE / "results.json")
    assert "stop" not in data and RunResults.from_json(data, "x").stop is None
    with pytest.raises(ResultsError, match="stop: a 'complete' run records no stop"):
        RunResults.from_json({**data, "stop": STOP}, "x")
    bad = {**data, "status": "complete", "resumes": [{"when": "t", "status": "complete"}]}
    with pytest.raises(ResultsError, match=r"resumes\[0\].status: an interrupted, errored or killed run is resumed"):
        RunResults.from_json(bad, "x")
    resumed = {**data, "resumes": [{"when": "t", "status": "interrupted", "stop": STOP, "missing": ["depth/h2"]}]}
    assert RunResults.from_json(resumed, "x").to_json()["resumes"] == resumed["resumes"]


def test_benchmarks_merge_by_test_name_the_new_part_winning():
    earlier = {"benchmarks": [{"name": "a", "stats": 1}, {"name": "b", "stats": 2}], "datetime": "then"}
    new = {"benchmarks": [{"name": "b", "stats": 3}, {"name": "c", "stats": 4}], "datetime": "now"}
    merged = merge_benchmarks(earlier, new)
    assert merged["datetime"] == "now"
    assert [(b["name"], b["stats"]) for b in merged["benchmarks"]] == [("a", 1), ("b", 3), ("c", 4)]
    assert json.loads(json.dumps(merged)) == merged


def test_the_benchmark_file_prints_as_its_path(tmp_path):
    """pytest-benchmark says "Wrote benchmark data in: PATH" with str() of the option's value."""
    from suite.harness.ending import DeferredFile

    deferred = DeferredFile(lambda: tmp_path / "benchmark.json")
    assert str(deferred) == deferred.name == str(tmp_path / "benchmark.json")


def test_an_error_is_stored_as_one_line(tmp_path):
    """A rewritten assertion explains itself over several lines; the run keeps the first."""
    from suite.harness.run import RunSession
    from suite.spec.profiles import PROFILES

    run = RunSession(
        profile=PROFILES["ci"], device="cpu", seeds=1, base_seed=0, data_dir=None, run_dir=tmp_path / "r", command=[]
    )
    run.claim_folder()
    try:
        run.expect(["scaling"])
        run.mark_error("scaling", "raw: AssertionError: every run leaves at its last epoch\nassert False\n +  where")
        run.finish("error", "cannot start: every run leaves at its last epoch\nassert False")
    finally:
        run.release_folder()
    stored = json.loads((tmp_path / "r" / "results.json").read_text())
    assert stored["error"] == stored["stop"]["reason"] == "cannot start: every run leaves at its last epoch"
    assert stored["ablations"]["scaling"]["error"] == "raw: AssertionError: every run leaves at its last epoch"
