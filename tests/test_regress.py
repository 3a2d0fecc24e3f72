"""Tests of the nightly regression check (suite.regress) on small synthetic results folders.

    pytest tests/test_regress.py

The folders are written by ``tests.helpers.make_run`` in the results schema, with the verdicts judged by
suite.spec.claims itself, so a planted change moves verdicts as a real run would. The history's
corruption cases (same id, duplicate ids, a failed night, another schema, an interrupted store)
are in tests/test_regress_history.py.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from suite.regress import check, history_runs, load_run, store
from suite.regress.__main__ import main
from suite.store.files import atomic_write_json, read_json
from tests.helpers import BUSY, QUIET, make_run

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def history(tmp_path: Path) -> Path:
    """Three stored nights of an unchanged commit."""
    for day in (20, 21, 22):
        store(make_run(tmp_path / "reports", f"night-{day}", day), tmp_path / "history")
    return tmp_path / "history"


def lines(out: str) -> list[str]:
    return out.splitlines()


def test_unchanged_run_passes_exactly(tmp_path, history, capsys):
    current = make_run(tmp_path / "reports", "night-23", 23)
    assert main([str(current), "--history", str(history)]) == 0
    out = lines(capsys.readouterr().out)
    assert out[0] == "PASS: every stored value repeats exactly"
    assert "baseline: night-22 (started 2026-11-22T22:00:00+00:00), compared exactly" in out
    assert "REGRESSED" not in "\n".join(out) and out[-1].endswith(" OK")


def test_served_variant_loaded_machine_unchanged_environment_pass(tmp_path, history, capsys):
    # served: its wall time is ~0 and must never be compared; loaded: its times say nothing
    current = make_run(tmp_path / "reports", "night-23", 23, served=("raw",), load=BUSY, slow=3.0)
    assert main([str(current), "--history", str(history), "--json", str(tmp_path / "r.json")]) == 0
    out = capsys.readouterr().out
    assert "note: time not compared: machine loaded (its threads waited 38% of their time for a CPU)" in out
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["verdict"] == "pass" and not [r for r in report["rows"] if r["kind"] == "time"]


def test_a_changed_value_in_the_same_environment_fails_naming_it(tmp_path, history, capsys):
    current = make_run(tmp_path / "reports", "night-23", 23, shift={("scaled", "weight_abs_mean"): 1e-9})
    assert main([str(current), "--history", str(history), "--json", str(tmp_path / "r.json")]) == 1
    out = lines(capsys.readouterr().out)
    assert out[0] == "FAIL"
    assert out[1] == (
        "  changed in the same environment: 3 stored values moved in 1 variants and claims; "
        "first scaling/scaled seed 0 weight_abs_mean: 0.02 → 0.020000001"
    )
    finding = json.loads((tmp_path / "r.json").read_text())["findings"][0]
    assert finding["kind"] == "changed_same_environment" and finding["first"]["what"] == "weight_abs_mean"
    assert (finding["first"]["ablation"], finding["first"]["subject"], finding["first"]["seed"]) == (
        "scaling",
        "scaled",
        0,
    )


def test_the_same_change_in_another_environment_is_within_noise(tmp_path, history, capsys):
    current = make_run(tmp_path / "reports", "n", 23, torch="2.1.0", shift={("scaled", "val_acc"): 0.001})
    assert main([str(current), "--history", str(history)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("PASS: compared statistically") and "torch 2.0.0 → 2.1.0" in out


@pytest.mark.parametrize(("delta", "status", "code"), [(-0.03, "REGRESSED", 1), (0.03, "IMPROVED", 0)])
def test_a_shift_beyond_noise_is_surfaced_either_way_and_fails_one(tmp_path, history, capsys, delta, status, code):
    current = make_run(tmp_path / "reports", "n", 23, torch="2.1.0", shift={("scaled", "val_acc"): delta})
    assert main([str(current), "--history", str(history)]) == code
    out = lines(capsys.readouterr().out)
    assert out[0] == ("FAIL" if code else "PASS: compared statistically")
    assert out[1].startswith(f"  {status}: scaling scaled val_acc: 0.8 → ") and "Welch p = " in out[1]


def test_seed_spread_widens_what_is_noise(tmp_path, history):
    # raw pixels scatter by 0.08 between seeds: a 0.05 drop of their mean is noise, not a regression
    run = load_run(make_run(tmp_path / "reports", "n", 23, torch="2.1.0", shift={("raw", "val_acc"): -0.05}))
    row = next(r for r in check(run, history)["rows"] if r["variant"] == "raw" and r.get("metric") == "val_acc")
    assert row["status"] == "OK" and row["tolerance"] > 0.05 and 0.01 < row["p"] < 1


def test_claim_statistics_are_compared_too(tmp_path, history):
    """A shift of the raw variant that leaves every claim's verdict alone still moves the
    statistic 'scaled minus raw' beyond noise in another environment."""
    run = load_run(make_run(tmp_path / "reports", "n", 23, torch="2.1.0", shift={("raw", "val_acc"): 0.02}))
    report = check(run, history)
    stats = [r for r in report["rows"] if r["kind"] == "statistic"]
    assert stats and all(r["claim"] and r["metric"] for r in stats)
    claims = [r for r in report["rows"] if r["kind"] == "claim"]
    assert all(r["status"] == "OK" for r in claims)


def test_tolerance_option_overrides_the_floor(tmp_path, history):
    current = make_run(tmp_path / "reports", "n", 23, torch="2.1.0", shift={("scaled", "val_acc"): -0.03})
    assert main([str(current), "--history", str(history), "--tolerance", "val_acc=0.1"]) == 0


@pytest.mark.parametrize(("cpu", "load", "expected"), [("Test CPU 8-core", QUIET, 1), ("Other CPU", QUIET, 0)])
def test_a_slower_step_is_caught_only_on_the_same_quiet_machine(tmp_path, history, capsys, cpu, load, expected):
    current = make_run(tmp_path / "reports", "night-23", 23, slow=1.5, cpu=cpu, load=load)
    assert main([str(current), "--history", str(history)]) == expected
    out = capsys.readouterr().out
    if expected:
        slower = "REGRESSED: scaling/raw µs per run-step 1000 → 1500 (+50%; allowed +25% over the median of 3 nights)"
        assert slower in out
    else:
        assert "time not compared: no earlier run of this profile on this machine" in out


def test_accepted_change_passes_is_stored_with_its_reason_and_becomes_the_baseline(tmp_path, history, capsys):
    changed = make_run(tmp_path / "reports", "night-23", 23, shift={("scaled", "val_acc"): -0.03})
    assert main([str(changed), "--history", str(history), "--store", "--accept", "new trainer"]) == 0
    assert capsys.readouterr().out.startswith("ACCEPTED (failed, accepted as intended)")
    accepted = read_json(history / "ci-cpu" / "night-23" / "accepted.json")
    assert accepted["reason"] == "new trainer" and accepted["findings"][0]["kind"] == "changed_same_environment"
    assert load_run(history / "ci-cpu" / "night-23").accepted["reason"] == "new trainer"
    same = make_run(tmp_path / "reports", "night-24", 24, shift={("scaled", "val_acc"): -0.03})
    assert main([str(same), "--history", str(history)]) == 0  # against the accepted night: nothing moved


def test_rows_notes_and_findings_carry_their_kind(tmp_path, history):
    run = load_run(make_run(tmp_path / "reports", "night-23", 23, torch="2.1.0", shift={("raw", "val_acc"): 0.48}))
    report = check(run, history)
    assert {row["kind"] for row in report["rows"]} == {"metric", "statistic", "claim", "time"}
    assert [n["kind"] for n in report["notes"]] == ["environment"]
    assert report["notes"][0]["differences"] == ["torch 2.0.0 → 2.1.0"]
    assert {f["kind"] for f in report["findings"]} >= {"regressed", "shifted"}
    assert all("text" in f and isinstance(f["fails"], bool) for f in report["findings"])


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        '{"schema": 1}',
        json.dumps({"schema": 1, "run_id": "x", "profile": "ci", "seeds": [0], "machine": {}, "ablations": {"a": {}}}),
    ],
)
def test_malformed_history_file_exits_2_with_one_line(tmp_path, history, capsys, content):
    bad = history / "ci-cpu" / "broken" / "results.json"
    bad.parent.mkdir()
    bad.write_text(content)
    current = make_run(tmp_path / "reports", "night-23", 23)
    assert main([str(current), "--history", str(history)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(bad) in err


@pytest.mark.subprocess
def test_cli_prints_no_traceback_and_imports_no_torch(tmp_path):
    command = [sys.executable, "-m", "suite.regress", str(tmp_path / "nope"), "--history", str(tmp_path)]
    cli = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert cli.returncode == 2 and cli.stderr.count("\n") == 1 and "nope" in cli.stderr
    probe = "import sys, suite.regress; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", probe], cwd=ROOT).returncode == 0


def test_store_then_compare_against_the_history(tmp_path, capsys):
    history = tmp_path / "history"
    first = make_run(tmp_path / "reports", "night-20", 20)
    assert main([str(first), "--history", str(history), "--store"]) == 0  # first night: no history yet
    assert capsys.readouterr().out.startswith("FIRST NIGHT")
    stored = history / "ci-cpu" / "night-20"
    assert sorted(p.name for p in stored.iterdir()) == ["results.json"]
    assert [p.name for p in (history / "ci-cpu").iterdir()] == ["night-20"]  # no staging leftovers
    second = make_run(tmp_path / "reports", "night-21", 21)
    assert main([str(second), "--history", str(history), "--store"]) == 0
    assert "baseline: night-20" in capsys.readouterr().out
    assert [r.run_id for r in history_runs(history)] == ["night-20", "night-21"]
    report = check(load_run(make_run(tmp_path / "reports", "night-22", 22)), history)
    assert report["baseline"]["run_id"] == "night-21"
    trend = report["trend"]
    assert [r["run_id"] for r in trend["runs"]] == ["night-20", "night-21", "night-22"]
    assert trend["series"]["scaling"]["scaled"]["val_acc"] == pytest.approx([0.80, 0.80, 0.80])
    assert trend["series"]["scaling"]["scaled"]["step_us"] == pytest.approx([1000.0] * 3)


def test_only_runs_of_the_same_profile_and_complete_runs_are_baselines(tmp_path, capsys):
    history = tmp_path / "history"
    store(make_run(tmp_path / "reports", "book-night", 20, profile="book"), history)
    killed = make_run(tmp_path / "reports", "killed", 21, status="interrupted")
    assert main([str(killed), "--history", str(history), "--store"]) == 1  # a night that did not finish fails
    captured = capsys.readouterr()
    assert "the run did not complete: the run killed is 'interrupted'" in captured.out
    assert captured.err.strip().splitlines() == [
        "regress: not stored: the run killed is 'interrupted', only complete runs are kept"
    ]
    assert not (history / "ci-cpu" / "killed").exists()
    current = make_run(tmp_path / "reports", "night-22", 22, shift={("scaled", "val_acc"): -0.2})
    assert main([str(current), "--history", str(history)]) == 0
    assert capsys.readouterr().out.startswith("FIRST NIGHT")
    assert main([str(current), "--history", str(history), "--baseline", "book-night"]) == 2
    assert "only runs of one profile" in capsys.readouterr().err


def test_a_single_results_folder_is_the_baseline(tmp_path):
    baseline = make_run(tmp_path / "reports", "old", 20)
    current = make_run(tmp_path / "reports", "new", 21, torch="2.1.0", shift={("scaled", "train_acc"): -0.05})
    out_json = tmp_path / "regress.json"
    assert main([str(current), "--history", str(baseline), "--json", str(out_json)]) == 1
    report = json.loads(out_json.read_text())
    assert report["baseline"]["run_id"] == "old" and report["verdict"] == "fail"
    regressed = [(r["variant"], r["metric"]) for r in report["rows"] if r["status"] == "REGRESSED"]
    assert ("scaled", "train_acc") in regressed


def _sample_history(tmp_path: Path, drop: float) -> tuple[Path, Path]:
    """The checked-in ci-sample as 'last night' in a history, and as tonight's run with
    every variant's final validation accuracy lowered by DROP."""
    sample = read_json(ROOT / "tests" / "data" / "ci-sample" / "results.json")
    yesterday = dict(sample, run_id="last-night", started="2000-01-01T00:00:00+00:00")
    atomic_write_json(tmp_path / "history" / "ci-cpu" / "last-night" / "results.json", yesterday)
    for entry in sample["ablations"].values():
        for variant in entry["variants"].values():
            for run in variant["runs"]:
                run["history"]["val_acc"][-1] -= drop
    atomic_write_json(tmp_path / "tonight" / "results.json", sample)
    return tmp_path / "tonight", tmp_path / "history"


