"""The nightly history cannot be corrupted by normal use: one test per way it once was.

    pytest tests/test_regress_history.py

Each test builds a history folder (tests.helpers.make_run), does what a person or a crash would
do to it, and checks that the check refuses in one line, skips with a warning, or leaves the
previous baseline in place.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
from pathlib import Path

import pytest

import suite.regress.history as history_module
from suite.regress import history_runs, store
from suite.regress.__main__ import main
from tests.helpers import make_run


@pytest.fixture
def history(tmp_path: Path) -> Path:
    for day in (20, 21, 22):
        store(make_run(tmp_path / "reports", f"night-{day}", day), tmp_path / "history")
    return tmp_path / "history"


def stored(history: Path) -> list[str]:
    return [run.run_id for run in history_runs(history)]


def test_a_run_id_already_in_the_history_is_refused_in_one_line(tmp_path, history, capsys):
    again = make_run(tmp_path / "again", "night-22", 23, shift={("scaled", "val_acc"): -0.2})
    assert main([str(again), "--history", str(history), "--store"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "run night-22 is already in the history at" in err
    assert stored(history) == ["night-20", "night-21", "night-22"]
    kept = json.loads((history / "ci-cpu" / "night-22" / "results.json").read_text())
    assert kept["ablations"]["scaling"]["variants"]["scaled"]["runs"][1]["history"]["val_acc"][-1] == 0.8


def test_two_stored_runs_with_one_id_are_an_error_naming_both(tmp_path, history, capsys):
    shutil.copytree(history / "ci-cpu" / "night-21", history / "ci-cpu" / "copy-of-21")
    assert main([str(make_run(tmp_path / "r", "night-23", 23)), "--history", str(history)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "run id night-21 is stored twice" in err
    assert str(history / "ci-cpu" / "night-21") in err and str(history / "ci-cpu" / "copy-of-21") in err


def test_a_failed_night_is_not_stored_and_later_nights_still_compare_with_the_good_one(tmp_path, history, capsys):
    bad = make_run(tmp_path / "r", "night-23", 23, shift={("scaled", "val_acc"): -0.2})
    assert main([str(bad), "--history", str(history), "--store"]) == 1
    assert "note: not stored: the night failed; if the change is intended, accept it" in capsys.readouterr().out
    assert stored(history) == ["night-20", "night-21", "night-22"]
    milder = make_run(tmp_path / "r", "night-24", 24, shift={("scaled", "val_acc"): -0.1})
    assert main([str(milder), "--history", str(history)]) == 1
    assert "baseline: night-22" in capsys.readouterr().out


def test_a_results_file_of_another_schema_is_skipped_with_a_warning(tmp_path, history, capsys):
    newer = history / "ci-cpu" / "from-the-future" / "results.json"
    newer.parent.mkdir()
    newer.write_text(json.dumps({"schema": 2, "run_id": "future", "anything": "new"}))
    assert main([str(make_run(tmp_path / "r", "night-23", 23)), "--history", str(history)]) == 0
    captured = capsys.readouterr()
    assert captured.err == f"regress: warning: skipped {newer}: schema 2, this version reads 1\n"
    assert "baseline: night-22" in captured.out


def test_a_store_killed_before_its_rename_leaves_the_previous_history(tmp_path, history, monkeypatch):
    def crash(src, dst):
        raise KeyboardInterrupt  # the process dies between the copy and the rename

    monkeypatch.setattr(history_module.os, "rename", crash)
    with pytest.raises(KeyboardInterrupt):
        store(make_run(tmp_path / "r", "night-23", 23), history)
    monkeypatch.undo()
    assert stored(history) == ["night-20", "night-21", "night-22"]
    assert sorted(p.name for p in (history / "ci-cpu").iterdir()) == ["night-20", "night-21", "night-22"]


def test_a_leftover_of_a_store_killed_outright_is_skipped_and_then_removed(tmp_path, history):
    leftover = history / "ci-cpu" / ".night-23.abc123"  # what SIGKILL leaves: a hidden, partial copy
    leftover.mkdir()
    (leftover / "results.json").write_text("{half a fi")
    assert stored(history) == ["night-20", "night-21", "night-22"]
    store(make_run(tmp_path / "r", "night-23", 23), history)
    assert sorted(p.name for p in (history / "ci-cpu").iterdir()) == ["night-20", "night-21", "night-22", "night-23"]


def test_sigterm_during_a_store_gives_one_line_and_leaves_the_history(tmp_path, history, monkeypatch, capsys):
    copy = shutil.copy2

    def copy_then_sigterm(src, dst):
        copy(src, dst)
        os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(history_module.shutil, "copy2", copy_then_sigterm)
    before = signal.getsignal(signal.SIGTERM)
    assert main([str(make_run(tmp_path / "r", "night-23", 23)), "--history", str(history), "--store"]) == 2
    err = capsys.readouterr().err
    assert err == f"regress: not stored: interrupted by SIGTERM; the history at {history} is as before\n"
    assert sorted(p.name for p in (history / "ci-cpu").iterdir()) == ["night-20", "night-21", "night-22"]
    assert signal.getsignal(signal.SIGTERM) is before  # the store's handler lasts only while it stores
