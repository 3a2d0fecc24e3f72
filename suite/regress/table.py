"""The regression comparison as a text table for the terminal (see ``suite.regress``)."""

from __future__ import annotations

from suite.regress.kinds import RowKind
from suite.spec.metrics import METRICS
from suite.spec.numfmt import cell, share


def format_table(report: dict) -> str:
    cur, base, timed = report["current"], report["baseline"], report["time_baseline"]
    lines = [
        f"current:  {cur['run_id']} ({cur['profile']}, {cur['device']}, started {cur['started']})",
        f"baseline: {base['run_id']} (started {base['started']})"
        if base
        else "baseline: none - no earlier run of this profile, every row is NEW",
    ]
    if timed:
        lines.append(f"time vs:  {timed['run_id']} (same machine)")
    header = ("ablation", "variant", "metric", "baseline", "current", "delta", "tolerance", "status")
    table = [header] + [
        (r["ablation"], r["variant"], _short(_compared(r)), *_cells(r), r["status"]) for r in report["rows"]
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table]
    lines += [f"note: {note['text']}" for note in report["notes"]]
    lines += [f"stored: {report['stored']}"] if report.get("stored") else []
    lines.append(", ".join(f"{n} {s}" for s, n in sorted(report["counts"].items())) or "nothing compared")
    return "\n".join(lines)


def _short(text: str, width: int = 56) -> str:  # a claim's full text is in the JSON
    return text if len(text) <= width else text[: width - 1] + "…"


def _compared(row: dict) -> str:
    return f"claim: {row['claim']}" if row["kind"] == RowKind.CLAIM else row["metric"]


def _cells(row: dict) -> tuple[str, ...]:
    unit = METRICS[row["metric"]].unit if row["kind"] != RowKind.CLAIM else None
    if unit is not None and unit.relative:  # the change and its tolerance are shares of the baseline
        return (
            cell(row["baseline"], unit.abbreviation),
            cell(row["current"], unit.abbreviation),
            share(row["relative_delta"], signed=True),
            share(row["tolerance"]),
        )
    return tuple(cell(row[k]) for k in ("baseline", "current", "delta", "tolerance"))
