"""A run killed without a word (SIGKILL, an out-of-memory kill, a runner's hard stop) is told
from a live one by every reader, and what its pytest-xdist workers finished is not stranded.

    pytest tests/test_killed_runs.py -q

The results file of such a run says "running" forever; the run folder's lock (a ``flock`` that
lasts as long as the writing process) tells the two apart.
"""

import copy
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from suite.regress.__main__ import main as regress_main
from suite.regress.history import load_run as load_nightly_run
from suite.report.content import build
from suite.store.files import atomic_write_json, read_json
from suite.store.folder import LOCK_FILE, RunFolderLock
from suite.store.results import KILLED, load_run, run_status
from tests.helpers import FAST_WORKBENCH, REPO, SAMPLE, pdf_text, squash

# Holds batch_size's training until the test kills the run: scaling is finished by then.
HOLD_BATCH_SIZE = """
import time
import suite.engine.workbench

_original = suite.engine.workbench.Workbench.run_variant


def run_variant(self, ablation, variant, seeds, on_epoch=None):
    if ablation.name == "batch_size":
        time.sleep(600)
    return _original(self, ablation, variant, seeds, on_epoch)


suite.engine.workbench.Workbench.run_variant = run_variant
"""


def running_copy(tmp_path, name="run"):
    """The ci-sample as a run still 'running', in a folder of its own."""
    folder = tmp_path / name
    folder.mkdir()
    data = read_json(SAMPLE / "results.json")
    data["status"], data["finished"] = "running", None
    atomic_write_json(folder / "results.json", data)
    return folder


def reading_text(content: dict) -> str:
    """The summary's reading rows as one text."""
    return " ".join(row["text"] for row in content["reading"])


def kill_without_a_word(lock: RunFolderLock) -> None:
    """What a SIGKILL does to the writer's lock: the process's descriptors close, the file stays."""
    os.close(lock._fd)
    lock._fd = None


def test_a_live_run_is_running_and_a_dead_one_killed(tmp_path):
    folder = running_copy(tmp_path)
    lock = RunFolderLock(folder, os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT))
    import fcntl

    fcntl.flock(lock._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    assert run_status(folder, "running") == "running"
    content = build(folder)
    assert content["title"]["status"] == "running" and "still running" in reading_text(content)
    assert load_nightly_run(folder).status == "running"
    kill_without_a_word(lock)
    assert (folder / LOCK_FILE).exists()
    assert run_status(folder, "running") == KILLED
    assert run_status(folder, "complete") == "complete"
    content = build(folder)
    assert content["title"]["status"] == KILLED and content["status"] == "ended without a status (killed?)"
    assert "ended without a status (killed?)" in reading_text(content)
    assert load_nightly_run(folder).status == KILLED
    (folder / LOCK_FILE).unlink()  # a copy of a running file, without its folder's lock
    assert run_status(folder, "running") == KILLED


def test_a_killed_run_is_neither_stored_nor_a_baseline(tmp_path, capsys):
    folder = running_copy(tmp_path)
    history = tmp_path / "history"
    assert regress_main([str(folder), "--history", str(history), "--store"]) == 1  # the night did not finish
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "regress: not stored: the run ci-sample ended without a status (killed?), only complete runs are kept"
    ]
    assert not history.exists() or not any(history.rglob("results.json"))


def test_the_workers_files_of_an_unmerged_run_are_read(tmp_path):
    folder = running_copy(tmp_path)
    data = read_json(folder / "results.json")
    finished = copy.deepcopy(data["ablations"]["scaling"])
    for entry in data["ablations"].values():  # the controller's own file: every ablation planned
        entry.update(status="not run", variants={}, verdicts=[])
    atomic_write_json(folder / "results.json", data)
    worker = {**data, "worker_id": "gw1", "ablations": {"scaling": finished}}
    atomic_write_json(folder / "workers" / "gw1.json", worker)
    run = load_run(folder)
    assert run.ablations["scaling"].status == finished["status"] and run.ablations["scaling"].verdicts
    assert run.workers == {"gw1": data["device"]}
    assert build(folder)["summary"]  # the report reads the same
    (folder / "results.json").unlink()  # a controller killed before it wrote its file at the end
    run = load_run(folder)
    assert run.run_id == data["run_id"] and run.worker_id is None and run.status == "running"
    assert list(run.ablations) == ["scaling"] and run.ablations["scaling"].verdicts
    assert build(folder)["title"]["status"] == KILLED
    data["status"] = "complete"  # a merged run: its own file is the whole story
    atomic_write_json(folder / "results.json", data)
    assert load_run(folder).ablations["scaling"].status == "not run"


