"""One honest time per variant, the Timings page's table, and the load flags.

    from suite.report.timing import variant_time, timing_rows, ablation_load
    variant_time(variant, names)     # {"seconds": 3.4, "text": "3.4 s", ...} or "shared with Optimizer / Adam"
    timing_rows(sections, bench, results)   # the Timings page: one training-time column, reconciled
    ablation_load(entry, machine)   # 'its threads waited 45% of their time for a CPU', or None

A variant's training time is its runs' share of the stacks they trained in where the run recorded
one (``StackRecord.share_s``: a stack's time split by run-epochs), else its test's wall clock
(pytest-benchmark's, or results.json's). A variant all of whose runs were served from another
variant's training cost nothing of its own and says whose it was, instead of a fraction of a
second of cache look-up. No torch.
"""

from __future__ import annotations

from datetime import datetime

from suite.report import fmt
from suite.store.load import loaded_between

SERVED = ("identical", "prefix")  # StackRecord.served: the run came out of another request's training


def request_names(sections: list[dict]) -> dict[str, tuple[str, str]]:
    """{"ablation/variant": (long, short)}: how the report names a request, in the Timings table
    ("Optimizer / Adam") and in a section's narrow Time column ("2.3 Adam")."""
    return {
        f"{section['name']}/{variant['name']}": (
            f"{section['title']} / {variant['label']}",
            f"2.{section['number']} {variant['label']}",
        )
        for section in sections
        for variant in section["variants"]
    }


def served_from(runs: list[dict]) -> list[str]:
    """The requests ("ablation/variant") whose training served every one of RUNS; [] if any trained."""
    stacks = [run.get("stack") or {} for run in runs]
    if not stacks or any(stack.get("served") not in SERVED for stack in stacks):
        return []
    return list(dict.fromkeys(str(stack.get("trained_by") or "another variant") for stack in stacks))


def variant_time(variant: dict, names: dict[str, tuple[str, str]], bench_s: float | None = None) -> dict:
    """A variant's own training time: seconds (None when shared or unknown) and its cells' texts."""
    donors = served_from(variant["runs"])
    if donors and not variant.get("training_s"):
        named = [names.get(donor, (donor, donor)) for donor in donors]
        return {
            "seconds": None,
            "text": "shared with " + ", ".join(long for long, _ in named),
            "short": "shared with " + ", ".join(short for _, short in named),
            "shared": True,
        }
    seconds = variant.get("training_s")
    if seconds is None:  # written before stacks were recorded: the test's own wall clock
        seconds = bench_s if bench_s is not None else variant.get("duration_s")
    text = fmt.duration(seconds) if seconds is not None else ""
    return {"seconds": seconds, "text": text, "short": text, "shared": False}


def section_time(section: dict) -> dict:
    """An ablation's training time: its variants' own times summed ('shared' when all were served)."""
    times = [v["time"] for v in section["variants"] if v["runs"]]
    own = [t["seconds"] for t in times if t["seconds"] is not None]
    if times and not own and all(t["shared"] for t in times):
        return {"seconds": 0.0, "text": "shared"}
    total = sum(own)
    return {"seconds": total, "text": fmt.duration(total) if own else fmt.MISSING}


def wall_seconds(results: dict) -> float | None:
    """The run's wall time from its timestamps, None without an end. A resumed run's is the sum of
    its parts: the pause between a stop and its resume is not the run's (unless a part was killed
    and its end is unknown: then the whole span, pauses included)."""
    resumes = [r for r in results.get("resumes") or [] if r.get("stop")]
    if len(resumes) < len(results.get("resumes") or []):
        resumes = []
    try:
        starts = [results["started"]] + [r["when"] for r in resumes]
        ends = [r["stop"]["when"] for r in resumes] + [results["finished"]]
        return sum(
            (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
            for start, end in zip(starts, ends)
        )
    except (KeyError, TypeError, ValueError):
        return None


def _rest_text(training: float, wall: float | None, results: dict) -> str:
    """How the training total relates to the run's wall time, in one sentence."""
    if wall is None:
        return "The run recorded no end, so its wall time is not known."
    if training > wall:  # pytest-xdist workers trained side by side
        return (
            f"The run's wall time, {fmt.duration(wall)}, is shorter: {len(results.get('workers') or {}) or 'several'} "
            "workers trained side by side."
        )
    return (
        f"The run's wall time, {fmt.duration(wall)}, is that plus {fmt.duration(wall - training)} of the rest: "
        "starting up, loading the data, evaluating and probing after training, judging, writing the results, "
        "and what the tests do outside the timed training."
    )


def timing_rows(sections: list[dict], bench: dict | None, results: dict) -> dict:
    """The Timings page: a row per variant, one training-time column, and a total reconciled with
    the run's wall time. Expects each variant's ``time`` (``variant_time``), set by content.build."""
    rows, total = [], 0.0
    for section in sections:
        for variant in section["variants"]:
            time = variant["time"]
            seconds = time["seconds"] if variant["runs"] else None
            epochs = sum(len(r["history"].get("val_acc", [])) for r in variant["runs"])
            rows.append(
                {
                    "section": section,
                    "variant": variant,
                    "seconds": seconds,
                    "time": time["text"] if variant["runs"] else "",
                    "per_epoch": fmt.duration(seconds / epochs) if seconds and epochs else fmt.MISSING,
                    "seeds": len(variant["runs"]),
                    "epochs": epochs,
                }
            )
            total += seconds or 0.0
    longest = max((r["seconds"] or 0.0 for r in rows), default=0.0) or 1.0
    for row in rows:
        row["bar"] = round(100 * (row["seconds"] or 0.0) / longest, 1)
    stacked = any(v.get("training_s") is not None for s in sections for v in s["variants"])
    source = (
        "each variant's own runs' share of the stacks they trained in (a stack's time split by run-epochs)"
        if stacked
        else "each variant's test, as pytest-benchmark measured it (benchmark.json)"
        if bench
        else "each variant's test, from the durations in results.json (this run left no benchmark.json)"
    )
    return {
        "rows": rows,
        "total": fmt.duration(total),
        "source": source,
        "rest": _rest_text(total, wall_seconds(results), results),
        "loaded": [s for s in sections if s.get("load")],
    }


def ablation_load(entry: dict, machine: dict) -> str | None:
    """Why this ablation's times say little about the code (suite.store.load's rule between its
    own samples), or None: quiet, or recorded before ablations took samples."""
    if not entry.get("load_start"):
        return None
    return loaded_between(
        entry["load_start"], entry.get("load_end"), cores=machine.get("cpu_count"), threads=machine.get("torch_threads")
    )
