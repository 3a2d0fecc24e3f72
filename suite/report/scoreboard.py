"""The run in one glance: status and cause, coverage, verdict counts, book, baseline, device, time.

    from suite.report.scoreboard import Scoreboard, for_results
    board = Scoreboard.of(results, sections, book_summary, since)   # what content.build computes
    board.rows()        # [(label, value, css class)]: the table on page one
    board.line()        # the same as one line: the end of the terminal summary
    for_results(results).line()                                      # from a results dict alone

One object for both readers, so the page and the terminal cannot disagree: both count the verdicts
as the report shows them (reported claims re-judged from their per-seed values), not as stored.
No torch: the pytest plugin calls it at the end of every run.
"""

from __future__ import annotations

from dataclasses import dataclass

from suite.report import fmt
from suite.report.stops import clock, resumed_text, stop_text, training_text
from suite.report.timing import wall_seconds
from suite.report.verdicts import JUDGED
from suite.store.load import run_loaded

UNFINISHED = ("interrupted", "error", "not run")  # a section in these states has no verdicts to count


def _names(sections: list[dict]) -> str:
    titles = [s["title"] for s in sections]
    return titles[0] if len(titles) == 1 else ", ".join(titles[:-1]) + " and " + titles[-1]


def _cause(results: dict, sections: list[dict], status: str) -> str:
    """What the results file records of why the run stopped; '' for a complete run."""
    error = results.get("error")
    if status == "complete":
        return ""
    stop = results.get("stop")
    if stop and status == "error":
        return f"{error or stop.get('reason')}, at {clock(stop.get('when'))} {training_text(stop, sections)}"
    if stop:  # "by SIGTERM at 13:24 UTC while training ...": the status line reads "interrupted by ..."
        return stop_text(results, sections)
    if status == "error":
        return str(error or "no error text recorded")
    parts = []
    when = clock(results.get("finished"))
    if when:
        parts.append(f"at {when}")
    stopped = [s for s in sections if s["status"] == "interrupted"]
    if stopped:
        parts.append(f"while running {_names(stopped)}")
    text = " ".join(parts)
    # A results file written before stops were recorded: say so, not guess.
    return f"{text}: {error}" if error else (f"{text}; no cause recorded" if text else "no cause recorded")


def wall_time(results: dict, sections: list[dict]) -> tuple[str, bool]:
    """The run's wall time (``timing.wall_seconds``: a resumed run's without its pauses); without
    an end, the training time (a lower bound)."""
    seconds = wall_seconds(results)
    if seconds is None:
        return fmt.duration(sum(s["duration_s"] for s in sections)), False
    return fmt.duration(seconds), True


def device_text(results: dict) -> str:
    machine = results.get("machine") or {}
    if machine.get("gpu"):
        return f"GPU: {machine['gpu']} ({results.get('device', 'cuda')})"
    cpu = machine.get("cpu")
    cores = f", {machine['cpu_count']} cores" if machine.get("cpu_count") else ""
    return f"CPU: {cpu}{cores}" if cpu else str(results.get("device") or fmt.MISSING)


def _baseline(since: dict | None, pending: bool) -> tuple[str, str]:
    if since is None:  # no regress.json: the nightly comparison did not run, or has not yet
        return ("compared after this summary", "neutral") if pending else ("no baseline", "neutral")
    if not since.get("baseline"):
        return "no baseline", "neutral"
    return since["short"], "fail" if since.get("regressed") else "pass"


