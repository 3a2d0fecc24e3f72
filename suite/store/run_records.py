"""What one variant's training stores: its runs (one per seed) and the stacks they trained in.

    from suite.store.run_records import RunRecord, StackRecord, VariantRecord
    record = VariantRecord.of("scaled", "Scaled inputs", config, runs)   # the workbench builds them
    record = VariantRecord.from_json(data, "ablations.scaling.variants.scaled")   # Bad on a bad value

The workbench (``suite.engine.workbench``) builds these; a results file holds them under each
ablation's ``variants``, and the flake measurement's per-seed files hold their runs. ``to_json``
writes the keys today's files have; nested values (histories, histograms) are shared, not copied.
No torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from suite.spec.metrics import CURVES, FRACTION, METRICS
from suite.store.validation import Bad, Choice, Record, expect, measured, optional, whole

HISTORY_CURVES = tuple(m.name for m in CURVES)  # every run records these per epoch


class Served(Choice):
    """How a run's record came from the workbench's cache."""

    TRAINED = "trained"  # trained for this request, which pays for it
    IDENTICAL = "identical"  # the same run, trained for another request
    PREFIX = "prefix"  # the first epochs of a longer run, from its snapshot


@dataclass
class StackRecord(Record):
    """The stack a run trained in, as the run's record stores it.

    Unknown keys are kept (``extra``), not refused: this is the planner's bookkeeping, which
    grows as the planner does (``trained_epochs`` came later), and nothing judged or compared
    reads it; the timings table shows what it knows.
    """

    id: str | None = None
    runs: int | None = None  # how many runs the stack trained together
    seconds: float | None = None  # the stack's whole training time
    share_s: float | None = None  # this run's share of it; 0 where another request paid
    served: Served | None = None
    trained_by: str | None = None  # the request charged with the run, "ablation/variant"
    trained_epochs: int | None = None  # the run's length as trained (longer than asked for a prefix)

    def to_json(self) -> dict:
        values = {key: getattr(self, key) for key in self.keys()}
        values["served"] = None if self.served is None else self.served.value
        return self.stored(values)

    @classmethod
    def from_json(cls, data, place: str) -> StackRecord:
        expect(data, dict, place, "a stack object")
        served = data.get("served")
        optional(data.get("id"), str, f"{place}.id", "a stack id")
        optional(data.get("trained_by"), str, f"{place}.trained_by", "ablation/variant")
        for key in ("runs", "trained_epochs"):
            if data.get(key) is not None:
                whole(data[key], f"{place}.{key}", low=1)
        for key in ("seconds", "share_s"):
            if data.get(key) is not None:
                measured(data[key], f"{place}.{key}")
        return cls(
            **{key: data.get(key) for key in cls.keys() if key != "served"},
            served=None if served is None else Served.read(served, f"{place}.served", "way of serving"),
            **cls.unread(data, place),
        )


@dataclass
class RunRecord(Record):
    """One seed's run: per-epoch history, final weights' summary, where it trained."""

    OPTIONAL = frozenset({"parameters", "activations", "stack"})
    # Known keys only: claims and the report read a run's keys by name, so a misspelt one
    # ("diverged_epoch") would silently change what they judge.
    KNOWN_ONLY = True

    seed: int
    history: dict[str, list[float]]  # per-epoch curves, HISTORY_CURVES and more
    diverged_epoch: int | None = None
    wall_s: float | None = None
    weight_abs_mean: float | None = None
    parameters: dict | None = None  # weight and bias histograms per layer (flake files drop them)
    activations: dict | None = None  # first hidden layer's histograms, where the ablation probes them
    stack: StackRecord | None = None  # absent in results written before the planner

    def to_json(self) -> dict:
        values = {key: getattr(self, key) for key in self.keys()}
        values["stack"] = None if self.stack is None else self.stack.to_json()
        return self.stored(values)

    @classmethod
    def from_json(cls, data, place: str, epochs: int | None = None) -> RunRecord:
        """EPOCHS: the variant's configured length: the history has them all, unless the run
        diverged, which stops it at its diverged epoch (``suite.engine.trainer``)."""
        expect(data, dict, place, "a run object")
        for key in ("seed", "history"):
            if key not in data:
                raise Bad(place, f"missing {key!r}")
        expect(data["seed"], int, f"{place}.seed", "an integer seed")
        history = expect(data["history"], dict, f"{place}.history", "an object of per-epoch curves")
        recorded = _history_length(history, f"{place}.history")
        diverged = data.get("diverged_epoch")
        if diverged is not None:  # the epoch whose training loss was not finite, where its history stops
            whole(diverged, f"{place}.diverged_epoch", low=1, what="an epoch")
            if diverged != recorded:
                raise Bad(f"{place}.diverged_epoch", f"{diverged}, but the history stops at epoch {recorded}")
        if epochs is not None and recorded > epochs:
            raise Bad(f"{place}.history", f"more epochs recorded than the {epochs} configured")
        if epochs is not None and recorded < epochs and diverged is None:
            raise Bad(f"{place}.history", f"{recorded} of the {epochs} configured epochs, and the run did not diverge")
        broken = diverged is not None
        for key, values in history.items():
            for i, value in enumerate(expect(values, list, f"{place}.history.{key}", "a list of per-epoch values")):
                _check_curve_value(key, value, f"{place}.history.{key}[{i}]", broken)
        if data.get("wall_s") is not None:
            measured(data["wall_s"], f"{place}.wall_s")
        if data.get("weight_abs_mean") is not None:  # NaN once the weights diverged
            measured(data["weight_abs_mean"], f"{place}.weight_abs_mean", broken=broken)
        for key in ("parameters", "activations"):
            optional(data.get(key), dict, f"{place}.{key}", "an object of histograms")
        stack = data.get("stack")
        return cls(
            **{key: data.get(key) for key in cls.keys() if key != "stack"},
            stack=None if stack is None else StackRecord.from_json(stack, f"{place}.stack"),
            **cls.unread(data, place),
        )


def _history_length(history: dict, place: str) -> int:
    """How many epochs HISTORY records: every curve has one value per epoch."""
    lengths = set()
    for curve in HISTORY_CURVES:
        lengths.add(len(expect(history.get(curve), list, f"{place}.{curve}", "a list of per-epoch values")))
    for values in history.values():
        if isinstance(values, list):
            lengths.add(len(values))
    if len(lengths) > 1:
        raise Bad(place, f"curves of different lengths {sorted(lengths)}")
    if lengths == {0}:
        raise Bad(place, "no epoch recorded")
    return lengths.pop()


def _check_curve_value(curve: str, value, place: str, broken: bool) -> None:
    """Accuracies are fractions, whatever happened to the weights (a diverged run's count of right
    answers is still a count); a loss is not finite only in a run recorded as diverged."""
    metric = METRICS.get(curve)
    if metric is not None and metric.unit is FRACTION:
        measured(value, place, high=1.0)
    elif curve.endswith("_loss"):
        measured(value, place, broken=broken)
    else:  # a learning rate, a wall clock
        measured(value, place)


@dataclass
class StackShare(Record):
    """A variant's part in the stacks its runs trained in; unknown keys kept, as a StackRecord's."""

    ids: list[str] = field(default_factory=list)
    share_s: float | None = None  # its runs' shares summed: 0 where every run was served from another's

    def to_json(self) -> dict:
        return self.stored({"ids": self.ids, "share_s": self.share_s})

    @classmethod
    def from_json(cls, data, place: str) -> StackShare:
        expect(data, dict, place, "a stack object")
        ids = expect(data.get("ids", []), list, f"{place}.ids", "a list of stack ids")
        for i, value in enumerate(ids):
            expect(value, str, f"{place}.ids[{i}]", "a stack id")
        if data.get("share_s") is not None:
            measured(data["share_s"], f"{place}.share_s")
        return cls(ids=data.get("ids"), share_s=data.get("share_s"), **cls.unread(data, place))


@dataclass
class VariantRecord(Record):
    """One variant of an ablation over all seeds: its settings and one run per seed."""

    OPTIONAL = frozenset({"stack", "duration_s"})
    KNOWN_ONLY = True  # as a run's: the report and the nightly read each key by name

    variant: str | None = None
    label: str | None = None
    config: dict[str, Any] | None = None  # TrainConfig.as_dict() of the variant as run
    runs: list[RunRecord] = field(default_factory=list)
    stack: StackShare | None = None  # absent in results written before the planner
    duration_s: float | None = None  # the whole variant's wall time, set by the run session

    @classmethod
    def of(cls, variant: str, label: str, config: dict[str, Any], runs: list[RunRecord]) -> VariantRecord:
        """A variant's record as trained now, its stack share summed from its runs'."""
        stacks = [run.stack for run in runs if run.stack is not None]
        share = StackShare(ids=sorted({s.id for s in stacks if s.id}), share_s=sum(s.share_s or 0.0 for s in stacks))
        return cls(variant=variant, label=label, config=config, runs=runs, stack=share)

    def runs_json(self) -> list[dict]:
        """The runs as stored: what claims are judged from (``suite.spec.metrics.metric_value``)."""
        return [run.to_json() for run in self.runs]

    def to_json(self) -> dict:
        values = {key: getattr(self, key) for key in self.keys()}
        values["runs"] = self.runs_json()
        values["stack"] = None if self.stack is None else self.stack.to_json()
        return self.stored(values)

    @classmethod
    def from_json(cls, data, place: str) -> VariantRecord:
        expect(data, dict, place, "a variant object")
        runs = expect(data.get("runs"), list, f"{place}.runs", "a list of runs")
        if not runs:
            raise Bad(f"{place}.runs", "no runs")
        for key in ("variant", "label"):
            optional(data.get(key), str, f"{place}.{key}", "a name")
        config = optional(data.get("config"), dict, f"{place}.config", "an object of settings")
        epochs = None if config is None or "epochs" not in config else config["epochs"]
        if epochs is not None:
            whole(epochs, f"{place}.config.epochs", low=1, what="a number of epochs")
        if data.get("duration_s") is not None:
            measured(data["duration_s"], f"{place}.duration_s")
        records = [RunRecord.from_json(run, f"{place}.runs[{i}]", epochs) for i, run in enumerate(runs)]
        _distinct_seeds(records, f"{place}.runs")
        stack = data.get("stack")
        return cls(
            **{key: data.get(key) for key in cls.keys() if key not in ("runs", "stack")},
            runs=records,
            stack=None if stack is None else StackShare.from_json(stack, f"{place}.stack"),
            **cls.unread(data, place),
        )


def _distinct_seeds(runs: list[RunRecord], place: str) -> None:
    seeds = [run.seed for run in runs]
    twice = sorted({seed for seed in seeds if seeds.count(seed) > 1})
    if twice:
        raise Bad(place, f"seed {twice[0]} has more than one run")


@dataclass
class FlakeRecord(Record):
    """One (base seed, ablation) of the flake measurement (``suite.flake.measure``): its runs, no histograms."""

    ablation: str
    profile: str
    runs: dict[str, list[RunRecord]]  # {variant: one run per seed of the base seed}
    base_seed: int | None = None
    device: str | None = None

    ORDER = ("ablation", "base_seed", "profile", "device", "runs")
    KNOWN_ONLY = True  # what it holds is judged; only its runs' stacks keep keys of another version

    def runs_json(self) -> dict[str, list[dict]]:
        """{variant: its runs as stored}: what claims are judged from."""
        return {variant: [run.to_json() for run in runs] for variant, runs in self.runs.items()}

    def to_json(self) -> dict:
        values = {key: getattr(self, key) for key in self.ORDER}
        values["runs"] = self.runs_json()
        return self.stored(values)

    @classmethod
    def from_json(cls, data, place: str) -> FlakeRecord:
        """PLACE: where DATA is in its file, "" for a whole file."""
        expect(data, dict, place or "top level", "a flake object")
        for key in ("ablation", "profile", "runs"):
            if key not in data:
                raise Bad(place or "top level", f"missing {key!r}")
        inside = f"{place}.runs" if place else "runs"
        stored = expect(data["runs"], dict, inside, "an object of variants' runs")
        runs = {}
        for variant, records in stored.items():
            expect(records, list, f"{inside}.{variant}", "a list of runs")
            runs[variant] = [RunRecord.from_json(run, f"{inside}.{variant}[{i}]") for i, run in enumerate(records)]
            _distinct_seeds(runs[variant], f"{inside}.{variant}")
        expect(data["ablation"], str, f"{place}.ablation" if place else "ablation", "an ablation name")
        expect(data["profile"], str, f"{place}.profile" if place else "profile", "a profile name")
        if data.get("base_seed") is not None:
            whole(data["base_seed"], f"{place}.base_seed" if place else "base_seed", low=0)
        optional(data.get("device"), str, f"{place}.device" if place else "device", "a device")
        values = {key: data.get(key) for key in cls.keys()}
        return cls(**{**values, "runs": runs}, **cls.unread(data, place or "top level"))