@pytest.mark.parametrize(("drop", "expected"), [(0.0, 0), (1e-6, 1)])
def test_checked_in_sample_repeats_and_a_planted_drop_is_caught(tmp_path, capsys, drop, expected):
    tonight, history = _sample_history(tmp_path, drop)
    assert main([str(tonight), "--history", str(history)]) == expected
    out = lines(capsys.readouterr().out)
    assert out[0] == ("FAIL" if expected else "PASS: every stored value repeats exactly")


def test_the_history_gets_the_umask_permissions_for_a_shared_ci_account(tmp_path):
    old = os.umask(0o027)
    try:
        dest = store(make_run(tmp_path / "reports", "night", 20), tmp_path / "history")
    finally:
        os.umask(old)
    assert stat.S_IMODE(dest.stat().st_mode) == 0o750
    assert stat.S_IMODE((dest / "results.json").stat().st_mode) == 0o640


def test_an_epoch_fewer_is_a_change_and_an_unfinished_variant_is_missing_not_moved(tmp_path, history):
    short = make_run(tmp_path / "reports", "short", 23)
    data = json.loads((short / "results.json").read_text())
    scaled = data["ablations"]["scaling"]["variants"]["scaled"]
    scaled["config"]["epochs"] = 1  # trained one epoch, as configured (a run shorter than its config is malformed)
    for run in scaled["runs"]:
        run["history"] = {curve: values[:1] for curve, values in run["history"].items()}
    del data["ablations"]["scaling"]["variants"]["raw"]
    data["ablations"]["scaling"].update(verdicts=[], status="running")  # stopped before raw trained
    (short / "results.json").write_text(json.dumps(data))
    report = check(load_run(short), history)
    first = report["findings"][0]
    assert first["kind"] == "changed_same_environment"
    assert (first["first"]["subject"], first["first"]["what"], first["first"]["current"]) == (
        "scaled",
        "val_acc at epoch 2",
        None,
    )
    moved_subjects = {row["variant"] for row in report["rows"] if row["status"] == "MOVED"}
    assert "raw" not in moved_subjects
    assert {row["status"] for row in report["rows"] if row["variant"] == "raw"} == {"MISSING"}


