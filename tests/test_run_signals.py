"""A run stopped from outside at a random moment: SIGINT and SIGTERM end it as documented, SIGKILL
leaves the last good results file.

    pytest tests/test_run_signals.py -q

The run-ending tests of tests/test_run_endings.py raise a signal synchronously, between two epochs.
Here another process (this one) sends it at a random moment, drawn from a seeded generator, to a
pytest run of the suite whose training is faked: each variant "trains" for a few randomly drawn
milliseconds and returns its record from the ci-sample (a real ci run, 2 seeds), so that the claims
are judged on real records and results.json grows to its real size (its writes take a fair share
of the run, and some signals land in them). No dataset, no torch in the child: about two seconds
per run. The child logs every finished test to a side file as pytest reports it; whatever it logs
before the signal must be in the results file afterwards.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from suite.report.verdicts import shown_verdict
from suite.store.files import atomic_write_json, read_json
from suite.store.results import load_results, read_benchmark
from tests.helpers import REPO, SAMPLE

pytestmark = pytest.mark.subprocess

FAKE_TRAINING = """
import json, os, pathlib, random, time

import suite.harness.run
from suite.store.run_records import VariantRecord

SAMPLE = json.loads(pathlib.Path(os.environ["FAKE_SAMPLE"]).read_text())["ablations"]
PACE = random.Random(int(os.environ["FAKE_SEED"]))
LOG = pathlib.Path(os.environ["FAKE_LOG"])


class FakeBench:
    device = "cpu"
    splits = ((), ())  # no data: nothing trains
    expected = []  # nothing planned: the progress line has no size to announce

    def expect(self, ablations, seeds):
        pass

    def run_variant(self, ablation, variant, seeds, on_epoch=None):
        time.sleep(PACE.uniform(0.0, 0.08))
        return VariantRecord.from_json(SAMPLE[ablation.name]["variants"][variant], f"{ablation.name}.{variant}")


BENCH = FakeBench()
suite.harness.run.RunSession.workbench = property(lambda self: BENCH)


class FinishedLog:  # a plugin, not a conftest hook: the cases live outside this folder
    def pytest_runtest_logreport(self, report):
        if report.when == "call":
            with LOG.open("a") as log:
                log.write(f"{report.nodeid.split('::')[-1]} {report.outcome}\\n")
                log.flush()
                os.fsync(log.fileno())


class InterruptAtEnd:  # a signal while the session ends, as if it landed in pytest-benchmark's save
    def pytest_sessionfinish(self, session):
        raise KeyboardInterrupt("signal 2")


def pytest_configure(config):
    config.pluginmanager.register(FinishedLog(), "finished-log")
    if os.environ.get("FAKE_INTERRUPT_AT_END"):
        config.pluginmanager.register(InterruptAtEnd(), "interrupt-at-end")
