"""Every run ends in a state that says what happened: plain installs, errors, interrupts, reused ids.

Each test runs pytest with the plugin in a subprocess (pytester), as a user would, on the real
dataset with one seed and the cheapest ablations.
"""

import json
import os
import stat
import subprocess
import sys
import time

import pytest

from suite.regress.__main__ import main as regress_main
from suite.store.results import load_results
from tests.helpers import REPO

pytestmark = [pytest.mark.dataset, pytest.mark.subprocess]  # pytest runs the suite in a child process
CASES = ["--pyargs", "suite.cases"]


@pytest.fixture
def suite_run(pytester, monkeypatch, tmp_path):
    """pytest in a subprocess with the plugin and 1 seed; results in tmp_path/reports/r1."""
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.delenv("CI", raising=False)

    def run(*args, run_id="r1"):
        return pytester.runpytest_subprocess(
            "-p",
            "suite.harness.plugin",
            "--ablation-seeds",
            "1",
            "--ablation-out",
            str(tmp_path / "reports"),
            "--ablation-run-id",
            run_id,
            *args,
        )

    return run


def render(folder) -> subprocess.CompletedProcess:
    # A subprocess, as a user would: pytester restores sys.modules after each test, and numpy
    # cannot be imported twice into one process.
    return subprocess.run(
        [sys.executable, "-m", "suite.report", str(folder)],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        timeout=300,
    )


def no_traceback(result) -> None:
    text = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in text and "INTERNALERROR" not in text, text


def test_the_suite_runs_without_xdist_as_on_a_plain_install(suite_run, tmp_path):
    result = suite_run(*CASES, "-p", "no:xdist", "-k", "sigmoid or scaling")
    result.assert_outcomes(passed=4)
    folder = tmp_path / "reports" / "r1"
    results = load_results(folder)
    assert results["status"] == "complete" and results["error"] is None
    assert results["ablations"]["scaling"]["status"] == "passed" and "sigmoid" in results["extras"]
    # Readable by another account (a report job), as any file the process writes: 0666 less the umask.
    mask = os.umask(0)
    os.umask(mask)
    for name in ("results.json", "benchmark.json"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o666 & ~mask, name


def test_cases_run_ablation_by_ablation(suite_run):
    result = suite_run(*CASES, "--collect-only", "-q", "-k", "scaling or batch_size")
    ids = [line.split("::")[-1] for line in result.stdout.lines if "::" in line]
    assert ids == [
        "test_variant[scaling-raw]",
        "test_variant[scaling-scaled]",
        "test_claims[scaling]",
        "test_variant[batch_size-b32]",
        "test_variant[batch_size-b10000]",
        "test_claims[batch_size]",
    ]


# Sends SIGNAL to the process itself in the middle of training batch_size's b32 (after its first
# epoch), the way a CI runner's cancel or a user's Ctrl-C arrives.
KILL_DURING_TRAINING = """
import os, signal
import suite.engine.workbench

original = suite.engine.workbench.Workbench.run_variant

def run_variant(self, ablation, variant, seeds, on_epoch=None):
    def killer(trained, seed, epoch, row):
        if on_epoch:
            on_epoch(trained, seed, epoch, row)
        if trained == "b32" and epoch == 1:
            os.kill(os.getpid(), signal.{signal})
    return original(self, ablation, variant, seeds, killer)

suite.engine.workbench.Workbench.run_variant = run_variant
"""


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGINT"])
def test_a_signal_during_training_keeps_every_finished_verdict(suite_run, pytester, tmp_path, signame):
    pytester.makeconftest(KILL_DURING_TRAINING.format(signal=signame))
    result = suite_run(*CASES, "-k", "scaling or batch_size")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    no_traceback(result)
    result.stdout.fnmatch_lines(["results: */r1/results.json (run interrupted)"])
    folder = tmp_path / "reports" / "r1"
    results = load_results(folder)
    assert results["status"] == "interrupted" and results["finished"]
    scaling, batch = results["ablations"]["scaling"], results["ablations"]["batch_size"]
    assert scaling["status"] == "passed" and [v["outcome"] for v in scaling["verdicts"]] == ["PASS"]
    assert batch["status"] == "interrupted" and batch["variants"] == {} and batch["verdicts"] == []
    stop = results["stop"]  # what stopped it: the signal by name, and what was training
    assert (stop["cause"], stop["signal"], stop["ablation"], stop["variant"], stop["epoch"]) == (
        *("signal", signame, "batch_size", "b32", 1),
    )
    result.stdout.fnmatch_lines(["finish it with: pytest suite/cases --ablation-resume r1 --ablation-out *"])
    bench = json.loads((folder / "benchmark.json").read_text())
    assert sorted(b["extra_info"]["variant"] for b in bench["benchmarks"]) == ["raw", "scaled"]
    assert all(b["stats"]["rounds"] == 1 for b in bench["benchmarks"])
    assert not (folder / ".lock").exists()
    rendered = render(folder)
    assert rendered.returncode == 0 and (folder / "report.pdf").is_file(), rendered.stderr


def test_an_internal_error_is_recorded_as_error_and_never_stored(suite_run, pytester, tmp_path, capsys):
    pytester.makepyfile(
        broken_plugin="""
        def pytest_runtest_logreport(report):
            if report.when == "call":
                raise RuntimeError("the reporting plugin broke")
    """
    )
    history = tmp_path / "history"
    result = suite_run(
        *CASES, "-p", "broken_plugin", "-k", "sigmoid", "--ablation-compare", str(history), "--ablation-store"
    )
    assert result.ret == pytest.ExitCode.INTERNAL_ERROR
    folder = tmp_path / "reports" / "r1"
    results = load_results(folder)
    assert results["status"] == "error"
    assert results["error"] == "pytest internal error: RuntimeError: the reporting plugin broke"
    result.stdout.fnmatch_lines(
        ["*not stored: the run r1 is 'error' (pytest internal error: *), only complete runs are kept"]
    )
    assert not list(history.glob("*/r1"))
    assert regress_main([str(folder), "--history", str(history), "--store"]) == 1  # the night did not finish
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "regress: not stored: the run r1 is 'error' (pytest internal error: RuntimeError: "
        "the reporting plugin broke), only complete runs are kept"
    ]