def start_run(pytester, tmp_path, *args) -> subprocess.Popen:
    pytester.makeconftest(FAST_WORKBENCH + HOLD_BATCH_SIZE)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    env.pop("CI", None)
    command = [
        *(sys.executable, "-m", "pytest", "-p", "suite.harness.plugin", "-p", "no:cacheprovider"),
        *("--ablation-seeds", "1", "--ablation-out", str(tmp_path / "reports"), "--ablation-run-id", "r1"),
        *("--pyargs", "suite.cases", "-k", "scaling or batch_size", *args),
    ]
    return subprocess.Popen(
        command,
        cwd=pytester.path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: the kill takes the workers too
    )


def wait_for_batch_size_training(run: subprocess.Popen, folder, timeout=240):
    """Until scaling is judged and batch_size is training (one after the other, or side by side under xdist)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and run.poll() is None:
        try:
            ablations = load_run(folder).ablations
            if ablations["scaling"].verdicts and ablations["batch_size"].status == "running":
                return
        except Exception:  # not written yet
            pass
        time.sleep(0.2)
    os.killpg(run.pid, signal.SIGKILL)
    pytest.fail("the run never started batch_size")


def render(folder) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "suite.report", str(folder)],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        timeout=300,
    )
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    return squash(pdf_text(folder / "report.pdf"))


@pytest.mark.subprocess
@pytest.mark.parametrize("workers", [0, 2], ids=["plain", "xdist"])
def test_a_sigkilled_run_reads_as_killed_with_everything_it_finished(pytester, tmp_path, workers):
    if workers:
        pytest.importorskip("xdist")
    run = start_run(pytester, tmp_path, *(["-n", str(workers)] if workers else ["-p", "no:xdist"]))
    folder = tmp_path / "reports" / "r1"
    wait_for_batch_size_training(run, folder)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait(timeout=60)
    if workers:  # the controller merges and writes results.json only at the end it never had
        assert not (folder / "results.json").exists() and list((folder / "workers").glob("*.json"))
    else:
        assert read_json(folder / "results.json")["status"] == "running"  # the run had no word to say
    results = load_run(folder)
    assert run_status(folder, results.status.value) == KILLED
    assert results.ablations["scaling"].verdicts and results.ablations["batch_size"].status == "running"
    if workers:
        assert results.workers
    text = render(folder)
    assert squash("ended without a status (killed?)") in text
    assert squash("the ablation it was training is listed as interrupted") in text
    history = tmp_path / "history"
    assert regress_main([str(folder), "--history", str(history), "--store"]) == 1  # the night did not finish
    assert not history.exists() or not any(history.rglob("results.json"))
    shutil.rmtree(folder)


def test_a_worker_that_finished_its_share_does_not_end_the_unmerged_run(tmp_path):
    """Under pytest-xdist a worker whose ablations are done writes 'complete' for its part while
    another still trains: read before the controller merges, the run is still running, with both
    parts (found when ablations stopped being split across workers: the run read as empty)."""
    folder = running_copy(tmp_path)
    data = read_json(folder / "results.json")
    (folder / "results.json").unlink()
    done = copy.deepcopy(data["ablations"]["scaling"])
    planned = {
        name: {**entry, "status": "not run", "variants": {}, "verdicts": []}
        for name, entry in data["ablations"].items()
    }
    first = {**data, "worker_id": "gw0", "status": "complete", "ablations": {**planned, "scaling": done}}
    second = {**data, "worker_id": "gw1", "status": "running", "ablations": planned}
    atomic_write_json(folder / "workers" / "gw0.json", first)
    atomic_write_json(folder / "workers" / "gw1.json", second)
    run = load_run(folder)
    assert run.status == "running" and run.finished is None and run.ablations["scaling"].verdicts
    assert sorted(run.workers) == ["gw0", "gw1"]
