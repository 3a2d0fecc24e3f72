"""Render a run's results folder to report.html and report.pdf beside it.

    ablation-report reports/20261126-221500
    python -m suite.report reports/20261126-221500 --out /tmp/report

Exit status 0 on success; 2 with one error line (no traceback) when the results file is missing
or malformed, or the folder cannot be written; 130 with one line when stopped by Ctrl-C or SIGTERM,
at any moment: each report file is then the earlier one or a finished new one (writes are atomic).
"""

from __future__ import annotations

import argparse
import signal
import sys

from suite.store.files import ResultsError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="ablation-report",
        description=("Render a results folder (results.json, benchmark.json) to report.html and report.pdf."),
    )
    parser.add_argument("run_dir", help="the run's results folder, e.g. reports/<run-id>, or its results.json")
    parser.add_argument("--out", metavar="DIR", help="write the report here instead of into the results folder")
    args = parser.parse_args(argv)
    previous = signal.signal(signal.SIGTERM, _interrupt)  # a runner's stop ends like Ctrl-C: one line
    try:
        from suite.report import render  # after parsing: --help should not wait for matplotlib
        from suite.report.interrupts import lost_interrupts

        with lost_interrupts() as lost:
            paths = render(args.run_dir, args.out)
        if lost:  # landed where Python could not raise it: the render went on, but was asked to stop
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second signal must not cut this line short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("ablation-report: interrupted; no report file is half-written", file=sys.stderr)
        return INTERRUPTED
    except ResultsError as exc:
        print(f"ablation-report: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # an unwritable output folder, a full disk
        print(f"ablation-report: error: cannot write the report: {exc}", file=sys.stderr)
        return 2
    finally:
        if signal.getsignal(signal.SIGTERM) is _interrupt:
            signal.signal(signal.SIGTERM, previous)
    for path in paths:
        print(path)
    return 0


INTERRUPTED = 128 + signal.SIGINT  # what a shell reports for a command stopped by Ctrl-C


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


if __name__ == "__main__":
    sys.exit(main())
