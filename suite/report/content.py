"""A run's results folder shaped into the report's content (everything but the plots).

    from suite.report.content import build
    content = build("reports/ci-sample")     # dict for the templates; ResultsError if unreadable

Reads ``results.json`` (required), pytest-benchmark's ``benchmark.json`` (optional: a run that
was interrupted before pytest-benchmark wrote it falls back to the durations in results.json) and
the nightly comparison's ``regress.json`` (optional: see ``suite.report.since``). Any malformed
content becomes one ResultsError line naming the file. No torch.
"""

from __future__ import annotations

import dataclasses
import shlex
from pathlib import Path

from suite.report import batch_norm, fmt
from suite.report.book import book_sections
from suite.report.facts import mode_table, sigmoid_table
from suite.report.scoreboard import Scoreboard, device_text, wall_time
from suite.report.sections import OUTCOME_CLASS, ablation_sections, status_text
from suite.report.since import build_since
from suite.report.stops import stop_notes
from suite.report.timing import ablation_load, request_names, section_time, timing_rows, variant_time
from suite.report.verdicts import JUDGED
from suite.spec.chapter3 import ABLATIONS
from suite.spec.claims import LEVEL, Claim
from suite.store.files import RESULTS_FILE, ResultsError
from suite.store.records import AblationStatus, RunResults
from suite.store.results import KILLED, KILLED_TEXT, load_run, read_benchmark, run_status

PROJECT = "chapter3-ablations"
SUBTITLE = "Ablations of chapter 3 of “Modern Computer Vision with PyTorch”: FashionMNIST, MLP 784-1000-10"
ENVIRONMENT = [
    ("python", "Python"),
    ("torch", "PyTorch"),
    ("cuda", "CUDA (torch build)"),
    ("cudnn", "cuDNN"),
    ("gpu", "GPU"),
    ("driver", "NVIDIA driver"),
    ("cpu", "CPU"),
    ("cpu_count", "CPU cores"),
    ("torch_threads", "torch threads"),
    ("platform", "Platform"),
    ("device", "Device used"),
    ("git_commit", "Git commit"),
    ("git_dirty", "Uncommitted changes"),
]


def _commit(machine: dict) -> str:
    commit = machine.get("git_commit")
    if not commit:
        return "unknown"
    return commit[:12] + (" (with uncommitted changes)" if machine.get("git_dirty") else "")


def pasteable(command: list[str]) -> list[str]:
    """The stored command as a shell would take it back, quoted argument by argument. Files of
    older versions stored sys.argv, whose first word is pytest's own script or its
    ``__main__.py`` (``python -m pytest``), which cannot be pasted: it reads ``pytest``."""
    if command and (Path(command[0]).name in ("__main__.py", "pytest", "py.test") or command[0].endswith("/pytest")):
        command = ["pytest", *command[1:]]
    return [shlex.quote(arg) for arg in command]


def title_block(results: dict, sections: list[dict]) -> dict:
    wall, measured = wall_time(results, sections)
    profile = results["profile"]
    sizes = [
        f"{profile[k]:,} {what}" if profile.get(k) else f"all {what}"
        for k, what in (("train_size", "training images"), ("val_size", "validation images"))
    ]
    return {
        "project": PROJECT,
        "subtitle": SUBTITLE,
        "run_id": results["run_id"],
        "date": fmt.timestamp(results.get("started")),
        "profile": profile["name"],
        "profile_description": profile.get("description", ""),
        "data": f"FashionMNIST: {sizes[0]} (of 60,000), {sizes[1]} (of the 10,000 test images)",
        "device": device_text(results),
        "commit": _commit(results.get("machine") or {}),
        "command": " ".join(pasteable(results.get("command") or [])),
        "wall_time": wall if measured else f"at least {wall} (the run has no end time)",
        "seeds": len(results["seeds"]),
        "seed_list": ", ".join(map(str, results["seeds"])),
        "status": results.get("status", "unknown"),
        "error": results.get("error"),
    }


