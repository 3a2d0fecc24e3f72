"""Number formatting for the report: one place decides how a value reads on paper.

    from suite.report import fmt
    fmt.duration(754.2)                      # '12 min 34 s'
    fmt.claim_value(0.123, claim_dict)       # '+12.3 pp' for an accuracy difference

Also registered as jinja2 filters by ``suite.report.document``. No torch, no numpy needed.
"""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal
from statistics import fmean, stdev

from suite.spec.metrics import METRICS, Metric, Style

MISSING = "–"
NB = "\u00a0"  # no-break space: a unit never wraps away from its number, nor ± from the mean
SHARE = Style(100, 1, "%")  # a relative difference, a share of the baseline's value


def finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def duration(seconds) -> str:
    if not finite(seconds):
        return MISSING
    if seconds < 1:
        return f"{seconds:.2f}{NB}s"
    if seconds < 60:
        return f"{seconds:.1f}{NB}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}{NB}min {secs:02d}{NB}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}{NB}h {minutes:02d}{NB}min"


def timestamp(iso: str | None) -> str:
    if not iso:
        return MISSING
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return str(iso)
    zone = moment.strftime("%Z") or ""
    return moment.strftime("%d %B %Y, %H:%M ") + (zone.replace("UTC+00:00", "UTC") or "")


def number(value, digits: int = 3) -> str:
    """A plain number with DIGITS significant digits; infinities read as the divergence they are."""
    if value is None:
        return MISSING
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "−∞"
    text = f"{value:.{digits}g}"
    return text.replace("-", "−")


