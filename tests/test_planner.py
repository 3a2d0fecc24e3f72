"""The run planner and the Workbench's cache: each distinct run trains once, prefixes are exact.

    pytest tests/test_planner.py -q

The planner is checked on the real ablation specs (no training); the Workbench on two small
made-up ablations over 512 training images, against the same runs trained alone.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pytest

import suite.engine.workbench
from suite.engine.planner import distinct_runs, epochs_saved, pack, requests_for, run_key
from suite.engine.run_record import activation_record, parameter_record, serialize, weight_abs_mean
from suite.engine.trainer import train
from suite.engine.workbench import Workbench
from suite.spec.ablation import Ablation, Variant
from suite.spec.chapter3 import ABLATIONS, ABLATIONS_LIST
from suite.spec.config import TrainConfig
from suite.spec.profiles import PROFILES, Profile

# One thread: on a busy 2-core machine two threads for these tiny matmuls spin-wait (10x slower).
pytestmark = pytest.mark.usefixtures("one_thread")

TINY = Profile("tiny", 512, 256, 2, "self-test: 512 training, 256 validation images")
BASE = dict(hidden=(64,), optimizer="adam", lr=1e-3, epochs=3)
ALPHA = Ablation(
    "alpha",
    "A",
    "?",
    BASE,
    (
        Variant("long", "3 epochs"),
        Variant("short", "1 epoch", dict(epochs=1)),
        Variant("fast", "lr 0.01", dict(lr=1e-2)),
    ),
    (),
)
BETA = Ablation(
    "beta",
    "B",
    "?",
    BASE,
    (Variant("same", "as alpha/long"), Variant("drop", "dropout", dict(dropout=0.25, epochs=2))),
    (),
)


@pytest.mark.subprocess
def test_the_planner_does_not_import_torch():
    code = "import sys, suite.engine.planner; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


@pytest.mark.parametrize(("profile", "asked", "trained"), [("ci", 153, 111), ("book", 625, 515)])
def test_identical_runs_and_prefixes_of_the_real_profiles(profile, asked, trained):
    requests = requests_for(ABLATIONS_LIST, PROFILES[profile], [0, 1])
    assert epochs_saved(requests) == (2 * asked, 2 * trained)
    runs = distinct_runs(requests)
    baseline = runs[run_key(ABLATIONS["annealing"].config("constant", PROFILES[profile]), 1)]
    assert sorted(r.name for r in baseline.requests) == [
        "annealing/constant",
        "depth/h1",
        "dropout/none",
        "l1/none",
        "l2/none",
        "lr_scaled/lr1e-3",
    ]
    assert baseline.snapshots == [ABLATIONS["depth"].config("h1", PROFILES[profile]).epochs]
    sgd = runs[run_key(ABLATIONS["scaling"].config("scaled", PROFILES[profile]), 0)]
    assert [r.name for r in sgd.requests] == ["scaling/scaled", "optimizer/sgd"] and sgd.cfg.epochs > sgd.snapshots[0]
    assert len({run.seed for run in runs.values()}) == 2  # seeds never merge


def test_pack_groups_by_shape_and_batch_and_keeps_the_order():
    runs = list(distinct_runs(requests_for(ABLATIONS_LIST, PROFILES["ci"], [0, 1, 2])).values())
    stacks = pack(runs, max_stack=4, train_size=6000)
    assert sorted(id(r) for s in stacks for r in s) == sorted(map(id, runs))  # each run once
    for stack in stacks:
        assert len(stack) <= 4
        assert len({(r.cfg.hidden, r.cfg.batch_norm, min(r.cfg.batch_size, 6000)) for r in stack}) == 1
        assert [r.cfg.epochs for r in stack] == sorted((r.cfg.epochs for r in stack), reverse=True)
    one_ablation = [r for r in runs if r.requests[0].ablation == "batch_norm"]
    assert [len(s) for s in pack(one_ablation, max_stack=3, train_size=6000)] == [3, 3, 3]  # no_bn / bn


def stored(records: dict) -> dict:
    """{variant: record} as the results file stores them."""
    return {variant: record.to_json() for variant, record in records.items()}


def _same_as_alone(run: dict, cfg: TrainConfig, data) -> None:
    alone = train(cfg, seed=run["seed"], train=data[0], val=data[1])
    assert run["history"] == {**alone.history, "wall_s": run["history"]["wall_s"]}
    assert run["diverged_epoch"] == alone.diverged_epoch
    assert run["weight_abs_mean"] == weight_abs_mean(alone.model)
    assert run["parameters"] == parameter_record(alone.model)


def test_each_distinct_run_trains_once_and_prefixes_are_served(tiny):
    bench = Workbench(TINY, "cpu", max_stack=3)
    bench.expect([ALPHA, BETA], [0, 1])
    alpha = stored(bench.run_ablation(ALPHA, [0, 1]))
    # long and short are one run (3 epochs, snapshot after 1), fast another: 4 runs, stacks of <= 3.
    assert sorted(s.epochs for s in bench.stacks) == [[3], [3, 3, 3]]
    assert bench.run_variant(BETA, "same", [0, 1]).runs[0].history == alpha["long"]["runs"][0]["history"]
    # served, not trained; where runs stack, its ablation-mate beta/drop trains with it
    assert [s.runs for s in bench.stacks[2:]] == [["beta/drop seed 0", "beta/drop seed 1"]]
    for variant in ("long", "short", "fast"):
        for run in alpha[variant]["runs"]:
            _same_as_alone(run, ALPHA.config(variant, TINY), tiny)
    assert [r["stack"]["served"] for r in alpha["short"]["runs"]] == ["prefix", "prefix"]
    assert [r["stack"]["served"] for r in alpha["long"]["runs"]] == ["trained", "trained"]
    record = bench.run_variant(BETA, "same", [0, 1]).to_json()
    assert [r["stack"]["served"] for r in record["runs"]] == ["identical", "identical"]
    assert record["stack"]["share_s"] == 0.0 and record["runs"][0]["stack"]["trained_by"] == "alpha/long"
    charged = sum(r["stack"]["share_s"] for v in alpha.values() for r in v["runs"])
    assert charged == pytest.approx(sum(s.seconds for s in bench.stacks[:2]))
    drop = stored(bench.run_ablation(BETA, [0, 1]))["drop"]
    for run in drop["runs"]:
        _same_as_alone(run, BETA.config("drop", TINY), tiny)


def test_run_variant_alone_plans_every_ablation_by_default(tiny, monkeypatch):
    monkeypatch.setattr(suite.engine.workbench, "ABLATIONS_LIST", [ALPHA, BETA])
    bench = Workbench(TINY, "cpu")
    short = bench.run_variant(ALPHA, "short", [0]).to_json()  # trains the 3-epoch run alpha/long also needs
    assert bench.stacks[0].epochs == [3] and len(short["runs"][0]["history"]["val_acc"]) == 1
    _same_as_alone(short["runs"][0], ALPHA.config("short", TINY), tiny)
    bench.run_variant(ALPHA, "long", [0])
    assert len(bench.stacks) == 1
    other_seed = bench.run_variant(ALPHA, "short", [5]).to_json()  # outside the plan: its own length
    assert bench.stacks[-1].epochs == [1] and other_seed["runs"][0]["seed"] == 5


def test_a_diverged_run_is_served_as_diverged(tiny):
    broken = Ablation(
        "broken",
        "B",
        "?",
        dict(BASE, input_scale=1e36, optimizer="sgd"),
        (Variant("long", "3 epochs"), Variant("short", "2 epochs", dict(epochs=2))),
        (),
    )
    bench = Workbench(TINY, "cpu")
    bench.expect([broken], [0])
    records = stored(bench.run_ablation(broken, [0]))
    assert len(bench.stacks) == 1
    for record in records.values():
        assert record["runs"][0]["diverged_epoch"] == 1 and len(record["runs"][0]["history"]["val_acc"]) == 1


def test_mode_probe_reuses_the_cache(tiny):
    bench = Workbench(TINY, "cpu")
    bench.expect([], [0])
    cfg = TrainConfig(dropout=0.25, hidden=(64,), optimizer="adam", lr=1e-3, epochs=1)
    rows = bench.mode_probe(cfg, [0, 1])
    assert len(bench.stacks) == 2 and all(r["eval_max_abs_diff"] == 0.0 < r["train_max_abs_diff"] for r in rows)
    assert bench.mode_probe(cfg, [0, 1]) == rows and len(bench.stacks) == 2


def test_records_keep_the_stored_format(tiny):
    bench = Workbench(TINY, "cpu")
    bench.expect([ALPHA], [0])
    record = bench.run_variant(ALPHA, "fast", [0]).to_json()
    assert {"variant", "label", "config", "runs", "stack"} <= set(record)
    assert set(record["runs"][0]) == {
        "seed",
        "history",
        "diverged_epoch",
        "wall_s",
        "weight_abs_mean",
        "parameters",
        "stack",
    }
    assert record["config"] == replace(ALPHA.config("fast", TINY)).as_dict()


def test_requests_outside_the_plan_share_a_run_when_they_can(tiny):
    bench = Workbench(TINY, "cpu")
    bench.expect([], [0])
    cfg = ALPHA.config("long", TINY)
    bench.mode_probe(replace(cfg, dropout=0.25, epochs=1), [0])
    records = [bench.run_variant(ALPHA, name, [0]).to_json() for name in ("short", "long")]  # not expected
    assert [s.epochs for s in bench.stacks] == [[1], [1], [3]]  # short first: its own length
    assert [len(r["runs"][0]["history"]["val_acc"]) for r in records] == [1, 3]


def test_where_runs_stack_the_first_variant_trains_its_whole_ablation(tiny):
    bench = Workbench(TINY, "cpu", max_stack=4)
    bench.expect([ALPHA], [0, 1])
    fast = bench.run_variant(ALPHA, "fast", [0, 1]).to_json()
    assert [len(s.runs) for s in bench.stacks] == [4]  # long (short is its prefix) and fast, 2 seeds
    trained = len(bench.stacks)
    long = bench.run_variant(ALPHA, "long", [0, 1]).to_json()
    assert len(bench.stacks) == trained  # served: the first variant trained it
    assert all(run["stack"]["served"] == "trained" and run["stack"]["share_s"] > 0 for run in long["runs"])
    assert fast["stack"]["share_s"] > 0 and fast["stack"]["ids"] == long["stack"]["ids"]
    _same_as_alone(long["runs"][1], ALPHA.config("long", TINY), tiny)


def test_where_runs_stack_one_schedule_packs_every_expected_ablation(tiny):
    """The expected runs of alpha and beta share one stack: the first variant asked for trains it
    (beta/drop too), beta's variants are then served, each run keeps its own share of the stack's
    time, and each has the numbers of the run alone."""
    bench = Workbench(TINY, "cpu", max_stack=8)
    bench.expect([ALPHA, BETA], [0, 1])
    progress = []
    fast = bench.run_variant(ALPHA, "fast", [0, 1], lambda *args: progress.append(args[:3])).to_json()
    assert [s.epochs for s in bench.stacks] == [[3, 3, 3, 3, 2, 2]]  # alpha/long (= beta/same), fast, beta/drop
    assert ("beta/drop", 1, 2) in progress and ("fast", 0, 3) in progress  # another ablation's run is named in full
    drop = bench.run_variant(BETA, "drop", [0, 1]).to_json()
    same = bench.run_variant(BETA, "same", [0, 1]).to_json()
    assert len(bench.stacks) == 1  # served
    assert [r["stack"]["served"] for r in drop["runs"] + same["runs"]] == ["trained"] * 4
    long = bench.run_variant(ALPHA, "long", [0, 1]).to_json()
    assert [r["stack"]["served"] for r in long["runs"]] == ["identical"] * 2  # beta/same paid for it
    shares = [r["stack"]["share_s"] for v in (fast, drop, same) for r in v["runs"]]
    assert sum(shares) == pytest.approx(bench.stacks[0].seconds) and min(shares) > 0
    _same_as_alone(drop["runs"][1], BETA.config("drop", TINY), tiny)
    _same_as_alone(fast["runs"][0], ALPHA.config("fast", TINY), tiny)


def test_one_run_at_a_time_trains_only_the_variant_asked_for(tiny):
    """Stacks of one (the CPU's default): a variant trains its own runs only, one per seed."""
    bench = Workbench(TINY, "cpu")
    bench.expect([ALPHA, BETA], [0, 1])
    bench.run_variant(BETA, "drop", [0, 1])
    assert [s.runs for s in bench.stacks] == [["beta/drop seed 0"], ["beta/drop seed 1"]]
    bench.run_variant(ALPHA, "short", [0, 1])  # the 3-epoch run it is a prefix of
    assert [s.epochs for s in bench.stacks[2:]] == [[3], [3]]


SERVED = {
    "plateau": dict(plateau_factor=0.5, plateau_threshold=10.0),  # cuts the rate after every epoch but the first
    "batch_norm": dict(batch_norm=True),
    "bn_book_slip": dict(batch_norm=True, eval_mode_slip=True),
    "dropout": dict(dropout=0.25),
}


@pytest.mark.parametrize("extra", SERVED.values(), ids=SERVED)
def test_served_runs_are_records_of_fresh_training(extra, tiny):
    """Prefixes (1 and 2 of 3 epochs) and an identical run of another ablation, served from the
    cache: each record equals that of the same run trained fresh, bitwise, activations included
    (eval mode: batch norm's running statistics, no dropout)."""
    base = dict(BASE, **extra)
    variants = (
        Variant("long", "3 epochs"),
        Variant("two", "2 epochs", dict(epochs=2)),
        Variant("one", "1 epoch", dict(epochs=1)),
    )
    first = Ablation("first", "F", "?", base, variants, (), probe_activations=True)
    second = Ablation("second", "S", "?", base, (Variant("same", "as first/long"),), (), probe_activations=True)
    bench = Workbench(TINY, "cpu")
    bench.expect([first, second], [0, 1])
    records = {("first", name): record for name, record in stored(bench.run_ablation(first, [0, 1])).items()}
    records["second", "same"] = stored(bench.run_ablation(second, [0, 1]))["same"]
    assert [s.epochs for s in bench.stacks] == [[3], [3]]  # one run per seed, trained once
    served = {f"{a}/{v}": [run["stack"]["served"] for run in r["runs"]] for (a, v), r in records.items()}
    assert served == {
        "first/long": ["trained"] * 2,
        "first/two": ["prefix"] * 2,
        "first/one": ["prefix"] * 2,
        "second/same": ["identical"] * 2,
    }
    x_val = tiny[1].pixels.float() * TrainConfig().input_scale  # the base's scale
    fresh = {}
    for (ablation, variant), record in records.items():
        cfg = {"first": first, "second": second}[ablation].config(variant, TINY)
        for run in record["runs"]:
            if (cfg, run["seed"]) not in fresh:
                alone = train(cfg, seed=run["seed"], train=tiny[0], val=tiny[1])
                fresh[cfg, run["seed"]] = serialize(alone, activations=activation_record(alone.model, x_val)).to_json()
            expected = dict(fresh[cfg, run["seed"]], stack=run["stack"], wall_s=run["wall_s"])
            expected["history"] = dict(expected["history"], wall_s=run["history"]["wall_s"])
            assert run == expected, (ablation, variant, run["seed"])
