"""Claims and verdicts: how a book claim is judged from per-seed results (no torch here).

    verdict = judge(claim, runs_by_variant)    # runs: the serialized runs of a results file
    verdict.outcome        # "PASS", "FAIL", "REPRODUCED", "NOT REPRODUCED" or "INCONCLUSIVE"

A claim is a per-seed statistic (a metric of one variant, or its difference from a baseline
variant on the same seed) and a bound on its mean over seeds. Asserted claims give PASS/FAIL on
their calibrated bounds and fail their test. Reported claims (the book says it, the data does not
robustly support it) never fail a test, and their verdict states only what the seeds support:
REPRODUCED when a one-sided Student-t bound on the mean at level LEVEL lies on the claim's side,
NOT REPRODUCED when it lies on the other side, INCONCLUSIVE otherwise (``reported_outcome``; the
rule and the error probabilities it allows: docs/calibration.md#verdicts-of-reported-claims).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from statistics import fmean, stdev

from suite.spec.metrics import metric_value
from suite.spec.numfmt import statistic

# The level of the one-sided tests behind a reported claim's verdict: a claim whose true mean lies
# on the wrong side of its bound is called REPRODUCED in at most this share of runs (seeds taken
# as independent normal draws). The usual 5%; with 3 seeds the bound on the mean lies 1.69 sample
# standard deviations from the mean.
LEVEL = 0.05
REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE = "REPRODUCED", "NOT REPRODUCED", "INCONCLUSIVE"


@dataclass(frozen=True)
class Claim:
    text: str  # the book's claim in plain words, as a reader of the report sees it
    metric: str  # a history key, or gap_acc / gap_loss / min_val_loss / weight_abs_mean
    variant: str  # the variant whose metric is judged
    baseline: str | None = None  # if set: statistic = metric(variant) - metric(baseline), same seed
    epoch: int | None = None  # 1-based epoch the metric is read at; None: the last one
    relative: bool = False  # divide a difference by |metric(baseline)|
    at_least: float | None = None  # holds if the mean statistic is >= this
    at_most: float | None = None  # holds if the mean statistic is <= this
    asserted: bool = True  # False: reported only (REPRODUCED / NOT REPRODUCED), never fails
    why: str = ""  # how the bound was calibrated, or why the claim is only reported
    # (profile name, {field: value}): where a profile's protocol changes the effect, e.g. 60k images
    # and the book's epochs instead of 6k and fewer. Each override states its own ``why``.
    profiles: tuple[tuple[str, dict], ...] = ()

    def for_profile(self, profile: str) -> Claim:
        """The claim as judged in PROFILE: its overrides applied, none left to apply."""
        return replace(self, **dict(self.profiles).get(profile, {}), profiles=())

    def as_dict(self) -> dict:
        """What a results file stores: the claim as judged, without other profiles' overrides."""
        return {k: v for k, v in asdict(self).items() if k != "profiles"}


@dataclass
class Verdict:
    claim: str
    asserted: bool
    outcome: str  # PASS / FAIL for asserted claims; REPRODUCED / NOT REPRODUCED / INCONCLUSIVE for reported
    statistic: str  # what was measured, e.g. "val_acc(scaled) - val_acc(raw) at the last epoch"
    bound: str  # e.g. ">= 0.05"
    per_seed: list[float]
    mean: float
    spread: float  # sample standard deviation over seeds (0 for one seed)
    seeds: list[int]
    why: str

    @property
    def holds(self) -> bool:
        return self.outcome in ("PASS", "REPRODUCED")

    def message(self) -> str:
        values = ", ".join(statistic(v) for v in self.per_seed)
        support = "" if self.asserted else f"; {support_text(self.per_seed)}"
        return (
            f"{self.outcome}: {self.claim} - expected mean {self.statistic} {self.bound}; "
            f"measured {statistic(self.mean)} ± {statistic(self.spread)} "
            f"over {len(self.per_seed)} seeds [{values}]{support}"
        )

    def as_dict(self) -> dict:
        return asdict(self)


def describe(claim: Claim) -> tuple[str, str]:
    where = "at the last epoch" if claim.epoch is None else f"at epoch {claim.epoch}"
    stat = f"{claim.metric}({claim.variant})"
    if claim.baseline:
        stat = f"{stat} - {claim.metric}({claim.baseline})"
        if claim.relative:
            stat = f"({stat}) / |{claim.metric}({claim.baseline})|"
    bounds = []
    if claim.at_least is not None:
        bounds.append(f">= {claim.at_least:g}")
    if claim.at_most is not None:
        bounds.append(f"<= {claim.at_most:g}")
    return f"{stat} {where}", " and ".join(bounds)


def per_seed_statistic(claim: Claim, runs: dict[str, list[dict]]) -> tuple[list[int], list[float]]:
    """The claim's statistic for each seed that every variant involved has a run for."""
    by_seed = {name: {run["seed"]: run for run in runs.get(name, [])} for name in runs}
    involved = [claim.variant] + ([claim.baseline] if claim.baseline else [])
    seeds = sorted(set.intersection(*(set(by_seed.get(v, {})) for v in involved)))
    values = []
    for seed in seeds:
        value = metric_value(by_seed[claim.variant][seed], claim.metric, claim.epoch)
        if claim.baseline:
            base = metric_value(by_seed[claim.baseline][seed], claim.metric, claim.epoch)
            value = value - base
            if claim.relative:
                value = value / abs(base) if base else math.inf
        values.append(value)  # NaN: both runs diverged (inf - inf), so no comparison on this seed
    return seeds, values


