"""The checks every reader of a results file gets: one pass over the whole file, one line on failure.

    from suite.store.validation import check_results
    check_results(data, path)      # raises ResultsError("malformed results file PATH: PLACE: PROBLEM")

Called by ``suite.store.results.load_results``, which the report, the nightly comparison and the
merge of pytest-xdist workers' files all use, so that no reader renders or compares what
another would refuse. The place is written as a path into the JSON, e.g.
``ablations.scaling.verdicts[0]``. No torch.
"""

from __future__ import annotations

from pathlib import Path

from suite.spec.metrics import CURVES

RUN_STATUSES = ("running", "complete", "interrupted", "error")
ABLATION_STATUSES = ("not run", "running", "passed", "failed", "error", "interrupted")
OUTCOMES = ("PASS", "FAIL", "REPRODUCED", "NOT REPRODUCED")
HISTORY_CURVES = tuple(m.name for m in CURVES)  # every run records these per epoch


class _Bad(Exception):
    def __init__(self, place: str, problem: str):
        super().__init__(f"{place}: {problem}")


def _expect(value, kind: type | tuple[type, ...], place: str, what: str):
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):  # JSON true is no number
        raise _Bad(place, f"expected {what}, found {type(value).__name__}")
    return value


def _number(value, place: str) -> float:
    _expect(value, (int, float), place, "a number")
    return float(value)


def _run(run, place: str, epochs: int | None) -> None:
    _expect(run, dict, place, "a run object")
    for key in ("seed", "history"):
        if key not in run:
            raise _Bad(place, f"missing {key!r}")
    _expect(run["seed"], int, f"{place}.seed", "an integer seed")
    history = _expect(run["history"], dict, f"{place}.history", "an object of per-epoch curves")
    lengths = set()
    for curve in HISTORY_CURVES:
        values = _expect(history.get(curve), list, f"{place}.history.{curve}", "a list of per-epoch values")
        for i, value in enumerate(values):
            _number(value, f"{place}.history.{curve}[{i}]")
        lengths.add(len(values))
    if len(lengths) > 1:
        raise _Bad(f"{place}.history", f"curves of different lengths {sorted(lengths)}")
    if lengths == {0}:
        raise _Bad(f"{place}.history", "no epoch recorded")
    if epochs is not None and lengths.pop() > epochs:
        raise _Bad(f"{place}.history", f"more epochs recorded than the {epochs} configured")


def _variant(record, place: str) -> None:
    _expect(record, dict, place, "a variant object")
    runs = _expect(record.get("runs"), list, f"{place}.runs", "a list of runs")
    if not runs:
        raise _Bad(f"{place}.runs", "no runs")
    config = record.get("config")
    epochs = config.get("epochs") if isinstance(config, dict) else None
    for i, run in enumerate(runs):
        _run(run, f"{place}.runs[{i}]", epochs if isinstance(epochs, int) else None)


def _claim_variants(entry: dict, claim_text: str, place: str) -> list[str]:
    for claim in entry.get("claims") or []:
        if isinstance(claim, dict) and claim.get("text") == claim_text:
            return [v for v in (claim.get("variant"), claim.get("baseline")) if v]
    raise _Bad(place, f"verdict for a claim the entry does not list: {claim_text!r}")


def _verdict(verdict, entry: dict, place: str) -> None:
    _expect(verdict, dict, place, "a verdict object")
    for key in ("claim", "outcome", "per_seed", "mean", "spread", "seeds"):
        if key not in verdict:
            raise _Bad(place, f"missing {key!r}")
    if verdict["outcome"] not in OUTCOMES:
        raise _Bad(f"{place}.outcome", f"unknown outcome {verdict['outcome']!r}")
    per_seed = _expect(verdict["per_seed"], list, f"{place}.per_seed", "a list of per-seed values")
    seeds = _expect(verdict["seeds"], list, f"{place}.seeds", "a list of seeds")
    if len(per_seed) != len(seeds) or not seeds:
        raise _Bad(place, f"{len(per_seed)} per-seed values for {len(seeds)} seeds")
    for i, value in enumerate(per_seed):
        _number(value, f"{place}.per_seed[{i}]")
    _number(verdict["mean"], f"{place}.mean")
    variants = entry.get("variants") or {}
    for name in _claim_variants(entry, verdict["claim"], place):
        record = variants.get(name)
        runs = record.get("runs") if isinstance(record, dict) else None
        if not runs:
            raise _Bad(place, f"the verdict on {verdict['claim']!r} rests on variant {name!r}, which has no runs")
        have = {run.get("seed") for run in runs if isinstance(run, dict)}
        missing = [seed for seed in seeds if seed not in have]
        if missing:
            raise _Bad(place, f"the verdict uses seeds {missing} that variant {name!r} has no runs for")


def _ablation(entry, place: str) -> None:
    _expect(entry, dict, place, "an ablation object")
    if entry.get("status") not in ABLATION_STATUSES:
        raise _Bad(f"{place}.status", f"unknown status {entry.get('status')!r}")
    variants = _expect(entry.get("variants", {}), dict, f"{place}.variants", "an object of variants")
    for name, record in variants.items():
        _variant(record, f"{place}.variants.{name}")
    claims = _expect(entry.get("claims", []), list, f"{place}.claims", "a list of claims")
    for i, claim in enumerate(claims):
        _expect(claim, dict, f"{place}.claims[{i}]", "a claim object")
    verdicts = _expect(entry.get("verdicts", []), list, f"{place}.verdicts", "a list of verdicts")
    for i, verdict in enumerate(verdicts):
        _verdict(verdict, entry, f"{place}.verdicts[{i}]")
    if entry["status"] in ("passed", "failed") and not verdicts:
        raise _Bad(f"{place}.status", f"{entry['status']!r} without any verdict")


def _check(data) -> None:
    if not isinstance(data, dict):
        raise _Bad("top level", f"expected a JSON object, found {type(data).__name__}")
    if data.get("status") not in RUN_STATUSES:
        raise _Bad("status", f"unknown run status {data.get('status')!r}")
    profile = _expect(data["profile"], dict, "profile", "a profile object")
    _expect(profile.get("name"), str, "profile.name", "a profile name")
    seeds = _expect(data["seeds"], list, "seeds", "a list of seeds")
    for i, seed in enumerate(seeds):
        _expect(seed, int, f"seeds[{i}]", "an integer seed")
    _expect(data["machine"], dict, "machine", "an object")
    _expect(data.get("extras", {}), dict, "extras", "an object")
    ablations = _expect(data["ablations"], dict, "ablations", "an object of ablations")
    for name, entry in ablations.items():
        _ablation(entry, f"ablations.{name}")


def check_results(data, path: str | Path) -> None:
    """Raise ResultsError naming PATH and the first problem's place; return None if DATA is sound."""
    from suite.store.files import ResultsError

    try:
        _check(data)
    except _Bad as exc:
        raise ResultsError(f"malformed results file {path}: {exc}") from None
