"""The nightly comparison itself: a run against its baseline and history, and the night's verdict.

    from suite.regress.compare import compare
    report = compare(current, earlier, base)   # verdict, findings, rows, notes (suite.regress.night picks base)

See ``suite.regress`` for the rules: exact in one environment, statistical across two, training
cost against several nights of the same machine.
"""

from __future__ import annotations

import math
from statistics import fmean

from suite.regress import cost, exact
from suite.regress.environment import differences
from suite.regress.history import (
    SEED_MEANS,
    Run,
    unstorable_reason,
)
from suite.regress.kinds import FindingKind, NoteKind, RowKind, Verdict
from suite.regress.shift import ALPHA, floor_for, judge_shift
from suite.spec.metrics import METRICS

# --tolerance's names: the final metrics' shift floors, and "time", the cost's (relative) floor
TOLERANCE = {**{m: METRICS[m].unit.shift_floor for m in SEED_MEANS}, "time": cost.STEP.tolerance}
EXACT, STATISTICAL = "exact", "statistical"


def _same(old: list[float], new: list[float]) -> bool:
    return len(old) == len(new) and all(a == b or (math.isnan(a) and math.isnan(b)) for a, b in zip(old, new))


def _shift_row(kind, ablation, subject: dict, old, new, floor, higher, mode) -> dict:
    """One row comparing per-seed values OLD and NEW; in one environment a change is at least MOVED."""
    judged = judge_shift(old or [], new or [], floor, higher)
    if old and new and _same(old, new):
        judged = {**judged, "status": "OK", "p": None}
    elif mode == EXACT and judged["status"] == "OK":
        judged["status"] = "MOVED"
    mean = lambda values: fmean(values) if values else None  # noqa: E731
    return dict(
        kind=kind,
        ablation=ablation,
        **subject,
        baseline=mean(old),
        current=mean(new),
        delta=judged["delta"],
        tolerance=judged["allowed"],
        p=judged["p"],
        seeds=[len(old or ()), len(new or ())],
        status=judged["status"],
    )


def _verdict_status(ref, cur) -> str:
    if ref is None or cur is None:
        return "NEW" if ref is None else "MISSING"
    if ref.outcome == cur.outcome:
        return "OK"
    if ref.asserted and cur.asserted:
        return "REGRESSED" if cur.outcome == "FAIL" else "IMPROVED"
    return "CHANGED"


def _rows(current: Run, base: Run, mode: str, tol: dict) -> list[dict]:
    rows = []
    for name in current.ablations:
        for key in dict.fromkeys(k for k in [*current.stats, *base.stats] if k[0] == name):
            for metric in SEED_MEANS:
                old, new = base.stats.get(key, {}).get(metric), current.stats.get(key, {}).get(metric)
                higher = METRICS[metric].higher_is_better
                subject = {"variant": key[1], "metric": metric}
                rows.append(_shift_row(RowKind.METRIC, name, subject, old, new, tol[metric], higher, mode))
        for key in dict.fromkeys(k for k in [*current.claims, *base.claims] if k[0] == name):
            old, new = base.claims.get(key), current.claims.get(key)
            either = new or old
            assert either is not None  # the key came from one of them
            higher = either.higher_is_better
            if higher is None and either.middle is not None and old and new:  # a band: away from its middle is worse
                higher = fmean(old.per_seed) < either.middle
            floor = floor_for(METRICS[either.metric].unit, (old or either).per_seed, either.relative)
            subject = {"variant": "-", "claim": key[1], "metric": either.metric}
            values = (old and old.per_seed, new and new.per_seed)
            rows.append(_shift_row(RowKind.STATISTIC, name, subject, *values, floor, higher, mode))
            ref, cur = base.verdicts.get(key), current.verdicts.get(key)
            rows.append(
                dict(
                    kind=RowKind.CLAIM,
                    ablation=name,
                    variant="-",
                    claim=key[1],
                    baseline=ref and ref.outcome,
                    current=cur and cur.outcome,
                    delta=None,
                    tolerance=None,
                    status=_verdict_status(ref, cur),
                )
            )
    return rows


def _row_text(row: dict) -> str:
    if row["kind"] == RowKind.CLAIM:
        return f"{row['ablation']} claim “{row['claim']}”: {row['baseline']} → {row['current']}"
    if row["kind"] == RowKind.TIME:
        return (
            f"{row['ablation']}/{row['variant']} µs per run-step {row['baseline']:.0f} → {row['current']:.0f}"
            f" ({row['relative_delta']:+.0%}; allowed +{row['tolerance']:.0%}"
            f" over the median of {row['nights']} nights)"
        )
    what = f"{row['variant']} {row['metric']}"
    if row["kind"] == RowKind.STATISTIC:
        what = f"claim “{row['claim']}” statistic"
    if row["delta"] is None:
        return f"{row['ablation']} {what}: {row['baseline']} → {row['current']}"
    p = f", Welch p = {row['p']:.2g}" if row.get("p") is not None else ""
    return (
        f"{row['ablation']} {what}: {row['baseline']:.4g} → {row['current']:.4g}"
        f" ({row['delta']:+.4g}; noise up to ±{row['tolerance']:.2g}{p})"
    )


