"""The metric registry and every claim form, on hand-made runs that a wrong implementation fails."""

import math

import pytest

from suite.spec.chapter3 import ABLATIONS
from suite.spec.claims import Claim, judge
from suite.spec.metrics import COMPARED, CURVES, METRICS, metric_value


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


def test_the_registry_feeds_curves_and_the_nightly_check():
    assert [m.name for m in CURVES] == ["train_loss", "val_loss", "train_acc", "val_acc"]
    assert {m.name: m.tolerance for m in COMPARED} == {"val_loss": 0.05, "train_acc": 0.02, "val_acc": 0.02}
    assert all(m.higher_is_better is not None for m in COMPARED)
    with pytest.raises(KeyError, match="unknown metric 'accuracy'"):
        metric_value(run(0, [0.5]), "accuracy")


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
    assert reported.outcome == "NOT REPRODUCED"


def test_no_runs_is_an_error_not_a_verdict():
    with pytest.raises(ValueError, match="no runs to judge 'x': need variants 'a' and 'b'"):
        judge(Claim("x", "val_acc", "a", "b", at_least=0.0), {"a": [run(0, [0.5])], "b": []})