def test_a_run_that_judged_nothing_is_an_error_not_complete(suite_run, pytester, tmp_path):
    pytester.makeconftest("""
        import suite.engine.workbench

        def run_variant(self, ablation, variant, seeds, on_epoch=None):
            raise RuntimeError("no GPU memory left")

        suite.engine.workbench.Workbench.run_variant = run_variant
    """)
    result = suite_run(*CASES, "-k", "scaling")
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines(["results: */r1/results.json (run error: no ablation was judged (scaling: *)"])
    results = load_results(tmp_path / "reports" / "r1")
    assert results["status"] == "error"
    assert results["error"].startswith("no ablation was judged (scaling: ") and "no GPU memory left" in results["error"]
    rendered = render(tmp_path / "reports" / "r1")
    assert rendered.returncode == 0, rendered.stderr


def test_a_reused_run_id_is_refused_and_the_earlier_run_kept(suite_run, tmp_path):
    first = suite_run(*CASES, "-k", "sigmoid")
    first.assert_outcomes(passed=1)
    before = (tmp_path / "reports" / "r1" / "results.json").read_bytes()
    second = suite_run(*CASES, "-k", "sigmoid")
    assert second.ret == pytest.ExitCode.USAGE_ERROR
    second.stdout.fnmatch_lines(
        [
            "*ablation suite cannot start: *r1 already holds an earlier run (results.json); "
            "pick another --ablation-run-id*"
        ]
    )
    no_traceback(second)
    assert (tmp_path / "reports" / "r1" / "results.json").read_bytes() == before


def test_two_runs_with_one_run_id_at_once_one_is_refused_nothing_lost(pytester, tmp_path):
    # The first run waits inside its first variant until the second has been refused.
    gate = tmp_path / "go"
    pytester.makeconftest(f"""
        import pathlib, time
        import suite.engine.workbench

        original = suite.engine.workbench.Workbench.run_variant

        def run_variant(self, *args, **kwargs):
            deadline = time.monotonic() + 120
            while not pathlib.Path({str(gate)!r}).exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            return original(self, *args, **kwargs)

        suite.engine.workbench.Workbench.run_variant = run_variant
    """)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("CI", None)
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "suite.harness.plugin",
        "--ablation-seeds",
        "1",
        "--ablation-out",
        str(tmp_path / "reports"),
        "--ablation-run-id",
        "shared",
        *CASES,
        "-k",
        "scaling",
    ]
    first = subprocess.Popen(
        command, cwd=pytester.path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        lock = tmp_path / "reports" / "shared" / ".lock"
        deadline = time.monotonic() + 120
        while not lock.exists() and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.1)
        assert lock.exists(), "the first run never took the folder"
        second = subprocess.run(command, cwd=pytester.path, env=env, capture_output=True, text=True, timeout=300)
        assert second.returncode == pytest.ExitCode.USAGE_ERROR
        assert "another pytest process is writing into" in second.stdout and "Traceback" not in second.stdout
    finally:
        gate.touch()
        out, _ = first.communicate(timeout=600)
    assert first.returncode == 0, out
    results = load_results(tmp_path / "reports" / "shared")
    assert results["status"] == "complete" and results["ablations"]["scaling"]["status"] == "passed"
    assert not lock.exists()


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--ablation-seeds", "0", "invalid value '0': expected an integer >= 1"),
        ("--ablation-seeds", "-1", "invalid value '-1': expected an integer >= 1"),
        ("--ablation-seeds", "three", "invalid value 'three': expected an integer >= 1"),
        ("--ablation-base-seed", "-2", "invalid value '-2': expected an integer >= 0"),
        ("--ablation-device", "gpu", "invalid value 'gpu': expected auto, cpu, cuda or cuda:N"),
        ("--ablation-device", "cuda:x", "invalid value 'cuda:x': expected auto, cpu, cuda or cuda:N"),
    ],
)
def test_bad_options_are_refused_before_anything_runs(pytester, monkeypatch, tmp_path, option, value, expected):
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    result = pytester.runpytest_subprocess(
        "-p", "suite.harness.plugin", "--ablation-out", str(tmp_path / "reports"), *CASES, f"{option}={value}"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*error: argument {option}: {expected}"])
    assert not (tmp_path / "reports").exists()
