"""Tests of the nightly regression check (suite.regress) on small synthetic results folders.

    pytest tests/test_regress.py

The folders are written by ``make_run`` from a template in the schema of suite/session.py, with
the verdicts judged by suite.spec.claims itself, so a planted change moves verdicts as a real run would.
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
from suite.spec.chapter3 import ABLATIONS
from suite.spec.claims import judge
from suite.store.files import ResultsError, atomic_write_json, read_json

ROOT = Path(__file__).resolve().parent.parent
SEEDS = [0, 1, 2]
# final values per variant; raw pixels are chaotic from seed to seed, scaled ones are not
BASE = {
    "raw": dict(val_acc=0.30, train_acc=0.31, val_loss=2.0, jitter=0.08),
    "scaled": dict(val_acc=0.80, train_acc=0.82, val_loss=0.55, jitter=0.002),
}


def make_run(
    root: Path,
    run_id: str,
    day: int,
    *,
    shift: dict | None = None,
    slow: float = 1.0,
    cpu: str = "Test CPU 8-core",
    profile: str = "ci",
    status: str = "complete",
) -> Path:
    """A complete results folder of the 'scaling' ablation; SHIFT = {(variant, metric): delta}."""
    shift = shift or {}
    variants, runs_by_variant = {}, {}
    for variant, base in BASE.items():
        runs = []
        for i, seed in enumerate(SEEDS):
            final = {
                m: base[m] + shift.get((variant, m), 0.0) + base["jitter"] * (i - 1)
                for m in ("val_acc", "train_acc", "val_loss")
            }
            history = {m: [v * 0.9, v] for m, v in final.items()}
            history.update(
                train_eval_loss=history["val_loss"], train_loss=history["val_loss"], lr=[0.01, 0.01], wall_s=[1.0, 1.0]
            )
            runs.append({"seed": seed, "history": history, "diverged_epoch": None, "wall_s": 2.0})
        runs_by_variant[variant] = runs
        variants[variant] = {
            "variant": variant,
            "label": variant,
            "config": {},
            "runs": runs,
            "duration_s": 10.0 * slow,
        }
    spec = ABLATIONS["scaling"]
    verdicts = [judge(c, runs_by_variant).as_dict() for c in spec.claims]
    results = {
        "schema": 1,
        "run_id": run_id,
        "command": ["pytest"],
        "started": f"2026-11-{day:02d}T22:00:00+00:00",
        "finished": f"2026-11-{day:02d}T22:30:00+00:00",
        "status": status,
        "profile": {"name": profile, "train_size": 6000, "val_size": 2000, "description": ""},
        "device": "cpu",
        "seeds": SEEDS,
        "base_seed": 0,
        "machine": {"cpu": cpu, "cpu_count": 8, "device": "cpu"},
        "ablations": {
            "scaling": {
                "title": spec.title,
                "status": "passed",
                "error": None,
                "variants": variants,
                "claims": [c.as_dict() for c in spec.claims],
                "verdicts": verdicts,
                "duration_s": 20.0 * slow,
            }
        },
        "extras": {},
    }
    bench = {
        "machine_info": {"cpu": {"brand_raw": cpu}},
        "benchmarks": [
            {
                "group": "scaling",
                "name": f"test_train[scaling-{v}]",
                "extra_info": {"variant": v},
                "stats": {"mean": 10.0 * slow, "rounds": 1},
            }
            for v in BASE
        ],
    }
    folder = root / run_id
    folder.mkdir(parents=True)
    (folder / "results.json").write_text(json.dumps(results))
    (folder / "benchmark.json").write_text(json.dumps(bench))
    return folder


@pytest.fixture
def history(tmp_path: Path) -> Path:
    """Three stored nights of an unchanged commit."""
    for day in (20, 21, 22):
        store(make_run(tmp_path / "reports", f"night-{day}", day), tmp_path / "history")
    return tmp_path / "history"


def rows(out: str, status: str) -> list[list[str]]:
    """The table rows of STATUS, split into cells (a claim's text splits too)."""
    return [line.split() for line in out.splitlines() if line.startswith("scaling ") and line.endswith(status)]


def test_unchanged_run_passes(tmp_path, history, capsys):
    current = make_run(tmp_path / "reports", "night-23", 23)
    assert main([str(current), "--history", str(history)]) == 0
    out = capsys.readouterr().out
    assert "baseline: night-22" in out and "REGRESSED" not in out
    assert "time_s" in out  # same machine: time was compared


def test_planted_accuracy_drop_is_caught(tmp_path, history, capsys):
    current = make_run(tmp_path / "reports", "night-23", 23, shift={("scaled", "val_acc"): -0.05})
    assert main([str(current), "--history", str(history)]) == 1
    regressed = rows(capsys.readouterr().out, "REGRESSED")
    assert [row[:3] for row in regressed] == [["scaling", "scaled", "val_acc"]]


def test_seed_spread_widens_the_tolerance(tmp_path, history):
    # raw pixels scatter by 0.08 between seeds: a 0.05 drop of their mean is noise, not a regression
    report = check(load_run(make_run(tmp_path / "reports", "n", 23, shift={("raw", "val_acc"): -0.05})), history)
    row = next(r for r in report["rows"] if r["variant"] == "raw" and r["metric"] == "val_acc")
    assert row["status"] == "OK" and row["tolerance"] > 0.05 and not report["regressed"]


def test_tolerance_option_overrides_the_floor(tmp_path, history):
    current = make_run(tmp_path / "reports", "night-23", 23, shift={("scaled", "val_acc"): -0.05})
    assert main([str(current), "--history", str(history), "--tolerance", "val_acc=0.1"]) == 0


@pytest.mark.parametrize(("cpu", "expected"), [("Test CPU 8-core", 1), ("Other CPU", 0)])
def test_slowdown_is_caught_only_on_the_same_machine(tmp_path, history, capsys, cpu, expected):
    current = make_run(tmp_path / "reports", "night-23", 23, slow=1.5, cpu=cpu)
    assert main([str(current), "--history", str(history)]) == expected
    out = capsys.readouterr().out
    if expected:
        assert [row[2] for row in rows(out, "REGRESSED")] == ["time_s"] * 2
        assert "+50%" in out
    else:
        assert "time not compared" in out and "time_s" not in out


@pytest.mark.parametrize("cpu", ["Test CPU 8-core", "Other CPU"])
def test_rows_and_notes_carry_their_kind_and_subject(tmp_path, history, cpu):
    report = check(load_run(make_run(tmp_path / "reports", "night-23", 23, cpu=cpu)), history)
    kinds = {row["kind"] for row in report["rows"]}
    assert kinds == ({"metric", "claim", "time"} if cpu.startswith("Test") else {"metric", "claim"})
    for row in report["rows"]:
        assert ("claim" in row) == (row["kind"] == "claim") and ("metric" in row) != ("claim" in row)
        assert row["kind"] != "time" or (row["metric"] == "time_s" and "relative_delta" in row)
    assert [n["kind"] for n in report["notes"]] == ([] if cpu.startswith("Test") else ["time_not_compared"])


def test_pass_to_fail_verdict_is_caught(tmp_path, history, capsys):
    # raw pixels get better (IMPROVED), which makes "scaled beats raw by 0.05" FAIL: a regression
    current = make_run(tmp_path / "reports", "night-23", 23, shift={("raw", "val_acc"): 0.48})
    assert main([str(current), "--history", str(history)]) == 1
    out = capsys.readouterr().out
    regressed = rows(out, "REGRESSED")
    assert len(regressed) == 1 and regressed[0][2:4] == ["claim:", "Scaled"]
    assert regressed[0][-5:] == ["PASS", "FAIL", "-", "-", "REGRESSED"]
    assert [row[:3] for row in rows(out, "IMPROVED")] == [["scaling", "raw", "val_acc"]]


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


def test_malformed_benchmark_file_is_named(tmp_path, history, capsys):
    (history / "ci-cpu" / "night-21" / "benchmark.json").write_text('{"benchmarks": 3}')
    assert main([str(make_run(tmp_path / "r", "night-23", 23)), "--history", str(history)]) == 2
    assert "night-21/benchmark.json" in capsys.readouterr().err


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
    assert "every row is NEW" in capsys.readouterr().out
    stored = history / "ci-cpu" / "night-20"
    assert sorted(p.name for p in stored.iterdir()) == ["benchmark.json", "results.json"]
    assert [p.name for p in (history / "ci-cpu").iterdir()] == ["night-20"]  # no staging leftovers

    second = make_run(tmp_path / "reports", "night-21", 21, shift={("scaled", "val_acc"): 0.001})
    assert main([str(second), "--history", str(history), "--store"]) == 0
    assert "baseline: night-20" in capsys.readouterr().out
    store(second, history)  # storing again replaces the copy
    assert [r.run_id for r in history_runs(history)] == ["night-20", "night-21"]

    report = check(load_run(make_run(tmp_path / "reports", "night-22", 22)), history)
    assert report["baseline"]["run_id"] == "night-21"
    trend = report["trend"]
    assert [r["run_id"] for r in trend["runs"]] == ["night-20", "night-21", "night-22"]
    assert trend["series"]["scaling"]["scaled"]["val_acc"] == pytest.approx([0.80, 0.801, 0.80])


def test_only_runs_of_the_same_profile_and_complete_runs_are_baselines(tmp_path, capsys):
    history = tmp_path / "history"
    store(make_run(tmp_path / "reports", "book-night", 20, profile="book"), history)
    killed = make_run(tmp_path / "reports", "killed", 21, status="interrupted")
    with pytest.raises(ResultsError, match="only complete runs"):
        store(killed, history)
    assert main([str(killed), "--history", str(history), "--store"]) == 2
    captured = capsys.readouterr()
    assert "note: not stored: the run killed is 'interrupted'" in captured.out
    assert captured.err.strip().splitlines() == [
        "regress: not stored: the run killed is 'interrupted', only complete runs are kept"
    ]
    assert not (history / "ci-cpu" / "killed").exists()
    out_json = tmp_path / "killed.json"
    assert main([str(killed), "--history", str(history), "--store", "--json", str(out_json)]) == 2
    report = json.loads(out_json.read_text())
    stored_note = [n for n in report["notes"] if n["kind"] == "not_stored"]
    assert stored_note == [
        {
            "kind": "not_stored",
            "run_id": "killed",
            "status": "interrupted",
            "error": None,
            "text": "not stored: the run killed is 'interrupted', only complete runs are kept",
        }
    ]
    capsys.readouterr()
    current = make_run(tmp_path / "reports", "night-22", 22, shift={("scaled", "val_acc"): -0.2})
    assert main([str(current), "--history", str(history)]) == 0
    assert "every row is NEW" in capsys.readouterr().out
    assert main([str(current), "--history", str(history), "--baseline", "book-night"]) == 2
    assert "only runs of one profile" in capsys.readouterr().err


def test_a_single_results_folder_is_the_baseline(tmp_path, capsys):
    baseline = make_run(tmp_path / "reports", "old", 20)
    current = make_run(tmp_path / "reports", "new", 21, shift={("scaled", "train_acc"): -0.05})
    out_json = tmp_path / "regress.json"
    assert main([str(current), "--history", str(baseline), "--json", str(out_json)]) == 1
    report = json.loads(out_json.read_text())
    assert report["baseline"]["run_id"] == "old" and report["regressed"]
    assert [(r["variant"], r["metric"]) for r in report["rows"] if r["status"] == "REGRESSED"] == [
        ("scaled", "train_acc")
    ]


def test_an_ablation_that_trained_nothing_lists_its_variants_as_missing(tmp_path, history, capsys):
    current = make_run(tmp_path / "reports", "night-23", 23)
    data = json.loads((current / "results.json").read_text())
    data["ablations"]["scaling"].update(status="error", variants={}, verdicts=[])
    (current / "results.json").write_text(json.dumps(data))
    assert main([str(current), "--history", str(history)]) == 0
    missing = rows(capsys.readouterr().out, "MISSING")
    assert len(missing) == 7 and {row[1] for row in missing} == {"raw", "scaled", "-"}


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


@pytest.mark.parametrize(("drop", "expected"), [(0.0, 0), (0.05, 1)])
def test_checked_in_sample_unchanged_passes_and_planted_drop_is_caught(tmp_path, capsys, drop, expected):
    tonight, history = _sample_history(tmp_path, drop)
    assert main([str(tonight), "--history", str(history)]) == expected
    out = capsys.readouterr().out
    assert ("REGRESSED" in out) == bool(expected)
    if expected:
        assert any(row[2] == "val_acc" for row in rows(out, "REGRESSED"))


def test_the_history_gets_the_umask_permissions_for_a_shared_ci_account(tmp_path):
    old = os.umask(0o027)
    try:
        dest = store(make_run(tmp_path / "reports", "night", 20), tmp_path / "history")
    finally:
        os.umask(old)
    assert stat.S_IMODE(dest.stat().st_mode) == 0o750
    assert stat.S_IMODE((dest / "results.json").stat().st_mode) == 0o640
