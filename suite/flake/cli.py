"""python -m suite.flake: measure, re-judge or estimate the flake rate (see suite.flake)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import suite.flake
from suite.engine.data import DataError
from suite.flake.measure import judged, run_group, table
from suite.spec.chapter3 import ABLATIONS
from suite.spec.profiles import PROFILES
from suite.store.files import ResultsError


def parse_range(text: str) -> list[int]:
    seeds: list[int] = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        seeds.extend(range(int(low), int(high or low) + 1))
    return seeds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m suite.flake", description=suite.flake.__doc__.split("\n")[0])
    parser.add_argument("--base-seeds", default="0-19", help="e.g. 0-19 or 0,3,7 (default 0-19)")
    parser.add_argument(
        "--profile", choices=sorted(PROFILES), help="profile to train (default ci), or to judge when DIR holds several"
    )
    parser.add_argument("--device", default="cpu", help="auto, cpu or cuda (default cpu)")
    parser.add_argument("--seeds", type=int, help="seeds per variant (default: the profile's)")
    parser.add_argument("-k", dest="only", help="comma-separated ablation names (default: all)")
    parser.add_argument("--out", default="reports/flake", help="folder for the per-seed files")
    parser.add_argument("--data-dir", help="FashionMNIST folder (default: found automatically)")
    parser.add_argument("--jobs", type=int, default=1, help="processes in parallel")
    parser.add_argument(
        "--bases-per-process",
        type=int,
        default=1,
        metavar="N",
        help="base seeds trained together in one process; on CUDA their runs share "
        "stacks (e.g. 6 bases x 3 seeds: stacks of up to 18 runs of a variant)",
    )
    parser.add_argument(
        "--max-stack", type=int, help="runs per stack (default: the device's, see suite.engine.workbench)"
    )
    parser.add_argument("--rejudge", metavar="DIR", help="only judge the files already in DIR")
    parser.add_argument(
        "--estimate",
        metavar="DIR",
        nargs="+",
        help="estimate each claim's and a whole run's flake probability from the files in DIRs",
    )
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else list(ABLATIONS)
    unknown = sorted(set(names) - set(ABLATIONS))
    if unknown:
        parser.error(f"unknown ablation(s) {', '.join(unknown)}; known: {', '.join(ABLATIONS)}")
    if args.estimate:
        from suite.flake.estimate import estimate, markdown  # scipy: only when estimating

        try:
            profile, rows = judged([Path(d) for d in args.estimate], names, args.profile)
        except (ResultsError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        seeds = args.seeds or PROFILES[profile].seeds
        claims = [(name, claim) for name in names for claim in ABLATIONS[name].claims_for(profile)]
        print(markdown(estimate(rows, seeds, claims), seeds, profile))
        return 0
    if args.rejudge:
        try:
            print(table(Path(args.rejudge), names, args.profile))
        except (ResultsError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        return 0
    args.profile = args.profile or "ci"
    args.seeds = args.seeds or PROFILES[args.profile].seeds
    Path(args.out).mkdir(parents=True, exist_ok=True)
    bases = parse_range(args.base_seeds)
    try:
        if args.worker is not None:
            run_group([args.worker], names, args)
            return 0
        if args.jobs <= 1:
            step = max(1, args.bases_per_process)
            for first in range(0, len(bases), step):
                run_group(bases[first : first + step], names, args)
    except (DataError, RuntimeError) as exc:  # missing data, no CUDA: one line, finished files kept
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"interrupted; finished files are in {args.out}, run again to resume", file=sys.stderr)
        return 130
    if args.jobs > 1:
        pending = list(bases)
        running: list[subprocess.Popen] = []
        passthrough = [a for a in (argv if argv is not None else sys.argv[1:])]
        while pending or running:
            while pending and len(running) < args.jobs:
                running.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "suite.flake", *passthrough, "--worker", str(pending.pop(0))]
                    )
                )
            running[0].wait()
            if running[0].returncode:
                print(f"a worker failed with exit status {running[0].returncode}", file=sys.stderr)
                return 1
            running.pop(0)
    print(table(Path(args.out), names, args.profile))
    return 0
