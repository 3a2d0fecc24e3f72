"""Judging claims from per-seed runs: pairing by seed, bounds, reported claims, diverged runs."""

import math

import pytest

from suite.spec.chapter3 import ABLATIONS
from suite.spec.claims import LEVEL, Claim, judge, reported_outcome
from suite.spec.metrics import metric_value
from suite.spec.profiles import PROFILES


def run(seed, val_acc, val_loss=0.5, train_acc=None, diverged_epoch=None):
    return {
        "seed": seed,
        "diverged_epoch": diverged_epoch,
        "weight_abs_mean": 0.1,
        "history": {
            "val_acc": list(val_acc),
            "val_loss": [val_loss] * len(val_acc),
            "train_acc": list(train_acc or val_acc),
            "train_eval_loss": [0.3] * len(val_acc),
            "train_loss": [0.3] * len(val_acc),
            "lr": [1e-3] * len(val_acc),
        },
    }


RUNS = {"a": [run(0, [0.5, 0.80]), run(1, [0.5, 0.82])], "b": [run(0, [0.5, 0.70]), run(1, [0.4, 0.78])]}


def test_paired_difference_with_per_seed_numbers_in_the_message():
    verdict = judge(Claim("a beats b", "val_acc", "a", "b", at_least=0.05), RUNS)
    assert verdict.outcome == "PASS" and verdict.per_seed == pytest.approx([0.10, 0.04])
    assert verdict.mean == pytest.approx(0.07) and verdict.seeds == [0, 1]
    assert "0.07 ±" in verdict.message() and "[0.1, 0.04]" in verdict.message()


def test_failing_asserted_claim_and_epoch_selection():
    assert judge(Claim("a far ahead", "val_acc", "a", "b", at_least=0.2), RUNS).outcome == "FAIL"
    assert judge(Claim("a at epoch 1", "val_acc", "a", "b", epoch=1, at_most=0.0), RUNS).outcome == "FAIL"
    assert judge(Claim("b level", "val_acc", "b", epoch=1, at_least=0.45), RUNS).outcome == "PASS"


def test_reported_claim_never_fails():
    runs = {"a": RUNS["a"] + [run(2, [0.5, 0.81])], "b": RUNS["b"] + [run(2, [0.5, 0.75])]}
    verdict = judge(Claim("b beats a", "val_acc", "b", "a", at_least=0.0, asserted=False), runs)
    assert verdict.outcome == "NOT REPRODUCED" and not verdict.holds
    assert "one-sided 95% bounds on the mean: -0.1" in verdict.message()


def test_diverged_run_counts_as_the_worst_loss():
    runs = {"big": [run(0, [0.1], val_loss=math.nan, diverged_epoch=1)], "small": [run(0, [0.8, 0.85])]}
    assert metric_value(runs["big"][0], "val_loss") == math.inf
    assert metric_value(runs["big"][0], "val_acc", epoch=2) == 0.1  # stays at its broken state
    verdict = judge(Claim("small has lower loss", "val_loss", "small", "big", at_most=-0.1), runs)
    assert verdict.outcome == "PASS" and verdict.mean == -math.inf


def test_seeds_missing_from_one_variant_are_not_paired():
    runs = {"a": RUNS["a"], "b": RUNS["b"][:1]}
    assert judge(Claim("x", "val_acc", "a", "b", at_least=0.0), runs).seeds == [0]


@pytest.mark.parametrize("ablation", list(ABLATIONS.values()), ids=list(ABLATIONS))
def test_every_claim_names_real_variants_and_bounds(ablation):
    names = {v.name for v in ablation.variants}
    for claim in ablation.claims:
        assert {profile for profile, _ in claim.profiles} <= set(PROFILES)
        for override in dict(claim.profiles).values():
            assert "why" in override, "a profile's own bound or status says how it was chosen"
            assert set(override) <= set(claim.as_dict()), f"unknown claim field in {override}"
        for judged in ablation.claims_for("ci") + ablation.claims_for("book"):
            assert judged.variant in names and (judged.baseline is None or judged.baseline in names)
            assert judged.at_least is not None or judged.at_most is not None
            assert judged.why, "every bound says how it was chosen"
    for profile in PROFILES.values():
        for variant in ablation.variants:
            ablation.config(variant.name, profile)  # every override is a real TrainConfig field


