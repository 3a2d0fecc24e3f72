"""Is a shift between two runs' per-seed values beyond the seeds' own spread? Welch's t-test.

    from suite.regress.shift import judge_shift
    judge_shift([0.81, 0.80, 0.82], [0.78, 0.77, 0.79], floor=0.005, higher_is_better=True)
    # {"status": "REGRESSED", "p": 0.004, "allowed": 0.021, ...}

The test: Welch's two-sided t-test (scipy.stats.ttest_ind, unequal variances) of the baseline's
per-seed values against tonight's, at level ALPHA per comparison; a shift counts as beyond noise
when p < ALPHA and it is at least the statistic's floor (its unit's ``shift_floor``, or
``shift_share`` of the baseline's mean: a shift too small to matter is not reported however
consistent the seeds). Equivalently: beyond ``allowed`` = max(floor, t(1 - ALPHA/2, Welch df) ×
standard error), which regress.json stores as the row's tolerance. Both directions are reported
(IMPROVED, REGRESSED); only the bad direction fails. Where both runs' seeds agree exactly (a
deterministic variant), any shift beyond the floor is beyond noise. With one seed a side there
is no spread: the floor alone decides. Used when the environment changed (suite.regress.environment).
"""

from __future__ import annotations

import math
from statistics import fmean, stdev

from scipy import stats

ALPHA = 0.01  # per comparison; with the floor, the false-alarm rate measured in docs/nightly.md
RATIO_FLOOR = 0.01  # for a claim's relative statistic (a ratio): one percent


def allowed_shift(old: list[float], new: list[float], floor: float) -> float:
    """The largest shift of the mean that is still noise: max(FLOOR, critical t × standard error)."""
    if len(old) < 2 or len(new) < 2:
        return floor
    var_old, var_new = stdev(old) ** 2 / len(old), stdev(new) ** 2 / len(new)
    se = math.sqrt(var_old + var_new)
    if se == 0:
        return floor
    df = (var_old + var_new) ** 2 / (var_old**2 / (len(old) - 1) + var_new**2 / (len(new) - 1))  # Welch-Satterthwaite
    return max(floor, float(stats.t.ppf(1 - ALPHA / 2, df)) * se)


def judge_shift(old: list[float], new: list[float], floor: float, higher_is_better: bool | None) -> dict:
    """STATUS (OK, IMPROVED, REGRESSED, SHIFTED where no direction is worse), the shift of the
    mean, what was allowed, and Welch's p where there is a spread to test against."""
    if not old or not new:
        return {"status": "NEW" if not old else "MISSING", "delta": None, "allowed": None, "p": None}
    broken_old, broken_new = (any(not math.isfinite(v) for v in vs) for vs in (old, new))
    if broken_old or broken_new:  # a diverged seed: no mean to test; only a change of that counts
        status = "OK" if broken_old == broken_new else "REGRESSED" if broken_new else "IMPROVED"
        return {"status": status, "delta": None, "allowed": None, "p": None}
    delta = fmean(new) - fmean(old)
    allowed = allowed_shift(old, new, floor)
    p = None
    if len(old) > 1 and len(new) > 1 and (stdev(old) > 0 or stdev(new) > 0):
        p = float(stats.ttest_ind(new, old, equal_var=False).pvalue)
    if abs(delta) <= allowed:
        status = "OK"
    elif higher_is_better is None:
        status = "SHIFTED"
    else:
        status = "IMPROVED" if (delta > 0) == higher_is_better else "REGRESSED"
    return {"status": status, "delta": delta, "allowed": allowed, "p": p}


def floor_for(unit, baseline: list[float], relative: bool = False) -> float:
    """A statistic's floor: RATIO_FLOOR for a ratio, else its unit's absolute floor or share."""
    if relative:
        return RATIO_FLOOR
    finite = [abs(v) for v in baseline if math.isfinite(v)]
    return max(unit.shift_floor, unit.shift_share * (fmean(finite) if finite else 0.0))
