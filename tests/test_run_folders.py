"""A run without a run id claims a folder of its own, even when another run starts in the same second.

pytest tests/test_run_folders.py -q
"""

import os
import subprocess
import sys

import pytest

import suite.store.folder
from suite.harness.run import RunSession
from suite.spec.profiles import PROFILES
from suite.store.files import RESULTS_FILE
from suite.store.folder import RunFolderError, RunFolderLock
from suite.store.results import load_results
from tests.helpers import FAST_WORKBENCH, REPO

STAMP = "20260101-120000"


def session(root, run_id=None) -> RunSession:
    return RunSession(
        profile=PROFILES["ci"],
        device="cpu",
        seeds=1,
        base_seed=0,
        data_dir=None,
        run_dir=suite.store.folder.new_run_dir(root, run_id),
        command=[],
        fresh_folder=run_id is None,
    )


def test_runs_started_in_one_second_each_claim_a_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(suite.store.folder, "run_stamp", lambda: STAMP)  # a frozen clock
    runs = [session(tmp_path) for _ in range(3)]
    for run in runs:  # all three are told the same name before any claims it
        assert run.run_dir == tmp_path / STAMP
    for run in runs:
        run.claim_folder()
        run.save()
    assert [run.run_dir.name for run in runs] == [STAMP, f"{STAMP}-2", f"{STAMP}-3"]
    assert [load_results(run.run_dir)["run_id"] for run in runs] == [STAMP, f"{STAMP}-2", f"{STAMP}-3"]
    for run in runs:
        run.release_folder()


def test_a_rival_between_naming_and_locking_cannot_take_the_folder(tmp_path, monkeypatch):
    """The race itself: a second run claims the same wished name while the first is between
    choosing its folder and locking it. Each still ends with a folder of its own."""
    acquire, rivals = RunFolderLock.acquire.__func__, []

    def acquire_after_a_rival(cls, run_dir):
        if not rivals:
            rivals.append(None)
            rivals[0] = RunFolderLock.claim_new(tmp_path / STAMP)
        return acquire(cls, run_dir)

    monkeypatch.setattr(RunFolderLock, "acquire", classmethod(acquire_after_a_rival))
    mine = RunFolderLock.claim_new(tmp_path / STAMP)
    assert {mine.run_dir.name, rivals[0].run_dir.name} == {STAMP, f"{STAMP}-2"}
    mine.release()
    rivals[0].release()


def test_a_stamp_folder_left_by_an_earlier_run_is_skipped_not_refused(tmp_path):
    (tmp_path / STAMP).mkdir()
    (tmp_path / STAMP / RESULTS_FILE).write_text("{}")
    lock = RunFolderLock.claim_new(tmp_path / STAMP)
    assert lock.run_dir == tmp_path / f"{STAMP}-2"
    lock.release()
    assert not (tmp_path / f"{STAMP}-2").exists()  # wrote nothing, left nothing
    assert (tmp_path / STAMP / RESULTS_FILE).read_text() == "{}"


def test_an_explicit_run_id_is_still_refused_when_taken(tmp_path):
    first = session(tmp_path, "r1")
    first.claim_folder()
    first.save()
    second = session(tmp_path, "r1")
    with pytest.raises(RunFolderError, match="another pytest process is writing into"):
        second.claim_folder()
    first.release_folder()
    with pytest.raises(RunFolderError, match="already holds an earlier run"):
        second.claim_folder()


def test_an_unwritable_root_is_one_line(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(RunFolderError, match="cannot create the results folder"):
        RunFolderLock.claim_new(tmp_path / "file" / STAMP)


@pytest.mark.subprocess
def test_two_pytest_runs_in_one_second_both_run(pytester, tmp_path):
    # Both processes see one frozen second; each must still run, in a folder of its own.
    pytester.makeconftest(
        FAST_WORKBENCH + f"\nimport suite.store.folder\nsuite.store.folder.run_stamp = lambda: {STAMP!r}\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("CI", None)
    command = [
        *(sys.executable, "-m", "pytest", "-p", "suite.harness.plugin", "-p", "no:cacheprovider"),
        *("--ablation-seeds", "1", "--ablation-out", str(tmp_path / "reports")),
        *("--pyargs", "suite.cases", "-k", "scaling"),
    ]
    runs = [
        subprocess.Popen(
            command, cwd=pytester.path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    for run, out in zip(runs, outputs):
        assert run.returncode in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED), out
        assert "Traceback" not in out and "cannot start" not in out, out
    folders = sorted(p.name for p in (tmp_path / "reports").iterdir())
    assert folders == [STAMP, f"{STAMP}-2"]
    for name in folders:
        results = load_results(tmp_path / "reports" / name)
        assert results["run_id"] == name and results["status"] == "complete"
        assert (tmp_path / "reports" / name / "benchmark.json").is_file()
    assert sorted(f"reports/{name}/results.json" in "".join(outputs) for name in folders) == [True, True]