def test_a_profile_judges_with_its_own_bound_and_status():
    claim = Claim(
        "a beats b",
        "val_acc",
        "a",
        "b",
        at_least=0.09,
        why="ci",
        profiles=(("book", dict(at_least=0.05, why="book")), ("other", dict(asserted=False, why="x"))),
    )
    assert judge(claim.for_profile("ci"), RUNS).outcome == "FAIL"  # mean 0.07 < 0.09
    assert judge(claim.for_profile("book"), RUNS).outcome == "PASS"
    assert judge(claim.for_profile("other"), RUNS).outcome == "INCONCLUSIVE"  # 2 seeds, 0.10 and 0.04
    stored = claim.for_profile("book").as_dict()
    assert stored["at_least"] == 0.05 and stored["why"] == "book" and "profiles" not in stored
    assert Claim(**stored) == claim.for_profile("book")  # a results file's claim reads back as judged


def test_the_book_profile_reports_what_its_protocol_does_not_support():
    book = {c.text: c for c in ABLATIONS["batch_norm"].claims_for("book")}
    ci = {c.text: c for c in ABLATIONS["batch_norm"].claims_for("ci")}
    near_chance = "With tiny inputs and no batch norm the model is near chance after one epoch"
    assert ci[near_chance].asserted and not book[near_chance].asserted
    assert "docs/runs/book-cuda-h100-2026-11-27.tgz" in book[near_chance].why  # the data named, not quoted
    adam = ABLATIONS["optimizer"].claims_for("book")[0]
    assert adam.asserted and adam.at_least == 0.015 and ABLATIONS["optimizer"].claims_for("ci")[0].at_least == 0.03


