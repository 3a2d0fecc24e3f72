"""Estimated flake rate: how likely a run on fresh seeds is to get a wrong asserted verdict.

    python -m suite.flake --estimate docs/calibration/runs-a docs/calibration/runs-b --profile book

Counting wrong verdicts over 20 base seeds (``python -m suite.flake``) can only say "0 of 20";
a nightly needs the rate itself. For each claim this pools the per-seed statistic over every
stored (base seed, ablation) file in the folders and asks how often the mean of a run's seeds
(the profile's seeds per variant) lands on the wrong side of the bound. The per-seed values are
taken as normal with unknown mean and spread, so the mean of m fresh seeds, predicted from n
seen ones, is Student-t with n - 1 degrees of freedom around their mean, scaled by
s * sqrt(1/m + 1/n): heavier tails than a plain normal, as few seeds warrant. A run is wrong when
any asserted claim is; claims are treated as independent (1 - prod(1 - p)). No torch here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import fmean, stdev

from scipy import stats

from suite.spec import numfmt
from suite.spec.claims import Claim, describe

MIN_SEEDS = 6  # fewer per-seed values than this give no estimate (shown as such)


@dataclass
class Estimate:
    ablation: str
    claim: Claim
    values: list[float]  # every per-seed statistic pooled, in file order
    p_wrong: float | None  # None: too few seeds, or non-finite values

    @property
    def why_none(self) -> str:
        if len(self.values) < MIN_SEEDS:
            return f"{len(self.values)} seeds"
        return "non-finite values"


def wrong_probability(claim: Claim, values: list[float], seeds_per_run: int) -> float | None:
    """P(the mean of SEEDS_PER_RUN fresh seeds violates CLAIM's bound), from the seen VALUES."""
    n = len(values)
    if n < MIN_SEEDS or not all(math.isfinite(v) for v in values):
        return None
    mean, spread = fmean(values), stdev(values)
    if spread == 0:
        low_ok = claim.at_least is None or mean >= claim.at_least
        high_ok = claim.at_most is None or mean <= claim.at_most
        return 0.0 if low_ok and high_ok else 1.0
    predicted = stats.t(df=n - 1, loc=mean, scale=spread * math.sqrt(1 / seeds_per_run + 1 / n))
    p = 0.0
    if claim.at_least is not None:
        p += predicted.cdf(claim.at_least)
    if claim.at_most is not None:
        p += predicted.sf(claim.at_most)
    return float(min(p, 1.0))


def estimate(
    rows: list[tuple[str, Claim, object]], seeds_per_run: int, claims: list[tuple[str, Claim]] = ()
) -> list[Estimate]:
    """One Estimate per claim, from ``suite.flake.judged`` rows (ablation, claim, verdict); CLAIMS
    lists every (ablation, claim) the profile judges, so that one without stored runs is shown."""
    pooled = {(name, claim.text): Estimate(name, claim, [], None) for name, claim in claims}
    for name, claim, verdict in rows:
        entry = pooled.setdefault((name, claim.text), Estimate(name, claim, [], None))
        entry.values.extend(verdict.per_seed)
    for entry in pooled.values():
        entry.p_wrong = wrong_probability(entry.claim, entry.values, seeds_per_run) if entry.claim.asserted else None
    return list(pooled.values())


def per_run(estimates: list[Estimate]) -> tuple[float, int]:
    """(P(any asserted claim wrong in one run), asserted claims without an estimate)."""
    asserted = [e for e in estimates if e.claim.asserted]
    known = [e.p_wrong for e in asserted if e.p_wrong is not None]
    return 1 - math.prod(1 - p for p in known), len(asserted) - len(known)


def markdown(estimates: list[Estimate], seeds_per_run: int, profile: str) -> str:
    lines = [
        f"| ablation | claim | kind | bound | seeds | per seed: mean ± sd | P(wrong), mean of {seeds_per_run} |",
        "|---|---|---|---|---|---|---|",
    ]
    for e in estimates:
        finite = [v for v in e.values if math.isfinite(v)]
        spread = "-"
        if len(finite) > 1:
            spread = f"{numfmt.statistic(fmean(finite))} ± {numfmt.statistic(stdev(finite), 2)}"
        if not e.claim.asserted:
            p = "reported"
        else:
            p = numfmt.probability(e.p_wrong) if e.p_wrong is not None else f"no estimate ({e.why_none})"
        lines.append(
            f"| {e.ablation} | {e.claim.text} | {'asserted' if e.claim.asserted else 'reported'} | "
            f"{describe(e.claim)[1]} | {len(e.values)} | {spread} | {p} |"
        )
    total, unknown = per_run(estimates)
    lines.append("")
    lines.append(
        f"{profile} profile: P(any wrong asserted verdict in one run) = {numfmt.probability(total)}, over the "
        f"{sum(e.claim.asserted for e in estimates) - unknown} asserted claims with an estimate"
        + (f"; {unknown} asserted claim(s) without one" if unknown else "")
        + "."
    )
    return "\n".join(lines)
