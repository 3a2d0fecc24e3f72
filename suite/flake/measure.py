"""Training and judging many base seeds: one JSON file per (base seed, ablation), resumable.

Base seed B trains every variant with seeds B*1000, B*1000+1, ... (as many as the profile's
seeds), exactly as ``pytest --ablation-base-seed B`` does. Each (base seed, ablation) lands in
its own JSON file under --out, so a long measurement can be split and resumed, and verdicts can be
re-judged after a bound changes without training again. A verdict is "wrong" when an asserted
claim FAILs; a reported claim has no expected verdict, its verdicts are only counted.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from pathlib import Path

from suite.spec import numfmt
from suite.spec.chapter3 import ABLATIONS
from suite.spec.claims import describe
from suite.spec.profiles import PROFILES, seeds_for
from suite.store.files import ResultsError, atomic_write_json, read_json
from suite.store.run_records import FlakeRecord, VariantRecord
from suite.store.stored_claims import check_claim
from suite.store.validation import Bad


def run_group(bases: list[int], names: list[str], args) -> None:
    """Train BASES in one Workbench: on a device that stacks runs, their seeds share stacks."""
    from suite.engine.workbench import Workbench

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
            for run in record.runs:  # histograms make the files large and no claim reads them
                run.parameters = run.activations = None
        for base in todo[name]:
            mine = set(seeds_for(base, args.seeds))
            runs = {variant: [run for run in record.runs if run.seed in mine] for variant, record in records.items()}
            stored = FlakeRecord(
                ablation=name, base_seed=base, profile=args.profile, device=str(bench.device), runs=runs
            )
            atomic_write_json(target(base, name), stored.to_json())
            print(f"base seed {base}: {name} done", flush=True)


def load_flake_file(path: Path) -> FlakeRecord:
    """One stored (base seed, ablation), checked: ResultsError naming PATH if it is not one of this suite's."""
    data = read_json(path)
    if (
        not isinstance(data, dict)
        or not {"ablation", "profile", "runs"} <= data.keys()
        or not isinstance(data["ablation"], str)
        or data["ablation"] not in ABLATIONS
    ):
        raise ResultsError(f"{path} is not a flake file of this suite")
    try:
        record = FlakeRecord.from_json(data, "")
        if record.profile not in PROFILES:
            raise Bad("profile", f"unknown profile {record.profile!r}")
        # what the measurement judges: each claim's metric, read from the runs it judges
        variants = {name: VariantRecord(variant=name, runs=runs) for name, runs in record.runs.items()}
        for claim in ABLATIONS[record.ablation].claims_for(record.profile):
            check_claim(claim.as_dict(), variants, f"claim {claim.text!r}")
    except Bad as exc:
        raise ResultsError(f"malformed flake file {path}: {exc}") from None
    return record


def judged(folders: list[Path], names: list[str] | None = None, profile: str | None = None) -> tuple[str, list]:
    """The profile judged, and (ablation, claim, verdict) for every stored (base seed, ablation)
    file in FOLDERS.

    Raises ValueError when the folders hold no runs, or runs of several profiles and PROFILE is
    None; ResultsError for a file that is not a flake file or lacks a variant's runs.
    """
    stored: list[tuple[Path, FlakeRecord]] = []
    for folder in folders:
        for path in sorted(folder.glob("*.json")):
            stored.append((folder, load_flake_file(path)))
    where = ", ".join(map(str, folders))
    profiles = sorted({data.profile for _, data in stored if profile in (None, data.profile)})
    if not profiles:
        raise ValueError(f"no {profile + ' ' if profile else ''}flake files in {where}")
    if len(profiles) > 1:
        raise ValueError(f"{where} holds runs of the profiles {', '.join(profiles)}: pass --profile")
    rows = []
    for folder, data in stored:
        if data.profile != profiles[0] or (names and data.ablation not in names):
            continue
        verdicts = ABLATIONS[data.ablation].judge(data.runs_json(), profile=data.profile)
        if verdicts is None:
            raise ResultsError(
                f"{folder}: {data.ablation} of base seed {data.base_seed} lacks a variant's runs; it cannot be judged"
            )
        rows += [
            (data.ablation, claim, verdict)
            for claim, verdict in zip(ABLATIONS[data.ablation].claims_for(data.profile), verdicts)
        ]
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
    lines = [
        "| ablation | claim | kind | bound | verdicts | wrong / N | mean statistic: min, median, max |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, ablation in ABLATIONS.items():
        for claim in ablation.claims_for(profile):
            key = (name, claim.text)
            if key not in seen:
                continue
            values = sorted(seen[key])
            counts = ", ".join(f"{outcome} {n}" for outcome, n in sorted(outcomes[key].items()))
            wrong = f"{outcomes[key]['FAIL']} / {len(values)}" if claim.asserted else f"- / {len(values)}"
            lines.append(
                f"| {name} | {claim.text} | {'asserted' if claim.asserted else 'reported'} | "
                f"{describe(claim)[1]} | {counts} | {wrong} | {numfmt.statistic(values[0])}, "
                f"{numfmt.statistic(statistics.median(values))}, {numfmt.statistic(values[-1])} |"
            )
    return "\n".join(lines)
