"""Why a run stopped, and how it was finished: the results file's ``stop`` and ``resumes``.

    from suite.store.stops import ResumeRecord, StopCause, StopRecord, resume_command
    stop = StopRecord(cause=StopCause.SIGNAL, when=now, signal="SIGTERM", ablation="dropout", ...)
    RunResults.stop = stop                     # set by the run session as it ends interrupted or in error
    resume_command(Path("reports/r1"))         # "pytest suite/cases --ablation-resume r1"

A stopped run names its cause (the signal, the error's one line), its moment, and what was
training then, so that a reader knows what was lost; ``--ablation-resume`` (suite.harness.resume)
finishes the run in its own folder and appends a ResumeRecord, which keeps the stop it resumed
from. No torch, no pytest: the report reads these.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import ClassVar

from suite.store.validation import Bad, Choice, Record, expect, optional, whole

RESUME_OPTION = "--ablation-resume"
DEFAULT_ROOT = "reports"  # --ablation-out's default
RESUMABLE = ("interrupted", "error", "killed")  # killed: suite.store.results.KILLED


def utc_now() -> str:
    """Now, as every time of a results file is written: UTC, ISO 8601 to the second."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class StopCause(Choice):
    SIGNAL = "signal"  # SIGTERM (a CI runner's cancel or time limit), SIGINT (Ctrl-C)
    INTERRUPT = "interrupt"  # a KeyboardInterrupt no signal handler of the suite saw (raised in code)
    ERROR = "error"  # pytest's internal or usage error, unreadable data, nothing judged...
    WRITE_ERROR = "write_error"  # a results or benchmark file that could not be written (a full disk)


@dataclass
class StopRecord(Record):
    """What stopped a run: its cause, when, and what was training at that moment."""

    KNOWN_ONLY = True  # read by name by the report: a misspelt "signal" would hide the cause

    cause: StopCause
    when: str  # UTC, ISO 8601 to the second
    signal: str | None = None  # the signal's name where the cause is one: "SIGTERM", "SIGINT"
    reason: str | None = None  # the one-line reason of an error or a write error
    ablation: str | None = None  # what was training: None between variants, or where unknown (xdist)
    variant: str | None = None
    seed: int | None = None  # the seed whose epoch was reported last (None: no epoch reported yet)
    # The last epoch that FINISHED for that seed (its results reported); the next one was under way.
    epoch: int | None = None
    variants_stored: int | None = None  # variants stored (all seeds) when it stopped
    variants_planned: int | None = None  # variants of the ablations the run selected

    ORDER: ClassVar[tuple[str, ...]] = (
        *("cause", "signal", "reason", "when", "ablation", "variant", "seed", "epoch"),
        *("variants_stored", "variants_planned"),
    )

    def to_json(self) -> dict:
        values = {key: getattr(self, key) for key in self.ORDER}
        values["cause"] = self.cause.value
        return self.stored(values)

    @classmethod
    def from_json(cls, data, place: str) -> StopRecord:
        expect(data, dict, place, "a stop object")
        if "when" not in data:
            raise Bad(place, "missing 'when'")
        cause = StopCause.read(data.get("cause"), f"{place}.cause", "stop cause")
        expect(data["when"], str, f"{place}.when", "a time")
        for key in ("signal", "reason", "ablation", "variant"):
            optional(data.get(key), str, f"{place}.{key}", "text")
        if cause == StopCause.SIGNAL and not data.get("signal"):
            raise Bad(f"{place}.signal", "a stop by a signal names it")
        if cause in (StopCause.ERROR, StopCause.WRITE_ERROR) and not data.get("reason"):
            raise Bad(f"{place}.reason", f"a stop by {cause.value!r} gives its reason")
        if data.get("variant") is not None and data.get("ablation") is None:
            raise Bad(f"{place}.variant", "a variant without its ablation")
        for key, low in (("seed", 0), ("epoch", 0), ("variants_stored", 0), ("variants_planned", 0)):
            if data.get(key) is not None:
                whole(data[key], f"{place}.{key}", low=low)
        stored, planned = data.get("variants_stored"), data.get("variants_planned")
        if stored is not None and planned is not None and stored > planned:
            raise Bad(f"{place}.variants_stored", f"{stored} variants stored of {planned} planned")
        values = {key: data.get(key) for key in cls.keys()}
        return cls(**{**values, "cause": cause}, **cls.unread(data, place))


@dataclass
class ResumeRecord(Record):
    """One ``--ablation-resume`` of a run: when, what it resumed from, what was missing then."""

    KNOWN_ONLY = True

    when: str  # UTC, ISO 8601 to the second
    status: str  # the status the run had: "interrupted", "error", or "killed" (a "running" file nobody writes)
    stop: StopRecord | None = None  # the stop it resumed from (None in a file without one)
    missing: list[str] = field(default_factory=list)  # "ablation/variant" of every variant not stored then

    ORDER = ("when", "status", "stop", "missing")

    def to_json(self) -> dict:
        values = {key: getattr(self, key) for key in self.ORDER}
        values["stop"] = None if self.stop is None else self.stop.to_json()
        return self.stored(values)

    @classmethod
    def from_json(cls, data, place: str) -> ResumeRecord:
        expect(data, dict, place, "a resume object")
        for key in ("when", "status"):
            expect(data.get(key), str, f"{place}.{key}", "text")
        if data["status"] not in RESUMABLE:
            raise Bad(f"{place}.status", f"an interrupted, errored or killed run is resumed, not {data['status']!r}")
        missing = expect(data.get("missing", []), list, f"{place}.missing", "a list of variants")
        for i, name in enumerate(missing):
            if not isinstance(name, str) or "/" not in name:
                raise Bad(f"{place}.missing[{i}]", "expected 'ablation/variant'")
        stop = data.get("stop")
        values = {key: data.get(key) for key in cls.keys()}
        values.update(missing=missing, stop=None if stop is None else StopRecord.from_json(stop, f"{place}.stop"))
        return cls(**values, **cls.unread(data, place))


def read_stop(data, place: str = "stop") -> StopRecord | None:
    return None if data is None else StopRecord.from_json(data, place)


def read_resumes(data, place: str = "resumes") -> list[ResumeRecord]:
    stored = expect(data if data is not None else [], list, place, "a list of resumes")
    return [ResumeRecord.from_json(item, f"{place}[{i}]") for i, item in enumerate(stored)]


def resume_command(folder: str | Path) -> str:
    """The command, run from the repository, that finishes the run stored in FOLDER (root/run id)."""
    folder = Path(folder)
    command = ["pytest", "suite/cases", RESUME_OPTION, folder.name]
    if folder.parent != Path(DEFAULT_ROOT):
        command += ["--ablation-out", str(folder.parent)]
    return shlex.join(command)