def _findings(rows: list[dict], moved: list[exact.Moved], mode: str) -> list[dict]:
    found = []
    if mode == EXACT and moved:
        subjects = {(m.ablation, m.subject) for m in moved}
        text = (
            f"changed in the same environment: {len(moved)} stored values moved in {len(subjects)} variants "
            f"and claims; first {moved[0].text()}"
        )
        found.append(
            {"kind": FindingKind.CHANGED_SAME_ENVIRONMENT, "fails": True, "count": len(moved), "text": text}
            | {"first": {**moved[0]._asdict()}}
        )
    order = {"REGRESSED": FindingKind.REGRESSED, "IMPROVED": FindingKind.SHIFTED, "SHIFTED": FindingKind.SHIFTED}
    order["CHANGED"] = FindingKind.CHANGED
    for kind in (FindingKind.REGRESSED, FindingKind.SHIFTED, FindingKind.CHANGED):
        for index, row in enumerate(rows):
            if order.get(row["status"]) == kind:
                text = f"{row['status']}: {_row_text(row)}"
                found.append({"kind": kind, "fails": kind == FindingKind.REGRESSED, "row": index, "text": text})
    return found


def compare(
    current: Run,
    earlier: list[Run],
    base: Run | None,
    tolerance: dict | None = None,
    *,
    statistical: bool = False,
    accept: str | None = None,
) -> dict:
    """The machine-readable comparison: verdict, findings, rows, notes, and the trend."""
    tol = {**TOLERANCE, **(tolerance or {})}
    notes: list[dict] = []
    if base is None:
        mode, rows, moved = None, [], []
    else:
        changed_env = differences(base.environment, current.environment)
        mode = STATISTICAL if changed_env or statistical else EXACT
        if changed_env:
            text = "environment changed, compared statistically: " + "; ".join(changed_env)
            notes.append({"kind": NoteKind.ENVIRONMENT, "differences": changed_env, "text": text})
        rows = _rows(current, base, mode, tol)
        moved = exact.moved(base.values, current.values)
        notes += [
            {"kind": NoteKind.ABLATION_MISSING, "ablation": n, "text": f"not in this run, not compared: {n}"}
            for n in base.ablations
            if n not in current.ablations
        ]
    time_runs = earlier if base is None or base in earlier else [*earlier, base]
    time_rows, time_notes = cost.compare_costs(current, time_runs, tol["time"])
    rows, notes = rows + time_rows, notes + time_notes
    findings = _findings(rows, moved, mode or "")
    if current.status != "complete":  # what it has may match, but a night that did not finish is no pass
        text = "the run did not complete: " + unstorable_reason(current).removesuffix(", only complete runs are kept")
        findings.insert(0, {"kind": FindingKind.INCOMPLETE, "fails": True, "status": current.status, "text": text})
    failed = any(f["fails"] for f in findings)
    verdict = Verdict.FAIL if failed else Verdict.FIRST if base is None else Verdict.PASS
    if failed and accept:
        verdict = Verdict.ACCEPTED
        findings.append({"kind": FindingKind.ACCEPTED, "fails": False, "reason": accept, "text": f"accepted: {accept}"})
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    return {
        "verdict": verdict,
        "mode": mode,
        "headline": _headline(verdict, mode, findings, counts, moved),
        "findings": findings,
        "current": _describe(current),
        "baseline": base and _describe(base),
        "time_baseline": time_rows and {"nights": max(r["nights"] for r in time_rows)} or None,
        "tolerance": tol,
        # what "beyond noise" meant tonight, so that the report states the rule the check used
        "noise_rule": {"alpha": ALPHA, "time_floor": tol["time"], "time_mad_k": cost.MAD_K, "time_window": cost.WINDOW},
        "rows": rows,
        "counts": counts,
        "regressed": verdict == Verdict.FAIL,
        "notes": notes,
        "trend": _trend(current, earlier),
    }


def _headline(verdict: str, mode: str | None, findings: list[dict], counts: dict, moved: list) -> list[str]:
    """What a person reads first: the verdict, then each finding, then the OK rows as a count."""
    ok = counts.get("OK", 0)
    if verdict == Verdict.FIRST:
        return ["FIRST NIGHT: no earlier complete run of this profile, nothing compared"]
    how = "every stored value repeats exactly" if mode == EXACT and not moved else f"compared {mode}ly"
    first = {
        Verdict.PASS: f"PASS: {how}",
        Verdict.FAIL: "FAIL",
        Verdict.ACCEPTED: "ACCEPTED (failed, accepted as intended)",
    }[verdict]
    return [first, *(f["text"] for f in findings), f"{ok} comparisons OK"]


def _describe(run: Run) -> dict:
    return {
        "run_id": run.run_id,
        "started": run.started,
        "device": run.device,
        "profile": run.profile[0],
        "path": str(run.path),
        "environment": run.environment,
        "loaded": run.loaded,
    }


def _trend(current: Run, earlier: list[Run]) -> dict:
    """Per ablation, variant and key metric: the series over the history, oldest first, then now;
    None where a run lacks the variant, and the cost per step only for runs of this machine."""
    runs = [*earlier, current]
    series: dict = {}
    for key in current.stats:
        values = {m: [fmean(v) if (v := r.stats.get(key, {}).get(m)) else None for r in runs] for m in SEED_MEANS}
        values[cost.STEP.name] = [cost._cost(r.costs.get(key)) if r.machine == current.machine else None for r in runs]
        series.setdefault(key[0], {})[key[1]] = values
    return {"runs": [{**_describe(r), "same_machine": r.machine == current.machine} for r in runs], "series": series}
