"""What stopped a run, and how it was finished, in the report's words (labels, not internal ids).

    from suite.report.stops import stop_text, resumed_text, interrupted_text, not_run_line
    stop_text(results, sections)     # "by SIGTERM at 13:24 UTC while training Dropout (“Dropout 0.25”, ...)"
    resumed_text(results)            # "resumed once, at 13:31 UTC (it had been interrupted by SIGTERM ...)"

Read from the results file's ``stop`` and ``resumes`` (``suite.store.stops``). The scoreboard's
status line, the title page, the summary and an interrupted ablation's section use these texts,
so that they name the same cause. No torch.
"""

from __future__ import annotations

from datetime import datetime

from suite.store.stops import resume_command

TIMES = {1: "once", 2: "twice"}


def clock(iso: str | None) -> str:
    """'13:24 UTC' from a stored time ('' if there is none); every stored time is UTC."""
    try:
        return datetime.fromisoformat(str(iso)).strftime("%H:%M UTC")
    except ValueError:
        return ""


def _labels(sections: list[dict], ablation: str | None, variant: str | None) -> tuple[str, str | None]:
    """The ablation's title and the variant's label as the report shows them."""
    for section in sections:
        if section["name"] == ablation:
            labels = {v["name"]: v["label"] for v in section["variants"]}
            return section["title"], labels.get(variant, variant) if variant else None
    return str(ablation), variant


def training_text(stop: dict, sections: list[dict]) -> str:
    """'while training Dropout (“Dropout 0.25”, seed 1, epoch 3 done)', or '' when nothing was."""
    if not stop.get("ablation"):
        return "between two variants"
    title, label = _labels(sections, stop["ablation"], stop.get("variant"))
    details = []
    if label:
        details.append(f"“{label}”")
    if stop.get("seed") is not None:
        details.append(f"seed {stop['seed']}")
    if stop.get("epoch"):
        details.append(f"epoch {stop['epoch']} done")
    elif label:
        details.append("before its first epoch ended")
    return f"while training {title}" + (f" ({', '.join(details)})" if details else "")


def _by(stop: dict) -> str:
    cause = stop.get("cause")
    if cause == "signal":
        return f"by {stop.get('signal')}"
    if cause == "interrupt":
        return "by an interrupt (no signal was seen)"
    if cause == "write_error":
        return f"by a failed write ({stop.get('reason')})"
    return f"by an error ({stop.get('reason')})"


def stop_text(results: dict, sections: list[dict]) -> str:
    """'by SIGTERM at 13:24 UTC while training ...; 3 of 7 variants stored' from the stop record."""
    stop = results.get("stop") or {}
    if not stop:
        return ""
    text = " ".join(
        part for part in (_by(stop), f"at {clock(stop.get('when'))}", training_text(stop, sections)) if part
    )
    if stop.get("variants_planned"):
        text += f"; {stop.get('variants_stored', 0)} of {stop['variants_planned']} variants stored"
    return text


def resumed_text(results: dict) -> str:
    """'resumed once at 13:31 UTC (4 variants were missing; interrupted by SIGTERM at 13:24 UTC)', or ''."""
    resumes = results.get("resumes") or []
    if not resumes:
        return ""
    parts = []
    for resume in resumes:
        stop = resume.get("stop")
        before = f"; {resume['status']} {_by(stop)} at {clock(stop.get('when'))}" if stop else f"; {resume['status']}"
        missing = len(resume.get("missing") or [])
        parts.append(
            f"at {clock(resume.get('when'))} ({missing} {'variant was' if missing == 1 else 'variants were'} "
            f"missing{before})"
        )
    times = TIMES.get(len(resumes), f"{len(resumes)} times")
    return f"resumed {times} " + parts[0] if len(parts) == 1 else f"resumed {times}: " + "; ".join(parts)


def interrupted_text(section: dict, results: dict, sections: list[dict]) -> str:
    """What an interrupted ablation had done, and what stopped it: its section's note."""
    stored = [v["label"] for v in section["variants"] if v["state"] == "run"]
    done = f"{len(stored)} of {len(section['variants'])} variants stored" + (
        f" ({', '.join(f'“{label}”' for label in stored)})" if stored else ""
    )
    stop = results.get("stop") or {}
    why = stop_text(results, sections) if stop.get("ablation") == section["name"] else ""
    return f"Started, not finished: {done}, so its claims are not judged." + (
        f" The run was stopped {why}." if why else ""
    )


def not_run_line(sections: list[dict]) -> dict | None:
    """The ablations never started, for one line: {'sections', 'names', 'claims'}; None if each one started."""
    idle = [s for s in sections if s["status"] == "not run"]
    if not idle:
        return None
    return {
        "sections": idle,  # each keeps its anchor, which other parts of the report may link to
        "names": ", ".join(f"2.{s['number']} {s['title']}" for s in idle),
        "claims": sum(len(s["claims"]) for s in idle),
    }


def finish_command(status: str, folder) -> str | None:
    """The command that finishes a stopped run stored in FOLDER; None for a complete or running one."""
    return resume_command(folder) if status in ("interrupted", "error", "killed") else None


def stop_notes(results: dict, sections: list[dict], folder, status: str) -> dict:
    """The report's texts on the stop and the resumes; marks SECTIONS in place: an interrupted one
    gets its note (``stopped``), and the first one shown opens the part (not-run ones are one line)."""
    shown = [s for s in sections if s["status"] != "not run"]
    for section in sections:
        for variant in section["variants"]:  # "p0.25: RuntimeError: ..." as the session stored it, by label
            if (section["error"] or "").startswith(f"{variant['name']}: "):
                section["error"] = f"“{variant['label']}”{section['error'][len(variant['name']) :]}"
        section["opens_part"] = bool(shown) and section is shown[0]
        section["stopped"] = interrupted_text(section, results, sections) if section["status"] == "interrupted" else ""
    rows = []
    cause = stop_text(results, sections)
    if cause and status != "complete":
        rows.append({"label": "Stopped", "text": f"{cause[0].upper()}{cause[1:]}."})
    resumed = resumed_text(results)
    if resumed:
        rows.append({"label": "Resumed", "text": f"{resumed[0].upper()}{resumed[1:]}."})
    command = finish_command(status, folder)
    if command:
        rows.append({"label": "To finish it", "text": f"{command} (trains only what the run lacks)"})
    return {"shown": shown, "not_run": not_run_line(sections), "resume": command, "resumed": resumed, "rows": rows}
