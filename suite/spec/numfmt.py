"""Numbers as the terminal writes them: one function per rule (no torch, no report imports).

    from suite.spec import numfmt
    numfmt.statistic(0.123456)              # '0.1235': a claim's statistic, 4 significant digits
    numfmt.statistic(0.0123456, 2)          # '0.012'
    numfmt.cell(0.841234), numfmt.cell(754.23, "s"), numfmt.cell(None)   # '0.8412', '754.2s', '-'
    numfmt.share(0.25, signed=True)         # '+25%'

Used by ``suite.spec.claims`` (verdict messages), the plugin's verdict summary and the nightly
comparison's table (``suite.regress.table``). The report writes numbers for paper (a true minus
sign, ∞, units) in ``suite.report.fmt``; that package imports jinja2 and seaborn, the terminal not.
"""

from __future__ import annotations

MISSING = "-"


def statistic(value: float, digits: int = 4) -> str:
    """A measured statistic with DIGITS significant digits; inf and nan read as Python writes them."""
    return f"{value:.{digits}g}"


def cell(value, unit: str = "") -> str:
    """A value in a terminal table: 4 decimals, or 1 with a UNIT; text as it is; None as MISSING."""
    if value is None or isinstance(value, str):
        return value or MISSING
    return f"{value:.1f}{unit}" if unit else f"{value:.4f}"


def share(value: float | None, signed: bool = False) -> str:
    """A fraction as a whole percent: 0.25 -> '25%' (SIGNED: '+25%'); None as MISSING."""
    if value is None:
        return MISSING
    return f"{value:+.0%}" if signed else f"{value:.0%}"


def probability(value: float) -> str:
    """A small probability: '< 1e-9', '5.7e-04' under 1%, else '1.2%'."""
    return "< 1e-9" if value < 1e-9 else f"{value:.1e}" if value < 0.01 else f"{value:.1%}"