@dataclass(frozen=True)
class Scoreboard:
    status: str  # as the report names it: complete, interrupted, error...
    cause: str  # why it stopped, as recorded ('' when complete)
    resumed: str  # "resumed once at ..." ('' for a run never resumed)
    ablations: int
    judged: int  # ablations with at least one verdict
    passed: int  # asserted claims
    failed: int
    reproduced: int  # reported claims, re-judged as the report shows them
    not_reproduced: int
    inconclusive: int
    book: str  # "76 of 90 reproduced" or "not compared (ci profile)"
    book_class: str
    baseline: str
    baseline_class: str
    device: str
    wall_time: str
    load: str = ""  # why the machine counts as loaded (suite.store.load), '' when it was quiet

    @classmethod
    def of(
        cls, results: dict, sections: list[dict], book: dict, since: dict | None, *, pending: bool = False
    ) -> Scoreboard:
        from suite.report.sections import status_text

        claims = [c for s in sections for c in s["claims"] if c["outcome"] in JUDGED]
        count = {outcome: sum(c["outcome"] == outcome for c in claims) for outcome in JUDGED}
        judged = [s for s in sections if any(c["outcome"] in JUDGED for c in s["claims"])]
        status = status_text(str(results.get("status", "unknown")))
        wall, measured = wall_time(results, sections)
        baseline, baseline_class = _baseline(since, pending)
        if book.get("comparable"):
            shown = f"{book['reproduced']} of {book['compared']} reproduced"
            book_text, book_class = shown, "pass" if book["reproduced"] == book["compared"] else "partial"
        else:
            book_text, book_class = f"not compared ({results['profile']['name']} profile)", "neutral"
        return cls(
            status=status,
            cause=_cause(results, sections, status),
            resumed=resumed_text(results),
            ablations=len(sections),
            judged=len(judged),
            passed=count["PASS"],
            failed=count["FAIL"],
            reproduced=count["REPRODUCED"],
            not_reproduced=count["NOT REPRODUCED"],
            inconclusive=count["INCONCLUSIVE"],
            book=book_text,
            book_class=book_class,
            baseline=baseline,
            baseline_class=baseline_class,
            device=device_text(results),
            wall_time=wall if measured else f"at least {wall} (no end time recorded)",
            load=run_loaded(results) or "",
        )

    @property
    def status_text(self) -> str:
        text = self.status
        if self.cause:
            text += f" {self.cause}" if self.cause.startswith("by ") else f": {self.cause}"
        return f"{text}, {self.resumed}" if self.resumed else text

    @property
    def coverage(self) -> str:
        return f"{self.judged} of {self.ablations} ablations judged"

    @property
    def asserted(self) -> str:
        return f"{self.passed} PASS / {self.failed} FAIL"

    @property
    def reported(self) -> str:
        return f"{self.reproduced} REPRODUCED / {self.not_reproduced} NOT REPRODUCED / {self.inconclusive} INCONCLUSIVE"

    @property
    def _reported_class(self) -> str:
        if self.not_reproduced:
            return "partial"
        return "inconclusive" if self.inconclusive else "pass" if self.reproduced else "neutral"

    def rows(self) -> list[tuple[str, str, str]]:
        """(label, value, css class) for page one; the class colours the value's marker."""
        status_class = {"complete": "pass", "error": "fail"}.get(self.status, "interrupted")
        return [
            ("Status", self.status_text, status_class),
            ("Coverage", self.coverage, "pass" if self.judged == self.ablations else "interrupted"),
            ("Asserted claims", self.asserted, "fail" if self.failed else "pass"),
            ("Reported claims", self.reported, self._reported_class),
            ("Book values", self.book, self.book_class),
            ("Baseline", self.baseline, self.baseline_class),
            ("Device", self.device, "info"),
            ("Total wall time", self.wall_time, "info"),
            *([("Machine load", self.load_text, "partial")] if self.load else []),
        ]

    @property
    def load_text(self) -> str:
        return f"loaded: {self.load}, so its times say little about the code"

    def line(self) -> str:
        """'run complete · 11 of 11 ablations judged · asserted 9 PASS / 0 FAIL · ...'."""
        return " · ".join(
            [
                f"run {self.status_text}",
                self.coverage,
                f"asserted {self.asserted}",
                f"reported {self.reported}",
                f"book values {self.book}",
                self.baseline,
                self.device,
                self.wall_time,
                *([f"machine {self.load_text}"] if self.load else []),
            ]
        )


def for_results(results: dict, *, pending: bool = False) -> Scoreboard:
    """The scoreboard of a results dict (RunResults.to_json()), without the nightly comparison."""
    from suite.report.book import book_sections
    from suite.report.sections import ablation_sections

    sections = ablation_sections(results)
    return Scoreboard.of(results, sections, book_sections(results)["summary"], None, pending=pending)
