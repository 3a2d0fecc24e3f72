"""The run's terminal summary: what a person reads at the end of ``pytest suite/cases``.

Called by the plugin's ``pytest_terminal_summary`` hook (``suite.harness.plugin``).
"""

from __future__ import annotations

import pytest

from suite.harness.run import RunSession
from suite.spec.claims import support_text
from suite.spec.numfmt import statistic
from suite.store.records import VerdictRecord
from suite.store.stops import resume_command


def write_summary(terminalreporter, run: RunSession, config: pytest.Config) -> None:
    """Every verdict with its numbers, the results file with the run's status, the command that
    finishes a stopped run, and last the report's page-one scoreboard as one line."""
    terminalreporter.section("ablation verdicts")
    for name, entry in run.results.ablations.items():
        if not entry.verdicts:
            terminalreporter.write_line(f"{entry.status.upper():15} {name}")
        for verdict in entry.verdicts:
            color = {"PASS": "green", "REPRODUCED": "green", "FAIL": "red"}.get(verdict.outcome, "yellow")
            terminalreporter.write_line(
                f"{verdict.outcome:15} {name}: {verdict.claim} ({_mean_spread(verdict)})", **{color: True}
            )
    status = run.results.status
    why = f": {run.results.error}" if run.results.error else ""
    terminalreporter.write_line(
        f"results: {run.run_dir / 'results.json'} (run {status}{why})",
        red=status == "error",
        yellow=status == "interrupted",
    )
    if status in ("interrupted", "error"):  # the command that finishes it
        terminalreporter.write_line(f"finish it with: {resume_command(run.run_dir)}", yellow=True)
    # Last: the report's page-one scoreboard as one line, from the same code (no torch in it).
    from suite.report.scoreboard import for_results

    try:
        board = for_results(run.results.to_json(), pending=bool(config.getoption("ablation_compare")))
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:  # never hide the lines above
        terminalreporter.write_line(f"scoreboard: not computed ({type(exc).__name__}: {exc})", yellow=True)
        return
    terminalreporter.write_line(board.line(), bold=True, red=board.failed > 0 or status == "error")


def _mean_spread(verdict: VerdictRecord) -> str:
    text = f"{statistic(verdict.mean)} ± {statistic(verdict.spread, 2)} {verdict.bound}"
    return text if verdict.asserted is not False else f"{text}; {support_text(verdict.per_seed)}"
