"""Command line of the nightly regression check; see ``suite.regress`` for what it compares.

python -m suite.regress reports/NEW --history ~/ablation-history --store
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import suite.regress as regress
from suite.regress import TOLERANCE, nightly
from suite.regress.kinds import NoteKind, Verdict
from suite.regress.table import format_table
from suite.store.files import ResultsError


def _tolerance(text: str) -> tuple[str, float]:
    """METRIC=VALUE; a trailing % divides by 100 (time=40%, val_acc=3%: three points)."""
    metric, _, value = text.partition("=")
    if metric not in TOLERANCE:
        raise argparse.ArgumentTypeError(f"unknown metric {metric!r} (one of {', '.join(TOLERANCE)})")
    try:
        return metric, float(value.rstrip("%")) / (100 if value.endswith("%") else 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m suite.regress", description=regress.__doc__.split("\n\n")[0])
    parser.add_argument("current", help="results folder of the run to check")
    parser.add_argument(
        "--history",
        required=True,
        type=Path,
        help="folder of earlier runs' results folders, or one baseline results folder",
    )
    parser.add_argument("--baseline", metavar="RUN", help="run id in the history, or a results folder")
    parser.add_argument("--store", action="store_true", help="then copy this run into the history")
    parser.add_argument(
        "--tolerance",
        nargs="+",
        type=_tolerance,
        default=[],
        metavar="METRIC=VALUE",
        help="a floor: e.g. val_acc=0.01 val_loss=0.02 time=40%%",
    )
    parser.add_argument("--json", type=Path, help="also write the comparison as JSON here")
    parser.add_argument(
        "--accept",
        metavar="REASON",
        help="the changes are intended: pass, and (with --store) make this run the baseline, REASON recorded",
    )
    parser.add_argument("--statistical", action="store_true", help="compare statistically even in the same environment")
    parser.add_argument("--verbose", action="store_true", help="list the OK rows too")
    args = parser.parse_args(argv)
    if args.accept is not None and not args.accept.strip():
        parser.error("--accept needs a reason")
    try:
        report = nightly(
            args.current,
            args.history,
            args.baseline,
            dict(args.tolerance),
            keep=args.store,
            json_path=args.json,
            accept=args.accept,
            statistical=args.statistical,
        )
    except ResultsError as exc:
        print(f"regress: {exc}", file=sys.stderr)
        return 2
    print(format_table(report, verbose=args.verbose))
    for note in report["notes"]:
        if note["kind"] == NoteKind.SKIPPED_FILE:
            print(f"regress: warning: {note['text']}", file=sys.stderr)
    if args.store and not report["stored"]:
        why = [note["text"] for note in report["notes"] if note["kind"] == NoteKind.NOT_STORED]
        print(f"regress: {why[-1]}", file=sys.stderr)
    if report["verdict"] == Verdict.FAIL:  # a regression, or a run that did not complete
        return 1
    return 2 if args.store and not report["stored"] else 0


if __name__ == "__main__":
    sys.exit(main())