"""


def start(folder: Path, seed: int, **env_extra: str) -> subprocess.Popen:
    """The suite (all ablations, 2 seeds) with faked training, run in FOLDER; results in FOLDER/reports/r1."""
    (folder / "conftest.py").write_text(FAKE_TRAINING)
    env = dict(os.environ, PYTHONPATH=str(REPO), FAKE_SAMPLE=str(SAMPLE / "results.json"), FAKE_SEED=str(seed))
    env.update(FAKE_LOG=str(folder / "finished.log"), **env_extra)
    env.pop("CI", None)
    command = [sys.executable, "-m", "pytest", "-p", "suite.harness.plugin", "-p", "no:cacheprovider"]
    command += ["--ablation-seeds", "2", "--ablation-out", str(folder / "reports"), "--ablation-run-id", "r1"]
    command += ["--pyargs", "suite.cases", "-k", "not train_vs_eval"]
    return subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def stop_at_random(child: subprocess.Popen, results: Path, signum: int, rng: random.Random) -> float:
    """SIGNUM to CHILD at a random moment of its run (after it wrote its first results file)."""
    deadline = time.monotonic() + 60
    while not results.exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert results.exists(), "the run never wrote its results file: " + (child.communicate()[0] if child.poll() else "")
    delay = rng.uniform(0.0, 2.0)  # the faked run lasts longer: 47 variants of 40 ms on average, and their writes
    time.sleep(delay)
    assert child.poll() is None, f"the run ended before the signal, {delay:.2f} s in: make it longer"
    child.send_signal(signum)
    return delay


def finished_before(log: Path) -> dict[str, str]:
    """{test id: outcome} of the tests the child reported finished (complete lines only)."""
    text = log.read_text() if log.exists() else ""
    lines = text.splitlines()[: text.count("\n")]
    return dict(line.rsplit(" ", 1) for line in lines)


def check_finished_work_is_kept(results: dict, finished: dict[str, str]) -> None:
    sample = json.loads((SAMPLE / "results.json").read_text())["ablations"]
    for test, outcome in finished.items():
        if test.startswith("test_variant["):
            ablation, variant = test.removeprefix("test_variant[").removesuffix("]").split("-", 1)
            assert variant in results["ablations"][ablation]["variants"], test
        elif test.startswith("test_claims["):
            name = test.removeprefix("test_claims[").removesuffix("]")
            entry = results["ablations"][name]
            assert entry["status"] in ("passed", "failed"), (test, entry["status"])
            outcomes = [v["outcome"] for v in entry["verdicts"]]
            # the sample's reported verdicts predate INCONCLUSIVE: compare with them re-judged by today's rule
            claims = {c["text"]: c for c in sample[name]["claims"]}
            expected = [shown_verdict(claims[v["claim"]], v)["outcome"] for v in sample[name]["verdicts"]]
            assert outcomes == expected, (test, outcomes)
            assert ("FAIL" in outcomes) == (outcome == "failed"), test
        elif test == "test_sigmoid_saturation":
            assert "sigmoid" in results["extras"]


def test_the_faked_run_unstopped_completes_and_logs_every_test(tmp_path):
    """The yardstick of the tests below: without a signal, every test is logged and kept."""
    child = start(tmp_path, 0)
    out, _ = child.communicate(timeout=120)
    assert child.returncode == 0, out
    results = load_results(tmp_path / "reports" / "r1")
    finished = finished_before(tmp_path / "finished.log")
    sample = json.loads((SAMPLE / "results.json").read_text())["ablations"]
    assert len(finished) == 1 + len(sample) + sum(len(a["variants"]) for a in sample.values())
    assert results["status"] == "complete"
    check_finished_work_is_kept(results, finished)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_a_signal_at_a_random_moment_ends_the_run_as_interrupted(tmp_path, signame, seed):
    folder = tmp_path / "reports" / "r1"
    child = start(tmp_path, seed)
    try:
        delay = stop_at_random(child, folder / "results.json", getattr(signal, signame), random.Random(seed))
        out, _ = child.communicate(timeout=120)
    finally:
        child.kill()
    finished = finished_before(tmp_path / "finished.log")
    when = f"{signame} {delay:.3f} s after the first results file, {len(finished)} tests finished"
    assert child.returncode == pytest.ExitCode.INTERRUPTED, (when, out)
    assert "Traceback" not in out and "INTERNALERROR" not in out, (when, out)
    results = load_results(folder)
    check_finished_work_is_kept(results, finished)
    if results["status"] == "complete":  # every case had run: the signal landed in the session's end
        assert "interrupted as the run ended; results: " in out and "(run complete)" in out, (when, out)
    else:
        assert "results: " in out and "/r1/results.json (run interrupted)" in out, (when, out)
        assert results["status"] == "interrupted" and results["finished"], when
        # stopped before its end: an ablation is judged, or says it was not run or interrupted
        assert all(e["verdicts"] or e["status"] in ("not run", "interrupted") for e in results["ablations"].values())
    if (folder / "benchmark.json").exists():
        read_benchmark(folder)  # valid, if pytest-benchmark got to write it
    # Nothing else: no lock, no stray file, no temporary file of an interrupted write.
    leftovers = sorted(p.name for p in folder.rglob("*") if p.name not in ("results.json", "benchmark.json"))
    assert leftovers == [], (when, leftovers)


def test_a_signal_as_the_session_ends_keeps_the_complete_run_and_prints_one_line(tmp_path):
    child = start(tmp_path, 7, FAKE_INTERRUPT_AT_END="1")
    out, _ = child.communicate(timeout=120)
    assert child.returncode == pytest.ExitCode.INTERRUPTED, out
    assert "Traceback" not in out and "INTERNALERROR" not in out, out
    assert "interrupted as the run ended; results: " in out and "(run complete)" in out, out
    results = load_results(tmp_path / "reports" / "r1")
    assert results["status"] == "complete"
    check_finished_work_is_kept(results, finished_before(tmp_path / "finished.log"))


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_sigkill_at_a_random_moment_leaves_the_last_good_results(tmp_path, seed):
    folder = tmp_path / "reports" / "r1"
    child = start(tmp_path, seed)
    try:
        delay = stop_at_random(child, folder / "results.json", signal.SIGKILL, random.Random(seed))
        child.communicate(timeout=60)
    finally:
        child.kill()
    assert child.returncode == -signal.SIGKILL
    results = load_results(folder)  # the last version written whole, whatever the kill interrupted
    finished = finished_before(tmp_path / "finished.log")
    when = f"SIGKILL {delay:.3f} s after the first results file, {len(finished)} tests finished"
    assert results["status"] == "running" and results["finished"] is None, when
    check_finished_work_is_kept(results, finished)


def test_an_interrupt_just_after_the_temporary_file_is_made_leaves_nothing(tmp_path, monkeypatch):
    """A signal's handler can run at the first check after the temporary file's open, before the
    stream exists: atomic_writer knows the file's name before it creates it, and removes it."""
    from suite.store import files

    opened = files.os.open

    def interrupted(*args, **kwargs):
        os.close(opened(*args, **kwargs))  # the file exists; the signal arrives before its name is returned
        raise KeyboardInterrupt("signal 15")

    atomic_write_json(tmp_path / "results.json", {"status": "running"})
    monkeypatch.setattr(files.os, "open", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_json(tmp_path / "results.json", {"status": "complete"})
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]
    assert read_json(tmp_path / "results.json") == {"status": "running"}
