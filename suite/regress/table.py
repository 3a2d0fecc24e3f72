"""The regression comparison for the terminal: the answer first, then the rows that are not OK.

    print(format_table(report))      # report: suite.regress.nightly's dict

The first line is the verdict (PASS, FAIL, ACCEPTED, FIRST NIGHT); each finding follows on its
own line (what changed in the same environment, what regressed, what moved beyond noise the
other way), then a table of every row that is not OK with claims' full texts, the notes, and
the OK rows as a count. ``--verbose`` (the CLI's) lists the OK rows too.
"""

from __future__ import annotations

from suite.regress.kinds import RowKind
from suite.spec.metrics import METRICS
from suite.spec.numfmt import cell, share


def format_table(report: dict, verbose: bool = False) -> str:
    cur, base = report["current"], report["baseline"]
    lines = [*report["headline"][:1], *(f"  {line}" for line in report["headline"][1:])]
    lines.append(f"current:  {cur['run_id']} ({cur['profile']}, {cur['device']}, started {cur['started']})")
    if base:
        lines.append(f"baseline: {base['run_id']} (started {base['started']}), compared {report['mode']}ly")
    shown = [r for r in report["rows"] if verbose or r["status"] != "OK"]
    if shown:
        header = ("ablation", "variant", "compared", "baseline", "current", "delta", "allowed", "status")
        table = [header] + [(r["ablation"], r["variant"], _compared(r), *_cells(r), r["status"]) for r in shown]
        widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)] + [0]
        lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in table]
    lines += [f"note: {note['text']}" for note in report["notes"]]
    lines += [f"stored: {report['stored']}"] if report.get("stored") else []
    lines.append(", ".join(f"{n} {s}" for s, n in sorted(report["counts"].items())) or "nothing compared")
    return "\n".join(lines)


def _compared(row: dict) -> str:
    if row["kind"] == RowKind.CLAIM:
        return f"claim: {row['claim']}"  # in full: the claim is the finding
    if row["kind"] == RowKind.STATISTIC:
        return f"statistic of: {row['claim']}"
    return row["metric"]


def _cells(row: dict) -> tuple[str, ...]:
    unit = METRICS[row["metric"]].unit if row["kind"] in (RowKind.METRIC, RowKind.TIME) else None
    if unit is not None and unit.relative:  # the change and its tolerance are shares of the baseline
        return (
            cell(row["baseline"], unit.abbreviation),
            cell(row["current"], unit.abbreviation),
            share(row["relative_delta"], signed=True),
            share(row["tolerance"]),
        )
    return tuple(cell(row[k]) for k in ("baseline", "current", "delta", "tolerance"))
