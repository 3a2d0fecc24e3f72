"""The flake-probability estimate (suite.flake.estimate) on hand-made per-seed values and on an archive."""

import math
import tarfile
from pathlib import Path

import pytest
from scipy import stats

from suite.flake.cli import main
from suite.flake.estimate import MIN_SEEDS, Estimate, per_run, wrong_probability
from suite.spec.claims import Claim

ROOT = Path(__file__).resolve().parent.parent
VALUES = [0.02, 0.03, 0.04, 0.05, 0.06, 0.03, 0.05, 0.04]  # mean 0.04, sd 0.0134, n = 8


def claim(**bound) -> Claim:
    return Claim("x", "val_acc", "a", "b", **bound)


def test_a_bound_at_the_mean_is_a_coin_flip():
    assert wrong_probability(claim(at_least=0.04), VALUES, 3) == pytest.approx(0.5)


def test_the_predicted_mean_of_m_seeds_is_student_t_with_the_estimation_error():
    n, m = len(VALUES), 3
    sd = stats.tstd(VALUES)
    expected = stats.t.cdf((0.02 - 0.04) / (sd * math.sqrt(1 / m + 1 / n)), df=n - 1)
    assert wrong_probability(claim(at_least=0.02), VALUES, m) == pytest.approx(expected)
    assert 1e-3 < expected < 0.05  # heavier than a normal with the plain sd / sqrt(m) would give
    assert wrong_probability(claim(at_least=0.02), VALUES, 10) < expected  # more seeds, fewer flakes


def test_upper_and_two_sided_bounds():
    upper = wrong_probability(claim(at_most=0.05), VALUES, 3)
    lower = wrong_probability(claim(at_least=0.03), VALUES, 3)
    assert upper == pytest.approx(lower)  # symmetric around the mean
    assert wrong_probability(claim(at_least=0.03, at_most=0.05), VALUES, 3) == pytest.approx(upper + lower)


def test_too_few_or_non_finite_values_give_no_estimate_and_zero_spread_gives_certainty():
    assert wrong_probability(claim(at_least=0.0), VALUES[: MIN_SEEDS - 1], 3) is None
    assert wrong_probability(claim(at_least=0.0), VALUES[:-1] + [math.inf], 3) is None
    assert wrong_probability(claim(at_least=0.1), [0.2] * MIN_SEEDS, 3) == 0.0
    assert wrong_probability(claim(at_least=0.3), [0.2] * MIN_SEEDS, 3) == 1.0


def test_a_run_is_wrong_when_any_asserted_claim_is():
    estimates = [
        Estimate("a", claim(at_least=0), [], 0.1),
        Estimate("b", claim(at_least=0), [], 0.2),
        Estimate("c", claim(at_least=0), [], None),
        Estimate("d", claim(at_least=0, asserted=False), [], None),
    ]
    total, unknown = per_run(estimates)
    assert total == pytest.approx(1 - 0.9 * 0.8) and unknown == 1


def test_the_cli_estimates_from_an_archive(tmp_path, capsys):
    with tarfile.open(ROOT / "docs" / "calibration" / "book-cuda-base300-307.tgz") as archive:
        archive.extractall(tmp_path, filter="data")
    assert main(["--estimate", str(tmp_path / "runs"), "-k", "optimizer,l2"]) == 0
    out = capsys.readouterr().out
    assert "| optimizer | Adam is clearly ahead of SGD after one epoch | asserted | >= 0.015 | 15 |" in out
    assert (
        "| l2 | L2 narrows the gap between train and validation accuracy | asserted | <= -0.005 | 0 | - | "
        "no estimate (0 seeds) |" in out
    )
    assert "book profile: P(any wrong asserted verdict in one run) = " in out and "2 asserted claim(s) without" in out
    assert main(["--estimate", str(tmp_path / "nothing-here")]) == 2