def judge(claim: Claim, runs: dict[str, list[dict]]) -> Verdict:
    seeds, values = per_seed_statistic(claim, runs)
    statistic, bound = describe(claim)
    if not values:
        raise ValueError(
            f"no runs to judge {claim.text!r}: need variants {claim.variant!r}"
            + (f" and {claim.baseline!r}" if claim.baseline else "")
        )
    finite = [v for v in values if math.isfinite(v)]
    if any(math.isnan(v) for v in values):  # a seed without a comparison supports no bound
        mean = math.nan
    else:
        mean = fmean(values) if len(finite) == len(values) else math.inf * _sign_of_infinities(values)
    spread = stdev(finite) if len(finite) > 1 else 0.0
    if claim.asserted:  # the calibrated bound on the mean itself: see docs/calibration.md
        holds = (
            not math.isnan(mean)
            and (claim.at_least is None or mean >= claim.at_least)
            and (claim.at_most is None or mean <= claim.at_most)
        )
        outcome = "PASS" if holds else "FAIL"
    else:
        outcome = reported_outcome(values, claim.at_least, claim.at_most)[0]
    return Verdict(claim.text, claim.asserted, outcome, statistic, bound, values, mean, spread, seeds, claim.why)


def _sign_of_infinities(values: list[float]) -> float:
    total = sum(1 if v > 0 else -1 for v in values if math.isinf(v))
    return 1.0 if total >= 0 else -1.0


def mean_bounds(values: list[float], level: float = LEVEL) -> tuple[float, float] | None:
    """(lower, upper): one-sided Student-t confidence bounds on the mean of finite VALUES, each at
    confidence 1 - LEVEL; None for fewer than two values (no estimate of the spread)."""
    if len(values) < 2:
        return None
    from scipy.special import stdtrit  # only once a reported claim is judged (scipy takes a while)

    half = float(stdtrit(len(values) - 1, 1 - level)) * stdev(values) / math.sqrt(len(values))
    return fmean(values) - half, fmean(values) + half


def reported_outcome(
    values: list[float], at_least: float | None, at_most: float | None, level: float = LEVEL
) -> tuple[str, str]:
    """(outcome, reason) of a reported claim from its per-seed VALUES, judged only as far as they go.

    Finite values: REPRODUCED when the one-sided bound on the mean lies on the claim's side of
    every bound it has (at_least: the lower bound >= at_least; at_most: the upper bound <=
    at_most), NOT REPRODUCED when one lies beyond a bound on the other side, INCONCLUSIVE when
    the seeds straddle. A diverged run (an infinite value) makes the mean infinite, on its side of
    any bound. NaN (both runs of a seed diverged) compares nothing on that seed, and one seed
    gives no spread: both INCONCLUSIVE, since either verdict would claim more than the seeds show.
    """
    if any(math.isnan(v) for v in values):
        return INCONCLUSIVE, "a seed whose runs both diverged compares nothing"
    infinite = {math.copysign(1.0, v) for v in values if math.isinf(v)}
    if len(infinite) > 1:
        return INCONCLUSIVE, "runs diverged on both sides of the comparison"
    if infinite:
        # A divergence seen on a seed happens with a positive probability, so the statistic's
        # expectation is infinite with that sign: certainly on one side of a finite bound.
        low = high = infinite.pop() * math.inf
        why = "a diverged run makes the mean infinite"
    else:
        bounds = mean_bounds(values, level)
        if bounds is None:
            return INCONCLUSIVE, "one seed gives no estimate of the seed-to-seed spread"
        (low, high), why = bounds, f"one-sided {1 - level:.0%} bounds on the mean"
    if (at_least is None or low >= at_least) and (at_most is None or high <= at_most):
        return REPRODUCED, why
    if (at_least is not None and high < at_least) or (at_most is not None and low > at_most):
        return NOT_REPRODUCED, why
    return INCONCLUSIVE, why + " straddle the bound"


def support_text(values: list[float], level: float = LEVEL) -> str:
    """What a reported verdict rests on, in words: the bounds on the mean, or why there are none."""
    if len(values) > 1 and all(math.isfinite(v) for v in values):
        low, high = mean_bounds(values, level) or (math.nan, math.nan)
        return f"one-sided {1 - level:.0%} bounds on the mean: {statistic(low)} to {statistic(high)}"
    return reported_outcome(values, None, None, level)[1]  # why there are no bounds


def stored_outcome_read_today(verdict: dict, claim: dict | None) -> str:
    """A stored verdict's outcome as today's rule reads it: an asserted claim's as stored (its rule,
    the mean against a calibrated bound, has not changed); a reported claim's re-judged from its
    stored per-seed values with ``reported_outcome``, so that a file written before INCONCLUSIVE
    existed and one written after read alike (the report, the nightly's rows and its exact check)."""
    asserted = verdict.get("asserted", (claim or {}).get("asserted", True))
    if asserted or claim is None:
        return verdict["outcome"]
    return reported_outcome(list(verdict["per_seed"]), claim.get("at_least"), claim.get("at_most"))[0]