@pytest.mark.subprocess
def test_specs_configs_claims_and_the_report_import_no_torch():
    import subprocess
    import sys

    code = (
        "import sys; import suite.spec.config, suite.spec.chapter3, suite.spec.metrics, suite.store.validation, "
        "suite.report.content, suite.regress, suite.engine.planner; from suite.spec.chapter3 import ABLATIONS; "
        "from suite.spec.profiles import PROFILES; "
        "ABLATIONS['dropout'].config('p0.25', PROFILES['book']); print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def reported(values, **bound):
    return reported_outcome(values, bound.get("at_least"), bound.get("at_most"))[0]


@pytest.mark.parametrize(
    ("values", "bound", "outcome"),
    [
        ([0.05, 0.06, 0.07], dict(at_least=0.0), "REPRODUCED"),  # every seed well above
        ([-0.05, -0.06, -0.07], dict(at_least=0.0), "NOT REPRODUCED"),  # every seed well below
        ([0.05, 0.06, 0.07], dict(at_most=0.0), "NOT REPRODUCED"),
        ([-0.05, -0.06, -0.07], dict(at_most=0.0), "REPRODUCED"),
        # the case: +0.004 ± 0.025 with seeds on both sides of the bound
        ([-0.02, 0.003, 0.03], dict(at_least=0.0), "INCONCLUSIVE"),
        # every seed on the claim's side, yet the spread leaves the mean's side open
        ([0.001, 0.02, 0.04], dict(at_least=0.0), "INCONCLUSIVE"),
        ([0.0, 0.01, -0.01], dict(at_least=-0.03, at_most=0.03), "REPRODUCED"),  # inside both bounds
        ([0.05, 0.055, 0.06], dict(at_least=-0.03, at_most=0.03), "NOT REPRODUCED"),  # above the upper one
        ([0.02, 0.03, 0.04], dict(at_least=-0.03, at_most=0.03), "INCONCLUSIVE"),  # straddles the upper one
        ([0.0, 0.0, 0.0], dict(at_least=0.0), "REPRODUCED"),  # no spread: the mean itself, bound inclusive
    ],
)
def test_a_reported_verdict_follows_one_sided_bounds_on_the_mean(values, bound, outcome):
    assert reported(values, **bound) == outcome
    claim = Claim("x", "val_acc", "a", "b", asserted=False, **bound)
    runs = {"a": [run(i, [0.5 + v]) for i, v in enumerate(values)], "b": [run(i, [0.5]) for i in range(len(values))]}
    assert judge(claim, runs).outcome == outcome  # judge() applies the same rule to per-seed runs


def test_the_level_is_the_student_t_bound_at_5_percent():
    """1, 2, 3: mean 2, sd 1; the one-sided 95% t quantile with 2 degrees of freedom is 2.920, so
    the lower bound on the mean is 2 - 2.920 / sqrt(3) = 0.3141: a bound just under it is supported,
    one just over it is not (the upper bound, 3.686, decides the other side)."""
    assert LEVEL == 0.05
    assert reported([1.0, 2.0, 3.0], at_least=0.314) == "REPRODUCED"
    assert reported([1.0, 2.0, 3.0], at_least=0.315) == "INCONCLUSIVE"
    assert reported([1.0, 2.0, 3.0], at_least=3.685) == "INCONCLUSIVE"
    assert reported([1.0, 2.0, 3.0], at_least=3.687) == "NOT REPRODUCED"


def test_one_seed_is_inconclusive_however_far_from_the_bound():
    assert reported([0.9], at_least=0.0) == reported([-0.9], at_least=0.0) == "INCONCLUSIVE"
    assert "no estimate of the seed-to-seed spread" in reported_outcome([0.9], 0.0, None)[1]


def test_diverged_seeds():
    """A diverged run's statistic is infinite: the mean is infinite on that side of any bound.
    Divergences on both sides, or a seed whose runs both diverged (NaN), support neither side."""
    inf = math.inf
    assert reported([inf, 0.01, -0.02], at_least=0.0) == "REPRODUCED"
    assert reported([-inf, 0.01, 0.02], at_least=0.0) == "NOT REPRODUCED"
    assert reported([inf], at_least=0.0) == "REPRODUCED"  # one seed, but no spread is needed
    assert reported([inf, -inf, 0.1], at_least=0.0) == "INCONCLUSIVE"
    assert reported([math.nan, 0.5, 0.6], at_least=0.0) == "INCONCLUSIVE"
    runs = {"big": [run(s, [0.1], val_loss=math.nan, diverged_epoch=1) for s in (0, 1)], "small": [run(0, [0.8])]}
    runs["small"].append(run(1, [0.8]))
    verdict = judge(Claim("small has lower loss", "val_loss", "small", "big", at_most=0.0, asserted=False), runs)
    assert verdict.per_seed == [-inf, -inf] and verdict.outcome == "REPRODUCED"
    assert "diverged run makes the mean infinite" in verdict.message()


def test_a_wrong_reproduced_comes_at_most_at_the_level():
    """Seeds drawn with the true mean exactly on the bound: REPRODUCED (wrong: the claim's strict
    side does not hold) comes in about LEVEL of the runs, NOT REPRODUCED as often; the rest is
    INCONCLUSIVE. 4000 runs of 3 seeds: 3 binomial standard deviations at 5% are 1.0 points."""
    import random

    rng = random.Random(20)
    outcomes = [reported([rng.gauss(0.0, 0.02) for _ in range(3)], at_least=0.0) for _ in range(4000)]
    for outcome in ("REPRODUCED", "NOT REPRODUCED"):
        assert abs(outcomes.count(outcome) / len(outcomes) - LEVEL) < 0.011
    below = [reported([rng.gauss(-0.01, 0.02) for _ in range(3)], at_least=0.0) for _ in range(4000)]
    assert below.count("REPRODUCED") / len(below) < LEVEL  # further on the wrong side: rarer still