def _names(rows: list[dict]) -> str:
    names = [r["title"] if "title" in r else f"“{r['text']}”" for r in rows]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def reading_rows(sections: list[dict], status: str) -> list[dict]:
    """The summary's counts, one table row each: how many claims hold, what failed, what is missing."""
    claims = [c for s in sections for c in s["claims"]]
    judged = [c for c in claims if c["outcome"] in JUDGED]
    holds = [c for c in judged if c["outcome"] in ("PASS", "REPRODUCED")]
    asserted = [c for c in judged if c["asserted"]]
    failed = [c for c in asserted if c["outcome"] == "FAIL"]
    reported = [c for c in judged if not c["asserted"]]
    missed = [c for c in reported if c["outcome"] == "NOT REPRODUCED"]
    unsure = [c for c in reported if c["outcome"] == "INCONCLUSIVE"]
    rejudged = [c for c in reported if c.get("stored_outcome")]
    rows = [("Judged claims", f"{len(holds)} of {len(judged)} hold." if judged else "No claim was judged.")]
    if asserted:
        rows.append(
            (
                "Asserted claims",
                f"All {len(asserted)} pass."
                if not failed
                else f"{len(failed)} of {len(asserted)} fail: {_names(failed)}.",
            )
        )
    if reported:
        rows.append(
            (
                "Reported claims",
                f"{len(reported) - len(missed) - len(unsure)} of {len(reported)} reproduced (the book says "
                "so, but the bound is not asserted)"
                + (f"; not reproduced: {_names(missed)}" if missed else "")
                + (f"; inconclusive (the seeds support neither side): {_names(unsure)}" if unsure else "")
                + ".",
            )
        )
    if rejudged:
        rows.append(
            (
                "Re-judged",
                f"{len(rejudged)} reported {'verdict differs' if len(rejudged) == 1 else 'verdicts differ'} from "
                "the results file's, which judged the mean alone: they are re-judged here from the stored "
                "per-seed values.",
            )
        )
    states = (
        ("error", "Stopped with an error"),
        ("interrupted", "Interrupted"),
        ("not run", "Not run (never started)"),
    )
    for state, what in states:
        which = [s for s in sections if s["status"] == state]
        if which:
            count = len([c for s in which for c in s["claims"]])
            rows.append(
                (
                    what,
                    f"{len(which)} {'ablation' if len(which) == 1 else 'ablations'} ({_names(which)}), so {count} "
                    f"{'claim is' if count == 1 else 'claims are'} not judged.",
                )
            )
    if status == KILLED:
        rows.append(("Run", f"{KILLED_TEXT}: its file still says “running”, but no process writes it any more."))
    elif status == "running":
        rows.append(("Run", "still running: this is what it has measured so far."))
    elif status not in ("complete",):
        rows.append(("Run", f"ended as “{status_text(status)}”."))
    return [{"label": label, "text": text} for label, text in rows]


def reading(sections: list[dict], status: str) -> str:
    """The counts as one text (the rows' values, in order)."""
    return " ".join(row["text"] for row in reading_rows(sections, status))


def summary_rows(sections: list[dict]) -> list[dict]:
    """One row per claim, grouped by ablation; an ablation without claims still gets its row."""
    rows = []
    for section in sections:
        claims = section["claims"] or [
            {
                "text": "(no claims)",
                "outcome": section["status"],
                "numbers": fmt.MISSING,
                "bound": "",
                "outcome_class": section["status_class"],
                "asserted": True,
            }
        ]
        for i, claim in enumerate(claims):
            rows.append({"section": section, "claim": claim, "first": i == 0, "span": len(claims)})
    return rows


