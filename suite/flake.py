"""Flake rate: how often each verdict differs from the expected one over many base seeds.

    python -m suite.flake --base-seeds 0-19 --profile ci            # train, store, judge
    python -m suite.flake --base-seeds 0-19 -k dropout,l1 --jobs 2   # a subset, 2 processes
    python -m suite.flake --rejudge docs/flake/runs                  # judge stored runs again
    python -m suite.flake --estimate DIR [DIR ...]                   # flake probabilities (suite.estimate)

Base seed B trains every variant with seeds B*1000, B*1000+1, ... (as many as the profile's
seeds), exactly as ``pytest --ablation-base-seed B`` does. Each (base seed, ablation) lands in
its own JSON file under --out, so a long measurement can be split and resumed, and verdicts can be
re-judged after a bound changes without training again. A verdict is "wrong" when an asserted
claim FAILs; a reported claim has no expected verdict, its verdicts are only counted.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

from suite import numfmt
from suite.ablations import ABLATIONS
from suite.profiles import PROFILES, seeds_for
from suite.claims import describe
from suite.data import DataError
from suite.results import ResultsError, atomic_write_json, read_json


def parse_range(text: str) -> list[int]:
    seeds: list[int] = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        seeds.extend(range(int(low), int(high or low) + 1))
    return seeds


def run_group(bases: list[int], names: list[str], args) -> None:
    """Train BASES in one Workbench: on a device that stacks runs, their seeds share stacks."""
    from suite.runner import Workbench

    bench = Workbench(PROFILES[args.profile], args.device, args.data_dir, max_stack=args.max_stack)
    target = lambda base, name: Path(args.out) / f"{args.profile}-b{base:03d}-{name}.json"  # noqa: E731
    todo = {name: [b for b in bases if not target(b, name).exists()] for name in names}  # resumable
    seeds = sorted({seed for name in names for b in todo[name] for seed in seeds_for(b, args.seeds)})
    if not seeds:
        return
    bench.expect([name for name in names if todo[name]], seeds)
    for name in names:
        if not todo[name]:
            continue
        ablation = ABLATIONS[name]
        group = [seed for b in todo[name] for seed in seeds_for(b, args.seeds)]
        records = bench.run_ablation(ablation, group)
        for record in records.values():
            for run in record["runs"]:
                run.pop("parameters", None)
                run.pop("activations", None)
        for base in todo[name]:
            mine = set(seeds_for(base, args.seeds))
            runs = {variant: [run for run in record["runs"] if run["seed"] in mine]
                    for variant, record in records.items()}
            atomic_write_json(target(base, name), {"ablation": name, "base_seed": base, "profile": args.profile,
                                                   "device": str(bench.device), "runs": runs})
            print(f"base seed {base}: {name} done", flush=True)


def judged(folders: list[Path], names: list[str] | None = None, profile: str | None = None) -> tuple[str, list]:
    """The profile judged, and (ablation, claim, verdict) for every stored (base seed, ablation)
    file in FOLDERS.

    Raises ValueError when the folders hold no runs, or runs of several profiles and PROFILE is
    None; ResultsError for a file that is not a flake file or lacks a variant's runs.
    """
    stored = []
    for folder in folders:
        for path in sorted(folder.glob("*.json")):
            data = read_json(path)
            if not isinstance(data, dict) or not {"ablation", "profile", "runs"} <= data.keys() \
                    or data["ablation"] not in ABLATIONS:
                raise ResultsError(f"{path} is not a flake file of this suite")
            stored.append((folder, data))
    where = ", ".join(map(str, folders))
    profiles = sorted({data["profile"] for _, data in stored if profile in (None, data["profile"])})
    if not profiles:
        raise ValueError(f"no {profile + ' ' if profile else ''}flake files in {where}")
    if len(profiles) > 1:
        raise ValueError(f"{where} holds runs of the profiles {', '.join(profiles)}: pass --profile")
    rows = []
    for folder, data in stored:
        if data["profile"] != profiles[0] or (names and data["ablation"] not in names):
            continue
        verdicts = ABLATIONS[data["ablation"]].judge(data["runs"], profile=data["profile"])
        if verdicts is None:
            raise ResultsError(f"{folder}: {data['ablation']} of base seed {data.get('base_seed')} lacks a variant's runs; "
                               "it cannot be judged")
        rows += [(data["ablation"], claim, verdict)
                 for claim, verdict in zip(ABLATIONS[data["ablation"]].claims_for(data["profile"]), verdicts)]
    return profiles[0], rows


def table(folder: Path, names: list[str] | None = None, profile: str | None = None) -> str:
    """Per claim: its verdicts over the base seeds, wrong ones, and the statistic's range.

    Only an asserted claim has an expected verdict (PASS); a reported claim's verdicts are counted.
    Raises ValueError when FOLDER holds no runs, or runs of several profiles and PROFILE is None.
    """
    outcomes: dict[tuple[str, str], Counter] = defaultdict(Counter)
    seen: dict[tuple[str, str], list[float]] = defaultdict(list)
    profile, rows = judged([folder], names, profile)
    for name, claim, verdict in rows:
        seen[name, claim.text].append(verdict.mean)
        outcomes[name, claim.text][verdict.outcome] += 1
    lines = ["| ablation | claim | kind | bound | verdicts | wrong / N | mean statistic: min, median, max |",
             "|---|---|---|---|---|---|---|"]
    for name, ablation in ABLATIONS.items():
        for claim in ablation.claims_for(profile):
            key = (name, claim.text)
            if key not in seen:
                continue
            values = sorted(seen[key])
            counts = ", ".join(f"{outcome} {n}" for outcome, n in sorted(outcomes[key].items()))
            wrong = f"{outcomes[key]['FAIL']} / {len(values)}" if claim.asserted else f"- / {len(values)}"
            lines.append(f"| {name} | {claim.text} | {'asserted' if claim.asserted else 'reported'} | "
                         f"{describe(claim)[1]} | {counts} | {wrong} | {numfmt.statistic(values[0])}, "
                         f"{numfmt.statistic(statistics.median(values))}, {numfmt.statistic(values[-1])} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m suite.flake", description=__doc__.split("\n")[0])
    parser.add_argument("--base-seeds", default="0-19", help="e.g. 0-19 or 0,3,7 (default 0-19)")
    parser.add_argument("--profile", choices=sorted(PROFILES),
                        help="profile to train (default ci), or to judge when DIR holds several")
    parser.add_argument("--device", default="cpu", help="auto, cpu or cuda (default cpu)")
    parser.add_argument("--seeds", type=int, help="seeds per variant (default: the profile's)")
    parser.add_argument("-k", dest="only", help="comma-separated ablation names (default: all)")
    parser.add_argument("--out", default="reports/flake", help="folder for the per-seed files")
    parser.add_argument("--data-dir", help="FashionMNIST folder (default: found automatically)")
    parser.add_argument("--jobs", type=int, default=1, help="processes in parallel")
    parser.add_argument("--bases-per-process", type=int, default=1, metavar="N",
                        help="base seeds trained together in one process; on CUDA their runs share "
                             "stacks (e.g. 6 bases x 3 seeds: stacks of up to 18 runs of a variant)")
    parser.add_argument("--max-stack", type=int, help="runs per stack (default: the device's, see suite.runner)")
    parser.add_argument("--rejudge", metavar="DIR", help="only judge the files already in DIR")
    parser.add_argument("--estimate", metavar="DIR", nargs="+",
                        help="estimate each claim's and a whole run's flake probability from the files in DIRs")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else list(ABLATIONS)
    unknown = sorted(set(names) - set(ABLATIONS))
    if unknown:
        parser.error(f"unknown ablation(s) {', '.join(unknown)}; known: {', '.join(ABLATIONS)}")
    if args.estimate:
        from suite.estimate import estimate, markdown

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
                running.append(subprocess.Popen([sys.executable, "-m", "suite.flake", *passthrough,
                                                 "--worker", str(pending.pop(0))]))
            running[0].wait()
            if running[0].returncode:
                print(f"a worker failed with exit status {running[0].returncode}", file=sys.stderr)
                return 1
            running.pop(0)
    print(table(Path(args.out), names, args.profile))
    return 0


if __name__ == "__main__":
    sys.exit(main())