def mean_spread(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation; a non-finite value makes the mean non-finite."""
    if not values:
        return math.nan, math.nan
    if not all(finite(v) for v in values):
        bad = [v for v in values if not finite(v)]
        return (math.nan if any(math.isnan(v) for v in bad) else math.inf), math.nan
    return fmean(values), (stdev(values) if len(values) > 1 else 0.0)


def _fixed(value: float, decimals: int, signed: bool) -> str:
    if not finite(value):
        return number(value)
    if round(value, decimals) == 0:
        value = 0.0  # '−0.0' reads as a finding; it is rounding
    text = f"{value:+.{decimals}f}" if signed else f"{value:.{decimals}f}"
    return text.replace("-", "−")


def claim_value(value: float, claim: dict, *, signed: bool | None = None, unit: bool = True) -> str:
    """A claim's statistic in the metric's unit: percent, percentage points, or as measured.

    Written as a difference is (a loss to fixed decimals), in the symbol of one value when the claim
    reads one variant (an accuracy in percent) and of a difference when it has a baseline (points)."""
    metric, baseline, relative = METRICS[claim["metric"]], claim.get("baseline"), claim.get("relative", False)
    style = SHARE if relative else metric.unit.difference
    symbol = style.symbol if relative or baseline else metric.unit.value.symbol
    if signed is None:
        signed = bool(baseline) or metric.unit.signed
    if not finite(value) or style.decimals is None:
        return decimal(value, style.digits)
    return _fixed(value * style.scale, style.decimals, signed) + (NB + symbol if unit and symbol else "")


def decimal(value, digits: int = 3) -> str:
    """As ``number``, but without exponents: 0.00001, as a bound beside it is written (0.0005), so
    a measured value and its bound read in one format."""
    text = number(value, digits)
    if "e" not in text:
        return text
    return format(Decimal(text.replace("−", "-")), "f").replace("-", "−")


def claim_bound(claim: dict) -> str:
    low, high = claim.get("at_least"), claim.get("at_most")
    if low is not None and high is not None:
        return f"{claim_value(low, claim, unit=False)} to {claim_value(high, claim)}"
    if low is not None:
        return "≥" + NB + claim_value(low, claim)
    return "≤" + NB + claim_value(high, claim) if high is not None else ""


def claim_mean_spread(mean: float, spread: float, claim: dict, seeds: int) -> str:
    """'+12.3 ± 0.8 pp': the unit once, after the spread."""
    if seeds < 2 or not (finite(mean) and finite(spread)):
        return claim_value(mean, claim)
    return f"{claim_value(mean, claim, unit=False)}{NB}±{NB}{claim_value(spread, claim, signed=False)}"


def percent(value, decimals: int = 1) -> str:
    return (
        MISSING
        if value is None
        else (_fixed(value * 100, decimals, False) + NB + "%" if finite(value) else number(value))
    )


def values_mean_spread(values: list[float], kind: str = "number") -> str:
    """'84.1 ± 0.6 %' for accuracies, '0.452 ± 0.010' for losses, over the seeds given."""
    if not values:
        return MISSING
    mean, spread = mean_spread(values)
    if kind == "percent":
        head = percent(mean)
        tail = f"{NB}±{NB}{spread * 100:.1f}" if finite(spread) and len(values) > 1 else ""
        return head.replace(NB + "%", tail + NB + "%") if finite(mean) else head
    if kind == "pp":
        head = _fixed(mean * 100, 1, True) if finite(mean) else number(mean)
        tail = f"{NB}±{NB}{spread * 100:.1f}" if finite(spread) and len(values) > 1 else ""
        return head + tail + (NB + "pp" if finite(mean) else "")
    if not finite(mean):
        return number(mean)
    if abs(mean) >= 1e4 or 0 < abs(mean) < 1e-3:
        return f"{mean:.2e}".replace("-", "−") + (f"{NB}±{NB}{spread:.1e}".replace("-", "−") if len(values) > 1 else "")
    # Mean and spread to the same decimal place: three significant digits of the mean.
    decimals = max(0, 2 - math.floor(math.log10(abs(mean)))) if mean else 3
    return _fixed(mean, decimals, False) + (NB + "±" + NB + _fixed(spread, decimals, False) if len(values) > 1 else "")


def config_value(key: str, value) -> str:
    """A TrainConfig field as a reader would write it."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key == "input_scale":
        if value == 1:
            return "1 (raw 0–255)"
        inverse = 1 / value if value else 0
        return f"1/{inverse:,.0f}" if inverse and abs(inverse - round(inverse)) < 1e-6 * inverse else number(value)
    if key == "hidden":
        return " → ".join(str(h) for h in value) if value else "none"
    if key == "optimizer":
        return {"sgd": "SGD", "adam": "Adam"}.get(value, str(value))
    if key == "batch_size":
        return f"{value:,}"
    if isinstance(value, float):
        # 0.00001 as the book writes it, not 1e-05; the suite's rates and penalties are >= 1e-8.
        return f"{value:.10f}".rstrip("0").rstrip(".") if 1e-8 <= abs(value) < 1e4 else f"{value:g}"
    return str(value)


def signed(value: float, factor: float, decimals: int, unit: str) -> str:
    """VALUE × FACTOR with its sign and UNIT: "+1.2 pp"; a rounded zero has no sign."""
    if not finite(value):
        return number(value)
    text = f"{value * factor:+.{decimals}f}"
    if float(text) == 0:
        text = f"{0:.{decimals}f}"  # ±0.0 is rounding, not a direction
    return text.replace("-", "−") + NB + unit if unit else text.replace("-", "−")


def styled(style: Style, value, *, unit: bool = True) -> str:
    """VALUE in STYLE: '84.1 %' (fixed decimals and a symbol) or '0.452' (significant digits)."""
    if value is None:
        return MISSING
    if not finite(value) or style.decimals is None:
        return number(value, style.digits)
    return _fixed(value * style.scale, style.decimals, False) + (NB + style.symbol if unit and style.symbol else "")


def metric_value(metric: Metric, value: float | None, *, unit: bool = True) -> str:
    """A value of METRIC in its unit: '84.1 %', '0.452', '12 min 34 s'."""
    if value is None:
        return MISSING
    return duration(value) if metric.unit.clock else styled(metric.unit.value, value, unit=unit)


def metric_change(metric: Metric, change: float | None) -> str:
    """A change since a baseline with its sign: '−6.0 pp', '+0.012', '+3 %' (relative for a time)."""
    if change is None:
        return MISSING
    style = metric.unit.difference
    if style.decimals is None:
        return number(change, style.digits)
    return signed(change, style.scale, style.decimals, style.symbol)


def metric_tolerance(metric: Metric, tolerance: float | None) -> str:
    """An allowed change: '2.0 pp', '0.050', '25 % slower'."""
    if tolerance is None:
        return MISSING
    style, worse = metric.unit.difference, metric.unit.worse
    if style.decimals is None:
        return number(tolerance, style.digits)
    text = f"{tolerance * style.scale:.{style.decimals}f}"
    return text + (NB + style.symbol if style.symbol else "") + (" " + worse if worse else "")


def date(iso: str | None, short: bool = False) -> str:
    """An ISO timestamp as "27 Nov 2026, 22:30" (SHORT: "27 Nov"); unparsable text as it is."""
    try:
        moment = datetime.fromisoformat(iso or "")
    except ValueError:
        return str(iso or MISSING)
    return f"{moment.day} {moment:%b}" if short else f"{moment.day} {moment:%b %Y, %H:%M}"
