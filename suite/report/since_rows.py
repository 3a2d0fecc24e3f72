"""The rows of the report's "Since the baseline" section: regress.json's rows shaped for reading.

    from suite.report.since_rows import Names, shaped_row
    names = Names(sections)                       # ablation titles and variant rows by name
    shaped_row(row, names)                        # one row of regress.json, with its texts

Each row is read by its kind (``suite.regress.kinds``), never by its text; a value of the wrong
type raises ValueError or TypeError, which ``suite.report.since`` turns into one ResultsError.
No torch.
"""

from __future__ import annotations

from suite.regress.kinds import RowKind
from suite.report import fmt
from suite.report.sections import OUTCOME_CLASS
from suite.spec.metrics import METRICS

STATUSES = ("REGRESSED", "MOVED", "IMPROVED", "SHIFTED", "CHANGED", "MISSING", "NEW", "OK")  # the table's order
STATUS_CLASS = {"REGRESSED": "regressed", "MOVED": "regressed", "IMPROVED": "improved", "OK": "ok"}  # else neutral


def number(value) -> float | None:
    """A value of regress.json: a number, None, or (as read_json restores them) nan/inf."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"not a number: {value!r}")
    return float(value)


def _change(row: dict, metric) -> str:
    """The change in the metric's unit: pp for accuracies, relative for time, plain for a loss."""
    return fmt.metric_change(metric, number(row.get("relative_delta" if metric.unit.relative else "delta")))


class Names:
    """Ablation titles and variant rows of the report's sections, for the names regress.json uses."""

    def __init__(self, sections: list[dict]):
        self.sections = {s["name"]: s for s in sections}
        self.variants = {(s["name"], v["name"]): v for s in sections for v in s["variants"]}
        self.extra: list[dict] = []  # variants the comparison knows and this run's sections do not

    def section(self, name: str) -> dict:
        section = self.sections.get(name)
        if section is None:
            return {"name": name, "title": name, "number": None, "anchor": None}
        return section

    def variant(self, ablation: str, name: str) -> dict:
        key = (ablation, name)
        if key not in self.variants:  # e.g. MISSING: a variant the baseline had and this version dropped
            known = [v for (a, _), v in self.variants.items() if a == ablation]
            self.variants[key] = {"name": name, "label": name, "index": len(known)}
            self.extra.append(self.variants[key])
        return self.variants[key]


def kind_of(item) -> str:
    """The kind of a row or note; one line for a file written before they had one."""
    if not isinstance(item, dict) or "kind" not in item:
        raise ValueError(
            "no kind in a row or note: written before regress.json had kinds; write it again with "
            "python -m suite.regress RUN --history HISTORY --json RUN/regress.json"
        )
    return str(item["kind"])


def heading(section: dict) -> str:
    return f"2.{section['number']} {section['title']}" if section.get("number") else section["title"]


def shaped_row(row: dict, names: Names) -> dict:
    kind, status = kind_of(row), row["status"]
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    section = names.section(str(row["ablation"]))
    out = {
        "section": section,
        "heading": heading(section),
        "status": status,
        "status_class": STATUS_CLASS.get(status, "neutral"),
        "kind": kind,
    }
    if kind == RowKind.CLAIM:
        old, new = row["baseline"], row["current"]
        for verdict in (old, new):
            if verdict is not None and not isinstance(verdict, str):
                raise ValueError(f"not a verdict: {verdict!r}")
        claim = str(row["claim"])
        out.update(
            metric=None,
            claim=claim,
            variant=None,
            what=claim,
            baseline={"text": old, "cls": OUTCOME_CLASS.get(old, "not-run")} if old else None,
            current={"text": new, "cls": OUTCOME_CLASS.get(new, "not-run")} if new else None,
            change=fmt.MISSING,
            allowed=fmt.MISSING,
        )
        return out
    if kind == RowKind.STATISTIC:  # a claim's per-seed statistic: in the claim's own terms
        claim = str(row["claim"])
        base, cur = number(row["baseline"]), number(row["current"])
        if str(row["metric"]) not in METRICS:
            raise ValueError(f"unknown metric {row['metric']!r}")
        allowed = number(row.get("tolerance"))
        out.update(
            metric=None,
            claim=claim,
            variant=None,
            what=f"Statistic of: {claim}",
            baseline_value=base,
            current_value=cur,
            baseline=fmt.number(base, 4) if base is not None else fmt.MISSING,
            current=fmt.number(cur, 4) if cur is not None else fmt.MISSING,
            change=fmt.number(number(row.get("delta")), 3) if row.get("delta") is not None else fmt.MISSING,
            allowed=f"±{fmt.number(allowed, 2)}" if allowed is not None else fmt.MISSING,
        )
        return out
    if kind not in (RowKind.METRIC, RowKind.TIME):
        raise ValueError(f"unknown row kind {kind!r}")
    metric = METRICS.get(str(row["metric"]))
    if metric is None or metric.tolerance is None:
        raise ValueError(f"unknown metric {row['metric']!r}")
    base, cur = number(row["baseline"]), number(row["current"])
    out.update(
        metric=metric.name,
        variant=names.variant(section["name"], str(row["variant"])),
        what=metric.label,
        baseline_value=base,
        current_value=cur,
        baseline=fmt.metric_value(metric, base),
        current=fmt.metric_value(metric, cur),
        change=_change(row, metric),
        allowed=fmt.metric_tolerance(metric, number(row.get("tolerance"))),
    )
    return out
