"""A write that fails never loses what was written before, and says so in one line.

A full disk during a run, an unwritable ``--json`` for the nightly, a report into a full folder:
each ends with one line naming the cause and the file, a non-zero exit, no traceback, and the
last good version of every file. The run-level tests train nothing: a fake workbench serves the
ci-sample's stored variants, so a pytest run of two ablations takes seconds.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import subprocess
import sys

import pytest

from suite.regress.__main__ import main as regress_main
from suite.report.__main__ import main as report_main
from suite.store import files
from suite.store.files import RESULTS_FILE, atomic_write_json, read_json
from suite.store.results import load_results
from tests.helpers import REPO, SAMPLE

pytestmark = pytest.mark.subprocess
CASES = ["--pyargs", "suite.cases", "-k", "test_variant and (scaling or batch_size) or test_claims and scaling"]

# Serves each variant from the ci-sample (seeds 0 and 1) instead of training it; FULL_AFTER: the
# number of results.json writes that succeed before the disk is "full" (None: a real disk).
FAKE_WORKBENCH = """
import copy, errno, os, sys, types
from contextlib import contextmanager
from pathlib import Path

import suite.store.files as files
from suite.store.run_records import VariantRecord

SAMPLE = files.read_json({sample!r})


class Workbench:
    def __init__(self, profile, device, data_dir=None, **_):
        self.device, self.splits = "cpu", ((), ())  # no data: nothing trains
        self.expected = []  # nothing planned: the progress line has no size to announce
        self.max_stack = 1  # one run at a time, as on the CPU

    def expect(self, names, seeds):
        pass

    def run_variant(self, ablation, variant, seeds, on_epoch=None):
        stored = SAMPLE["ablations"][ablation.name]["variants"][variant]
        return VariantRecord.from_json(copy.deepcopy(stored), "the sample")


module = types.ModuleType("suite.engine.workbench")
module.Workbench = Workbench
sys.modules["suite.engine.workbench"] = module

FULL_AFTER = {full_after!r}
real_writer, written = files.atomic_writer, []


@contextmanager
def filling_writer(path):
    with real_writer(path) as stream:
        if Path(path).name == "results.json" and FULL_AFTER is not None:
            written.append(path)
            if len(written) > FULL_AFTER:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        yield stream


files.atomic_writer = filling_writer
"""


@pytest.fixture
def fake_run(pytester, monkeypatch, tmp_path):
    """pytest with the plugin and the fake workbench; results in OUT/r1 (default tmp_path/reports)."""
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.delenv("CI", raising=False)

    def run(*args, full_after=None, out=None):
        pytester.makeconftest(FAKE_WORKBENCH.format(sample=str(SAMPLE / RESULTS_FILE), full_after=full_after))
        out = out or tmp_path / "reports"
        options = ["-p", "suite.harness.plugin", "--ablation-seeds", "2", "--ablation-out", str(out)]
        return pytester.runpytest_subprocess(*options, "--ablation-run-id", "r1", *CASES, *args)

    return run


def no_traceback(result) -> None:
    text = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in text and "INTERNALERROR" not in text, text


def leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") and p.name != ".lock")


def test_the_fake_workbench_runs_the_cases(fake_run, tmp_path):
    result = fake_run()
    result.assert_outcomes(passed=5)
    assert load_results(tmp_path / "reports" / "r1")["status"] == "complete"


def test_a_full_disk_stops_the_run_in_one_line_keeping_every_verdict_written(fake_run, tmp_path):
    # Writes: the planned run, then each of scaling's two variants as it starts and as it is stored
    # (the second judges scaling); then the disk is full.
    result = fake_run(full_after=5)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    no_traceback(result)
    folder = tmp_path / "reports" / "r1"
    result.stdout.fnmatch_lines(
        [
            f"results: {folder / RESULTS_FILE} (run error: no space left on device writing {folder / RESULTS_FILE})",
            f"*ablation suite stopped: no space left on device writing {folder / RESULTS_FILE}*",
        ]
    )
    kept = load_results(folder)  # the last good version: scaling judged, batch_size planned
    scaling = kept["ablations"]["scaling"]
    assert scaling["status"] == "passed" and [v["outcome"] for v in scaling["verdicts"]] == ["PASS"]
    assert kept["ablations"]["batch_size"]["variants"] == {}
    assert leftovers(folder) == [] and not (folder / ".lock").exists()
    json.loads((folder / "benchmark.json").read_text())  # whole, where it was written


@pytest.fixture
def small_disk(tmp_path):
    """A real 160 kB file system (tmpfs): a run's files fill it. Skipped where mounting is not allowed."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mount = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=160k", "tmpfs", str(disk)], capture_output=True)
    if mount.returncode:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {mount.stderr.decode().strip()}")
    yield disk
    subprocess.run(["umount", str(disk)], check=True)


