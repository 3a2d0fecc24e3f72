"""Atomic writes and loading results files, including the broken ones."""

import json
import math
import os
import stat

import pytest

from suite.store import files
from suite.store.files import ResultsError, atomic_write_json, read_json
from suite.store.folder import RunFolderError, RunFolderLock
from suite.store.results import load_results


def test_atomic_write_never_leaves_a_partial_file(tmp_path, monkeypatch):
    path = tmp_path / "results.json"
    atomic_write_json(path, {"version": 1})

    def crash(fd):  # the new content is written, not yet synced nor renamed
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "fsync", crash)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_json(path, {"version": 2})
    assert json.loads(path.read_text()) == {"version": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]  # no temporary file left


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o002, 0o664)])
def test_results_files_get_the_umask_permissions_not_private_ones(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        atomic_write_json(tmp_path / "results.json", {"a": 1})
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "results.json").stat().st_mode) == mode


def test_non_finite_numbers_round_trip(tmp_path):
    path = tmp_path / "r.json"
    atomic_write_json(path, {"loss": [1.0, math.nan, math.inf], "nested": {"x": -math.inf}})
    json.loads(path.read_text())  # strict JSON: no NaN literals
    back = read_json(path)
    assert math.isnan(back["loss"][1]) and back["loss"][2] == math.inf and back["nested"]["x"] == -math.inf


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "no results file at"),
        ("{not json", "malformed results file"),
        ("[1, 2]", "expected a JSON object"),
        ('{"schema": 1}', "missing run_id"),
    ],
)
def test_bad_results_files_give_one_line_naming_the_file(tmp_path, content, expected):
    path = tmp_path / "results.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ResultsError) as exc:
        load_results(tmp_path)
    assert expected in str(exc.value) and str(path) in str(exc.value) and "\n" not in str(exc.value)


def test_a_run_folder_is_taken_by_one_process_and_released(tmp_path):
    folder = tmp_path / "r1"
    lock = RunFolderLock.acquire(folder)
    with pytest.raises(RunFolderError, match="another pytest process is writing into"):
        RunFolderLock.acquire(folder)
    lock.release()
    assert not folder.exists()  # nothing was written: no empty folder is left behind
    again = RunFolderLock.acquire(folder)
    atomic_write_json(folder / "results.json", {})
    again.release()
    assert sorted(p.name for p in folder.iterdir()) == ["results.json"]  # the lock file is gone


@pytest.mark.parametrize("leftover", ["results.json", "benchmark.json"])
def test_a_folder_holding_an_earlier_run_is_refused(tmp_path, leftover):
    (tmp_path / leftover).write_text("{}")
    with pytest.raises(RunFolderError, match=f"already holds an earlier run [(]{leftover}[)]"):
        RunFolderLock.acquire(tmp_path)
    assert not (tmp_path / ".lock").exists()
