"""One honest time per variant, the Timings page's total, and the load flags, in the report's model.

    pytest tests/test_report_timing.py -q

No rendering: ``suite.report.content.build`` on copies of the ci sample with stack records and
load samples written in, as a run of today's harness writes them (checked at the end).
"""

from __future__ import annotations

import copy
import json
import shutil
from datetime import datetime

import pytest

from suite.harness.run import RunSession
from suite.report import fmt
from suite.report.content import build
from suite.spec.profiles import PROFILES
from suite.store.load import LoadSample, loaded_between
from suite.store.records import AblationEntry
from suite.store.results import load_run
from suite.store.validation import Bad
from tests.helpers import SAMPLE

QUIET = ({"loadavg": [0.5, 0.5, 0.5], "run_s": 10.0, "wait_s": 1.0}, {"run_s": 20.0, "wait_s": 1.2})
BUSY = ({"loadavg": [3.5, 3.0, 2.0], "run_s": 10.0, "wait_s": 1.0}, {"run_s": 20.0, "wait_s": 9.0})  # 8 of 18 s


def sample_copy(tmp_path, change) -> dict:
    """The model of the ci sample after CHANGE(results JSON) edits its results file."""
    run = tmp_path / "run"
    shutil.copytree(SAMPLE, run)
    raw = json.loads((run / "results.json").read_text())
    change(raw)
    (run / "results.json").write_text(json.dumps(raw))
    return build(run)


def stacked(raw: dict) -> None:
    """Optimizer/SGD served from Scaling/scaled's training, as the planner serves an identical run."""
    for run in raw["ablations"]["scaling"]["variants"]["scaled"]["runs"]:
        run["stack"] = {"id": "s1", "runs": 2, "seconds": 4.0, "share_s": 2.0, "served": "trained"}
        run["stack"]["trained_by"] = "scaling/scaled"
    raw["ablations"]["scaling"]["variants"]["scaled"]["stack"] = {"ids": ["s1"], "share_s": 4.0}
    sgd = raw["ablations"]["optimizer"]["variants"]["sgd"]
    for run in sgd["runs"]:
        run["stack"] = {"id": "s1", "share_s": 0.0, "served": "identical", "trained_by": "scaling/scaled"}
    sgd["stack"], sgd["duration_s"] = {"ids": ["s1"], "share_s": 0.0}, 0.02


def variant(model: dict, ablation: str, name: str) -> dict:
    section = next(s for s in model["sections"] if s["name"] == ablation)
    return next(v for v in section["variants"] if v["name"] == name)


def test_a_served_variant_says_whom_it_was_served_from(tmp_path):
    model = sample_copy(tmp_path, stacked)
    sgd = variant(model, "optimizer", "sgd")
    assert sgd["time"]["seconds"] is None, "no 0.02 s of cache look-up passes for a training time"
    assert sgd["time"]["text"] == "shared with Scaling the input / pixels / 255"
    assert sgd["time"]["short"] == "shared with 2.1 pixels / 255"
    assert variant(model, "scaling", "scaled")["time"]["text"] == fmt.duration(4.0), "the stack share, not the test"
    row = next(r for r in model["timings"]["rows"] if r["variant"] is sgd)
    assert row["time"] == sgd["time"]["text"] and row["per_epoch"] == fmt.MISSING


def test_the_timings_total_reconciles_with_the_wall_time(tmp_path):
    model = sample_copy(tmp_path, stacked)
    timings = model["timings"]
    total = sum(r["seconds"] or 0.0 for r in timings["rows"])
    assert timings["total"] == fmt.duration(total)
    results = json.loads((SAMPLE / "results.json").read_text())
    wall = (datetime.fromisoformat(results["finished"]) - datetime.fromisoformat(results["started"])).total_seconds()
    assert f"wall time, {fmt.duration(wall)}, is that plus {fmt.duration(wall - total)} of the rest" in timings["rest"]
    assert model["scoreboard"].wall_time == fmt.duration(wall), "page one's total is the one reconciled"


def loads(ablation: str, samples: tuple[dict, dict], run: tuple[dict, dict] | None = None):
    def change(raw: dict) -> None:
        raw["ablations"][ablation]["load_start"], raw["ablations"][ablation]["load_end"] = samples
        if run:
            raw["machine"]["load_start"], raw["machine"]["load_end"] = run

    return change


def test_an_ablation_that_ran_on_a_loaded_machine_is_flagged(tmp_path):
    model = sample_copy(tmp_path, loads("batch_norm", BUSY, run=BUSY))
    flagged = {s["name"]: s["load"] for s in model["sections"] if s["load"]}
    assert flagged == {"batch_norm": "its threads waited 44% of their time for a CPU"}
    assert [s["name"] for s in model["timings"]["loaded"]] == ["batch_norm"]
    assert ("Machine load", model["scoreboard"].load_text, "partial") in model["scoreboard"].rows()
    assert "44%" in model["scoreboard"].line()


def test_a_quiet_run_is_not_flagged(tmp_path):
    model = sample_copy(tmp_path, loads("batch_norm", QUIET, run=QUIET))
    assert not any(s["load"] for s in model["sections"]) and not model["timings"]["loaded"]
    assert not model["scoreboard"].load and "Machine load" not in [row[0] for row in model["scoreboard"].rows()]


def test_without_schedstat_the_load_average_decides():
    start, end = {"loadavg": [5.0, 4.0, 3.0]}, {"loadavg": [1.0, 1.0, 1.0]}
    assert loaded_between(start, end, cores=2, threads=1) == "load average 5.0 at the start, 1.0 at the end, on 2 CPUs"
    assert loaded_between({"loadavg": [0.2]}, {"loadavg": [2.0]}, cores=2, threads=1) is None  # its own thread


def test_an_entrys_load_samples_round_trip_and_are_checked():
    entry = AblationEntry.planned("scaling", "ci").to_json()
    assert "load_start" not in entry, "an entry without samples is written as before"
    entry["load_start"], entry["load_end"] = BUSY
    read = AblationEntry.from_json(copy.deepcopy(entry), "ablations.scaling")
    assert isinstance(read.load_start, LoadSample) and read.to_json() == entry
    entry["load_end"] = {"run_s": -1.0}
    with pytest.raises(Bad, match=r"ablations.scaling.load_end.run_s"):
        AblationEntry.from_json(entry, "ablations.scaling")


def test_the_session_samples_the_load_as_an_ablation_starts_and_is_judged(tmp_path):
    sample = load_run(SAMPLE)
    session = RunSession(
        profile=PROFILES["ci"], device="cpu", seeds=2, base_seed=sample.base_seed or 0, data_dir=None,
        run_dir=tmp_path / "unused", command=[],
    )  # fmt: skip

    class Bench:  # serves the sample's records instead of training
        def run_variant(self, ablation, name, seeds, on_epoch):
            return copy.deepcopy(sample.ablations[ablation.name].variants[name])

    session._bench = Bench()
    session.judge("scaling")
    entry = session.results.ablations["scaling"]
    assert entry.verdicts and entry.load_start is not None and entry.load_end is not None
    assert entry.load_end.run_s is None or entry.load_end.run_s >= (entry.load_start.run_s or 0.0)