def test_a_real_full_disk_ends_the_run_in_one_line_with_readable_files(fake_run, small_disk):
    result = fake_run(out=small_disk)
    assert result.ret != pytest.ExitCode.OK
    no_traceback(result)
    result.stdout.fnmatch_lines(["*no space left on device writing *"])
    folder = small_disk / "r1"
    kept = load_results(folder)  # whatever was written last is whole and checks
    for name, entry in kept["ablations"].items():
        assert entry["status"] in ("not run", "running", "passed"), name
    assert leftovers(folder) == []
    if (folder / "benchmark.json").exists():
        json.loads((folder / "benchmark.json").read_text())


def test_a_failed_write_keeps_the_previous_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / RESULTS_FILE
    atomic_write_json(path, {"version": 1})

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files.os, "fsync", full)
    with pytest.raises(OSError, match="No space left on device"):
        atomic_write_json(path, {"version": 2})
    assert read_json(path) == {"version": 1} and sorted(p.name for p in tmp_path.iterdir()) == [RESULTS_FILE]


def _stderr_of(main, argv) -> tuple[int, list[str]]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = main(argv)
    return status, err.getvalue().splitlines()


def test_the_nightly_json_to_an_unwritable_path_is_one_line_exit_2(tmp_path):
    target = tmp_path / "a-file"
    target.write_text("")
    status, err = _stderr_of(regress_main, [str(SAMPLE), "--history", str(SAMPLE), "--json", str(target / "x.json")])
    assert status == 2 and len(err) == 1, err  # not 1: that means "regressed"
    assert err[0].startswith("regress: cannot write the comparison: ") and str(target / "x.json") in err[0]


def test_the_nightly_json_to_a_full_disk_is_one_line_exit_2(tmp_path, monkeypatch):
    monkeypatch.setattr(files.os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left")))
    status, err = _stderr_of(regress_main, [str(SAMPLE), "--history", str(SAMPLE), "--json", str(tmp_path / "r.json")])
    assert status == 2 and err == [f"regress: cannot write the comparison: no space left writing {tmp_path / 'r.json'}"]
    assert not list(tmp_path.iterdir())


def test_the_report_to_a_full_disk_is_one_line_exit_2(tmp_path, monkeypatch):
    pytest.importorskip("weasyprint")
    one = read_json(SAMPLE / RESULTS_FILE)  # one ablation: the figures take seconds each
    one["ablations"], one["extras"] = {"scaling": one["ablations"]["scaling"]}, {}
    atomic_write_json(tmp_path / "run" / RESULTS_FILE, one)
    monkeypatch.setattr(files.os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left")))
    status, err = _stderr_of(report_main, [str(tmp_path / "run"), "--out", str(tmp_path / "out")])
    assert status == 2 and len(err) == 1 and "no space left" in err[0].lower(), err
    assert not list((tmp_path / "out").iterdir())


@pytest.mark.skipif(sys.platform != "linux", reason="uses /proc")
def test_the_store_into_an_unwritable_history_is_one_line_exit_2(tmp_path):
    status, err = _stderr_of(regress_main, [str(SAMPLE), "--history", "/proc/self", "--store"])
    assert status == 2 and len(err) == 1 and err[0].startswith("regress: "), err