def appendix(results: dict, run_dir: Path) -> dict:
    machine = results.get("machine") or {}
    env = [
        (label, fmt.config_value(key, machine[key]) if isinstance(machine[key], bool) else str(machine[key]))
        for key, label in ENVIRONMENT
        if machine.get(key) not in (None, "")
    ]
    return {
        "environment": env,
        "packages": sorted((machine.get("packages") or {}).items()),
        "command": pasteable(results.get("command") or []),
        "seeds": ", ".join(map(str, results["seeds"])),
        "base_seed": results.get("base_seed", fmt.MISSING),
        "started": fmt.timestamp(results.get("started")),
        "finished": fmt.timestamp(results.get("finished")),
        "status": status_text(results.get("status", "unknown")),
        "schema": results["schema"],
        "folder": str(run_dir),
    }


def timed(sections: list[dict], results: dict, bench: dict | None) -> None:
    """Each variant's and ablation's own training time, and each ablation's load flag, in place."""
    names, machine = request_names(sections), results.get("machine") or {}
    for section in sections:
        for variant in section["variants"]:
            variant["time"] = variant_time(variant, names, (bench or {}).get((section["name"], variant["name"])))
        section["time"] = section_time(section)
        section["load"] = ablation_load(results["ablations"].get(section["name"]) or {}, machine)


def judge_unjudged(run: RunResults) -> None:
    """Judge, in place, every ablation whose variants all have runs but that holds no verdict (its
    run was stopped between storing the last variant and judging it), with the claims the file lists.

    The session judges the same way the moment an ablation's last variant is stored, so this only
    fills in files written before that, or by a process killed in between.
    """
    for name, entry in run.ablations.items():
        if entry.verdicts or name not in ABLATIONS:
            continue
        claims = tuple(Claim(**claim) for claim in entry.claims)
        spec = dataclasses.replace(ABLATIONS[name], claims=claims)
        verdicts = spec.judge(entry.runs_by_variant(), profile=run.profile["name"])
        if verdicts:
            entry.record_verdicts(verdicts)


def build(run_dir: str | Path) -> dict:
    folder = Path(run_dir)
    run = load_run(folder)
    judge_unjudged(run)
    home = folder if folder.is_dir() else folder.parent
    status = run_status(home, run.status.value)
    if status == KILLED:  # what its own ending would have recorded, had it had one
        for entry in run.ablations.values():
            if entry.status == AblationStatus.RUNNING:
                entry.status = AblationStatus.INTERRUPTED
    results = {**run.to_json(), "status": status}
    bench = read_benchmark(home)
    path = folder / RESULTS_FILE if folder.is_dir() else folder
    try:
        sections = ablation_sections(results)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise ResultsError(f"malformed results file {path}: {type(exc).__name__}: {exc}") from None
    since = build_since(home, results, sections)  # raises its own error, naming regress.json
    try:
        timed(sections, results, bench)
        extras = results.get("extras") or {}
        book = book_sections(results)
        for section in sections:
            section["book"] = book["sections"].get(section["name"])
            section["story"] = batch_norm.story(section, results["profile"]["name"])
        board = Scoreboard.of(results, sections, book["summary"], since)
        stops = stop_notes(results, sections, home, status)
        return {
            "scoreboard": board,
            "title": {**title_block(results, sections), "resume": stops["resume"], "resumed": stops["resumed"]},
            "reading": reading_rows(sections, results.get("status", "")) + stops["rows"],
            "shown": stops["shown"],  # the sections with a page of their own; not-run ones: not_run, one line
            "not_run": stops["not_run"],
            "verdict_rule": {"level": f"{LEVEL:.0%}", "confidence": f"{1 - LEVEL:.0%}"},
            "book": book["summary"],
            "since": since,
            "summary": summary_rows(stops["shown"]),
            "sections": sections,
            "sigmoid": sigmoid_table(extras),
            "modes": mode_table(extras),
            "timings": timing_rows(stops["shown"], bench, results),
            "appendix": appendix(results, folder),
            "status": status_text(results.get("status", "unknown")),
            "status_class": OUTCOME_CLASS.get(str(results.get("status")), "not-run"),
        }
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise ResultsError(f"malformed results file {path}: {type(exc).__name__}: {exc}") from None
