"""The metric registry and every claim form, on hand-made runs that a wrong implementation fails."""

import math
from dataclasses import replace

import pytest

from suite.regress.table import format_table
from suite.report import fmt
from suite.spec.chapter3 import ABLATIONS
from suite.spec.claims import Claim, judge
from suite.spec.metrics import COMPARED, CURVES, FRACTION, LOSS, METRICS, SECONDS, metric_value


def run(seed, val_acc, train_acc=None, val_loss=None, train_eval_loss=None, weight=0.1):
    n = len(val_acc)
    return {
        "seed": seed,
        "diverged_epoch": None,
        "weight_abs_mean": weight,
        "history": {
            "val_acc": list(val_acc),
            "train_acc": list(train_acc or val_acc),
            "val_loss": list(val_loss or [0.5] * n),
            "train_loss": [0.4] * n,
            "train_eval_loss": list(train_eval_loss or [0.3] * n),
            "lr": [1e-3] * n,
        },
    }


def test_every_claim_reads_a_registered_metric():
    for ablation in ABLATIONS.values():
        for claim in ablation.claims:
            assert claim.metric in METRICS, f"{ablation.name}: {claim.metric}"
            assert METRICS[claim.metric].of_runs, f"{ablation.name}: {claim.metric} is not read from a run"


def test_the_registry_feeds_curves_and_the_nightly_check():
    assert [m.name for m in CURVES] == ["train_loss", "val_loss", "train_acc", "val_acc"]
    assert {m.name: m.tolerance for m in COMPARED} == {
        "val_loss": 0.05,
        "train_acc": 0.02,
        "val_acc": 0.02,
        "step_us": 0.25,  # relative: a share of the baseline's cost per step
    }
    assert all(m.higher_is_better is not None for m in COMPARED)
    assert METRICS["step_us"].unit.relative and not METRICS["step_us"].curve
    with pytest.raises(KeyError, match="unknown metric 'accuracy'"):
        metric_value(run(0, [0.5]), "accuracy")
    with pytest.raises(KeyError, match="'step_us' is a variant's"):
        metric_value(run(0, [0.5]), "step_us")


@pytest.fixture
def renamed(monkeypatch):
    """Registry entries whose names say nothing of their units: only the unit may decide a format."""
    fraction = replace(METRICS["val_acc"], name="holdout", label="Holdout", unit=FRACTION)
    loss = replace(METRICS["val_loss"], name="fake_acc", label="Fake", unit=LOSS)
    clock = replace(METRICS["step_us"], name="wall", label="Wall", unit=SECONDS)
    for metric in (fraction, loss, clock):
        monkeypatch.setitem(METRICS, metric.name, metric)
    return fraction, loss, clock


def test_a_metrics_unit_drives_how_the_report_writes_it(renamed):
    fraction, loss, clock = renamed
    nb = fmt.NB
    assert fmt.metric_value(fraction, 0.8412) == f"84.1{nb}%"
    assert fmt.metric_change(fraction, -0.06) == f"−6.0{nb}pp"
    assert fmt.metric_tolerance(fraction, 0.02) == f"2.0{nb}pp"
    assert fmt.metric_value(loss, 0.58) == "0.58" and fmt.metric_value(loss, math.inf) == "∞"
    assert fmt.metric_change(loss, 0.0123) == "+0.012" and fmt.metric_tolerance(loss, 0.05) == "0.050"
    assert fmt.metric_value(clock, 754.2) == f"12{nb}min 34{nb}s"
    assert fmt.metric_change(clock, 0.5) == f"+50{nb}%" and fmt.metric_tolerance(clock, 0.25) == f"25{nb}% slower"
    assert fmt.claim_value(0.5, {"metric": "holdout"}) == f"50.0{nb}%"
    assert fmt.claim_value(0.05, {"metric": "holdout", "baseline": "b"}) == f"+5.0{nb}pp"
    assert fmt.claim_value(0.5, {"metric": "fake_acc"}) == "0.500"
    assert fraction.shown(0.5) == 50 and loss.shown(0.5) == 0.5


def test_a_metrics_unit_drives_the_terminal_table(renamed):
    fraction, _, clock = renamed
    row = dict(kind="metric", ablation="a", variant="v", baseline=0.8, current=0.7, tolerance=0.02, status="OK")
    report = {
        "current": {"run_id": "r", "profile": "ci", "device": "cpu", "started": "s"},
        "baseline": {"run_id": "b", "started": "s"},
        "time_baseline": None,
        "rows": [
            {**row, "metric": fraction.name, "delta": -0.1},
            {
                **row,
                "kind": "time",
                "metric": clock.name,
                "baseline": 10.0,
                "current": 15.0,
                "delta": 5.0,
                "tolerance": 0.25,
                "relative_delta": 0.5,
            },
        ],
        "notes": [],
        "counts": {"OK": 2},
        "headline": ["PASS"],
        "mode": "exact",
    }
    lines = format_table(report, verbose=True).splitlines()
    assert lines[-3].split() == ["a", "v", "holdout", "0.8000", "0.7000", "-0.1000", "0.0200", "OK"]
    assert lines[-2].split() == ["a", "v", "wall", "10.0s", "15.0s", "+50%", "25%", "OK"]


