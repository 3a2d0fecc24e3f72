"""One night: find tonight's baseline in the history, compare, store the run if the night passed,
and write the comparison's JSON. What the CLI (``python -m suite.regress``) and the pytest plugin
(``--ablation-compare``) both call.

    from suite.regress.night import nightly
    report = nightly("reports/NEW", "~/ablation-history", keep=True)   # dict; ResultsError on bad input
"""

from __future__ import annotations

from pathlib import Path

# --tolerance's names: the final metrics' shift floors, and "time", the cost's (relative) floor
from suite.regress.compare import compare
from suite.regress.history import (
    Run,
    earlier_runs,
    find_run,
    load_run,
    read_history,
    store,
    unstorable_reason,
)
from suite.regress.kinds import NoteKind, Verdict
from suite.store.files import RESULTS_FILE, ResultsError, atomic_write_json, write_failure


def check(
    current: Run,
    history: Path,
    baseline: str | None = None,
    tolerance: dict | None = None,
    create: bool = False,
    *,
    statistical: bool = False,
    accept: str | None = None,
) -> dict:
    """Find the baseline for CURRENT in HISTORY and compare; ResultsError on bad input."""
    if not (history.is_dir() or create):  # a typo would otherwise pass as "first night"
        raise ResultsError(f"no history folder at {history}")
    runs, skipped = read_history(history) if history.is_dir() else ([], [])
    single = (history / RESULTS_FILE).is_file()
    for run in runs:
        if run.run_id == current.run_id and not (single and baseline is None):
            raise ResultsError(
                f"run {current.run_id} is already in the history at {run.path}: a night is compared "
                "and stored once (give tonight's run another id)"
            )
    earlier = earlier_runs(current, runs)
    if baseline is None and single and runs:
        baseline = str(history)  # a single results folder is an explicit baseline
    base = None
    if baseline is not None:
        base = load_run(baseline) if (Path(baseline) / RESULTS_FILE).is_file() else find_run(baseline, runs)
        if base.profile != current.profile:
            raise ResultsError(
                f"baseline {base.run_id} is profile {base.profile}, {current.run_id} is "
                f"{current.profile}: only runs of one profile are compared"
            )
    elif earlier:
        base = earlier[-1]
    report = compare(current, earlier, base, tolerance, statistical=statistical, accept=accept)
    report["notes"] += [{"kind": NoteKind.SKIPPED_FILE, "text": text} for text in skipped]
    return report


def nightly(
    run_dir,
    history,
    baseline: str | None = None,
    tolerance: dict | None = None,
    *,
    keep: bool = False,
    json_path=None,
    accept: str | None = None,
    statistical: bool = False,
) -> dict:
    """Compare RUN_DIR with HISTORY, then (KEEP) store it if it is complete and did not fail (or
    the failure was accepted), and write the JSON; for the CLI and the pytest plugin alike.
    Raises ResultsError."""
    current = load_run(run_dir)
    report = check(current, Path(history), baseline, tolerance, create=keep, statistical=statistical, accept=accept)
    report["stored"] = None
    if keep:
        why = None
        if current.status != "complete":
            why = f"not stored: {unstorable_reason(current)}"
        elif report["verdict"] == Verdict.FAIL:
            why = "not stored: the night failed; if the change is intended, accept it: --accept REASON"
        if why is None:
            accepted = {"reason": accept, "findings": report["findings"]} if accept else None
            report["stored"] = str(store(current, history, accepted=accepted))
        else:
            report["notes"].append(
                {
                    "kind": NoteKind.NOT_STORED,
                    "run_id": current.run_id,
                    "status": current.status,
                    "error": current.error,
                    "text": why,
                }
            )
    if json_path:
        try:
            atomic_write_json(json_path, report)
        except OSError as exc:  # exit 1 means "regressed": an unwritable --json is bad input, one line
            raise ResultsError(f"cannot write the comparison: {write_failure(json_path, exc)}") from None
    return report