def _reported(folder: Path, outcome: str) -> Path:
    """FOLDER's scaling claim made a reported one whose seeds straddle its bound, stored as OUTCOME."""
    raw = read_json(folder / "results.json")
    entry = raw["ablations"]["scaling"]
    entry["claims"][0]["asserted"] = False
    entry["verdicts"][0].update(asserted=False, outcome=outcome, per_seed=[0.2, 0.1, -0.05])
    atomic_write_json(folder / "results.json", raw)
    return folder


def test_reported_verdicts_are_reread_with_todays_rule_on_both_sides(tmp_path):
    """A baseline stored before INCONCLUSIVE existed said REPRODUCED for seeds that straddle the
    bound; tonight's writer says INCONCLUSIVE for the same seeds: the same reading, not a CHANGED row."""
    store(_reported(make_run(tmp_path / "reports", "night-20", 20), "REPRODUCED"), tmp_path / "history")
    current = load_run(_reported(make_run(tmp_path / "reports", "night-21", 21), "INCONCLUSIVE"))
    report = check(current, tmp_path / "history")
    claim = next(r for r in report["rows"] if r["kind"] == "claim")
    assert (claim["baseline"], claim["current"], claim["status"]) == ("INCONCLUSIVE", "INCONCLUSIVE", "OK")
    assert report["verdict"] == "pass"


@pytest.mark.parametrize("first_night", [False, True])
def test_a_run_that_did_not_complete_fails_the_night_whatever_it_matched(tmp_path, history, capsys, first_night):
    """A run stopped by an error (here: before it trained anything it was asked for) must not pass
    on the values it does have: found by the fault benchmark's 'one epoch short', which the trainer's
    own check stopped at the start."""
    current = make_run(tmp_path / "reports", "night-23", 23, status="error")
    raw = read_json(current / "results.json")
    raw["error"] = "cannot start: every run leaves at its last epoch"
    atomic_write_json(current / "results.json", raw)
    where = tmp_path / "empty" if first_night else history
    where.mkdir(exist_ok=True)
    assert main([str(current), "--history", str(where), "--json", str(tmp_path / "r.json")]) == 1
    out = lines(capsys.readouterr().out)
    assert out[0] == "FAIL"
    assert "the run did not complete: the run night-23 is 'error' (cannot start: every run leaves" in "\n".join(out)
    assert read_json(tmp_path / "r.json")["findings"][0]["kind"] == "incomplete"