def test_gap_acc_is_training_minus_validation_at_the_epoch():
    r = run(0, val_acc=[0.5, 0.7], train_acc=[0.6, 0.9])
    assert metric_value(r, "gap_acc") == pytest.approx(0.2)
    assert metric_value(r, "gap_acc", epoch=1) == pytest.approx(0.1)


def test_gap_loss_and_min_val_loss():
    r = run(0, [0.5, 0.6, 0.7], val_loss=[0.9, 0.4, 0.6], train_eval_loss=[0.8, 0.3, 0.2])
    assert metric_value(r, "gap_loss") == pytest.approx(0.4)
    assert metric_value(r, "min_val_loss") == pytest.approx(0.4)


def test_weight_abs_mean_is_the_final_models():
    assert metric_value(run(0, [0.5], weight=0.0123), "weight_abs_mean") == 0.0123


def test_a_relative_difference_divides_by_the_baseline():
    runs = {"l1": [run(0, [0.8], weight=0.05)], "none": [run(0, [0.8], weight=0.2)]}
    verdict = judge(Claim("shrinks", "weight_abs_mean", "l1", "none", relative=True, at_most=-0.5), runs)
    assert verdict.per_seed == [pytest.approx(-0.75)]  # (0.05 - 0.2) / 0.2; dividing by 0.05 gives -3
    assert verdict.outcome == "PASS"


def test_a_zero_baseline_makes_a_relative_difference_infinite():
    runs = {"a": [run(0, [0.8], weight=0.1)], "b": [run(0, [0.8], weight=0.0)]}
    verdict = judge(Claim("x", "weight_abs_mean", "a", "b", relative=True, at_most=0.0), runs)
    assert verdict.per_seed == [math.inf] and verdict.outcome == "FAIL"


@pytest.mark.parametrize(
    ("mean_acc", "outcome"), [(0.79, "FAIL"), (0.80, "PASS"), (0.85, "PASS"), (0.90, "PASS"), (0.91, "FAIL")]
)
def test_two_sided_bounds(mean_acc, outcome):
    runs = {"a": [run(0, [mean_acc - 0.01]), run(1, [mean_acc + 0.01])]}
    assert judge(Claim("between", "val_acc", "a", at_least=0.80, at_most=0.90), runs).outcome == outcome


def test_a_diverged_loss_is_the_worst_and_never_a_nan_mean():
    runs = {
        "big": [run(0, [0.1], val_loss=[math.nan]), run(1, [0.8], val_loss=[0.4])],
        "small": [run(0, [0.8], val_loss=[0.5]), run(1, [0.8], val_loss=[0.5])],
    }
    assert metric_value(runs["big"][0], "val_loss") == math.inf
    verdict = judge(Claim("big is worse", "val_loss", "big", "small", at_least=0.0), runs)
    assert verdict.mean == math.inf and verdict.outcome == "PASS"
    verdict = judge(Claim("big is better", "val_loss", "big", "small", at_most=0.0), runs)
    assert verdict.outcome == "FAIL" and verdict.spread == 0.0  # the spread of the finite values only


@pytest.mark.parametrize("bound", [dict(at_least=0.0), dict(at_most=0.0), dict(at_least=-1.0, at_most=1.0)])
def test_two_diverged_runs_compare_to_nothing_and_support_no_bound(bound):
    """inf - inf is NaN: whichever way the bound points, a seed where both runs diverged cannot
    support it (before, NaN counted as +inf and passed every lower bound)."""
    runs = {
        "a": [run(0, [0.1], val_loss=[math.nan]), run(1, [0.8], val_loss=[0.4])],
        "b": [run(0, [0.1], val_loss=[math.inf]), run(1, [0.8], val_loss=[0.5])],
    }
    verdict = judge(Claim("a vs b", "val_loss", "a", "b", **bound), runs)
    assert math.isnan(verdict.per_seed[0]) and math.isnan(verdict.mean) and verdict.outcome == "FAIL"
    assert "nan" in verdict.message()
    reported = judge(Claim("a vs b", "val_loss", "a", "b", asserted=False, **bound), runs)
    assert reported.outcome == "INCONCLUSIVE"  # a reported claim says what the seeds cannot


def test_no_runs_is_an_error_not_a_verdict():
    with pytest.raises(ValueError, match="no runs to judge 'x': need variants 'a' and 'b'"):
        judge(Claim("x", "val_acc", "a", "b", at_least=0.0), {"a": [run(0, [0.5])], "b": []})
