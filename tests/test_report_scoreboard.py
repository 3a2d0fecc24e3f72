"""The scoreboard of page one and of the terminal summary (suite.report.scoreboard).

Every expected value is counted here from results.json itself (verdicts, statuses, timestamps,
machine), never read from the scoreboard code, so a miscount there cannot agree with itself.
Reported claims are counted as the report shows them: re-judged from their per-seed values by the
rule in suite.spec.claims (the rule is the spec's; the counting is this test's).
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from suite.report import fmt
from suite.report.content import build
from suite.spec.chapter3 import ABLATIONS_LIST
from suite.spec.claims import reported_outcome
from tests.helpers import SAMPLE

INTERRUPTED_AT = "2026-11-26T22:40:00+00:00"


def expected(results: dict) -> dict:
    """The scoreboard's numbers, counted from the raw results."""
    counts = dict.fromkeys(["PASS", "FAIL", "REPRODUCED", "NOT REPRODUCED", "INCONCLUSIVE"], 0)
    judged = 0
    for entry in results["ablations"].values():
        claims = {c["text"]: c for c in entry.get("claims") or []}
        judged += bool(entry.get("verdicts"))
        for verdict in entry.get("verdicts") or []:
            if verdict["asserted"]:
                counts[verdict["outcome"]] += 1
            else:
                claim = claims[verdict["claim"]]
                counts[reported_outcome(verdict["per_seed"], claim["at_least"], claim["at_most"])[0]] += 1
    seconds = (datetime.fromisoformat(results["finished"]) - datetime.fromisoformat(results["started"])).total_seconds()
    return {"judged": judged, "counts": counts, "wall": fmt.duration(seconds)}


def copy_sample(tmp_path: Path, change) -> Path:
    run = tmp_path / "run"
    shutil.copytree(SAMPLE, run)
    raw = json.loads((run / "results.json").read_text())
    change(raw)
    (run / "results.json").write_text(json.dumps(raw))
    return run


def interrupt(raw: dict) -> None:
    """As a run stopped while training Depth leaves its file: two ablations judged, the rest absent."""
    raw["status"], raw["finished"], raw["error"] = "interrupted", INTERRUPTED_AT, None
    for name in [n for n in raw["ablations"] if n not in ("scaling", "batch_size", "depth")]:
        del raw["ablations"][name]
    raw["ablations"]["depth"].update(status="interrupted", verdicts=[], variants={})


def test_ci_sample_scoreboard_counts_what_the_results_file_holds():
    results = json.loads((SAMPLE / "results.json").read_text())
    want = expected(results)
    board = build(SAMPLE)["scoreboard"]
    assert (board.status, board.cause) == ("complete", "")
    assert (board.judged, board.ablations) == (want["judged"], len(ABLATIONS_LIST))
    assert board.coverage == f"{want['judged']} of {len(ABLATIONS_LIST)} ablations judged"
    counts = want["counts"]
    assert board.asserted == f"{counts['PASS']} PASS / {counts['FAIL']} FAIL"
    assert (board.reproduced, board.not_reproduced, board.inconclusive) == (
        counts["REPRODUCED"],
        counts["NOT REPRODUCED"],
        counts["INCONCLUSIVE"],
    )
    assert sum(counts.values()) == sum(len(a["claims"]) for a in results["ablations"].values())
    assert board.book == "not compared (ci profile)"  # the ci profile is never compared with the book
    assert board.baseline == "no baseline"  # the sample has no regress.json
    machine = results["machine"]
    assert board.device == f"CPU: {machine['cpu']}, {machine['cpu_count']} cores"
    assert board.wall_time == want["wall"]


def test_interrupted_run_says_when_and_what_was_running(tmp_path):
    run = copy_sample(tmp_path, interrupt)
    want = expected(json.loads((run / "results.json").read_text()))
    board = build(run)["scoreboard"]
    assert board.status == "interrupted"
    # the file records no cause for an interruption today: the board says so instead of guessing
    assert board.cause == "at 22:40 UTC while running Depth; no cause recorded"
    assert board.coverage == f"2 of {len(ABLATIONS_LIST)} ablations judged" and want["judged"] == 2
    assert (board.passed, board.failed) == (want["counts"]["PASS"], want["counts"]["FAIL"])
    assert board.wall_time == want["wall"]
    assert board.line().startswith("run interrupted: at 22:40 UTC while running Depth; no cause recorded · 2 of 11")


def test_error_run_shows_the_recorded_error(tmp_path):
    def fail(raw):
        raw.update(status="error", error="batch_size: RuntimeError: CUDA out of memory")

    board = build(copy_sample(tmp_path, fail))["scoreboard"]
    assert board.status_text == "error: batch_size: RuntimeError: CUDA out of memory"
    assert ("Status", board.status_text, "fail") in board.rows()


def test_the_terminal_summary_ends_with_the_scoreboard_line(tmp_path):
    """The plugin's summary hook, called in process on a session holding the interrupted copy."""
    plugin = pytest.importorskip("suite.harness.plugin")
    from suite.store.results import load_run

    run = copy_sample(tmp_path, interrupt)
    lines: list[str] = []
    reporter = SimpleNamespace(section=lambda *a, **k: None, write_line=lambda line, **k: lines.append(line))
    session = SimpleNamespace(results=load_run(run), run_dir=run)
    config = SimpleNamespace(stash={plugin.SESSION: session}, getoption=lambda name: None)
    plugin.pytest_terminal_summary(reporter, 0, config)
    want = expected(json.loads((run / "results.json").read_text()))
    counts = want["counts"]
    assert lines[-1] == " · ".join(
        [
            "run interrupted: at 22:40 UTC while running Depth; no cause recorded",
            f"2 of {len(ABLATIONS_LIST)} ablations judged",
            f"asserted {counts['PASS']} PASS / {counts['FAIL']} FAIL",
            f"reported {counts['REPRODUCED']} REPRODUCED / {counts['NOT REPRODUCED']} NOT REPRODUCED / "
            f"{counts['INCONCLUSIVE']} INCONCLUSIVE",
            "book values not compared (ci profile)",
            "no baseline",
            "CPU: AMD EPYC, 2 cores",
            want["wall"],
        ]
    )
    assert lines[-2] == f"finish it with: pytest suite/cases --ablation-resume run --ablation-out {tmp_path}"
    assert lines[-3].startswith("results: ")  # the line before them is unchanged
