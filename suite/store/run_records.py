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

from suite.spec.metrics import CURVES
from suite.store.validation import Bad, Choice, Record, expect, number

HISTORY_CURVES = tuple(m.name for m in CURVES)  # every run records these per epoch


class Served(Choice):
    """How a run's record came from the workbench's cache."""

    TRAINED = "trained"  # trained for this request, which pays for it
    IDENTICAL = "identical"  # the same run, trained for another request
    PREFIX = "prefix"  # the first epochs of a longer run, from its snapshot


@dataclass
class StackRecord(Record):
    """The stack a run trained in, as the run's record stores it."""

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
        return cls(
            **{key: data.get(key) for key in cls.keys() if key != "served"},
            served=None if served is None else Served.read(served, f"{place}.served", "way of serving"),
            **cls.unread(data),
        )


@dataclass
class RunRecord(Record):
    """One seed's run: per-epoch history, final weights' summary, where it trained."""

    OPTIONAL = frozenset({"parameters", "activations", "stack"})

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
        """EPOCHS: the variant's configured length, which no history may exceed."""
        expect(data, dict, place, "a run object")
        for key in ("seed", "history"):
            if key not in data:
                raise Bad(place, f"missing {key!r}")
        expect(data["seed"], int, f"{place}.seed", "an integer seed")
        history = expect(data["history"], dict, f"{place}.history", "an object of per-epoch curves")
        lengths = set()
        for curve in HISTORY_CURVES:
            values = expect(history.get(curve), list, f"{place}.history.{curve}", "a list of per-epoch values")
            for i, value in enumerate(values):
                number(value, f"{place}.history.{curve}[{i}]")
            lengths.add(len(values))
        if len(lengths) > 1:
            raise Bad(f"{place}.history", f"curves of different lengths {sorted(lengths)}")
        if lengths == {0}:
            raise Bad(f"{place}.history", "no epoch recorded")
        if epochs is not None and lengths.pop() > epochs:
            raise Bad(f"{place}.history", f"more epochs recorded than the {epochs} configured")
        stack = data.get("stack")
        return cls(
            **{key: data.get(key) for key in cls.keys() if key != "stack"},
            stack=None if stack is None else StackRecord.from_json(stack, f"{place}.stack"),
            **cls.unread(data),
        )


@dataclass
class StackShare(Record):
    """A variant's part in the stacks its runs trained in."""

    ids: list[str] = field(default_factory=list)
    share_s: float | None = None  # its runs' shares summed: 0 where every run was served from another's

    def to_json(self) -> dict:
        return self.stored({"ids": self.ids, "share_s": self.share_s})

    @classmethod
    def from_json(cls, data, place: str) -> StackShare:
        expect(data, dict, place, "a stack object")
        return cls(ids=data.get("ids"), share_s=data.get("share_s"), **cls.unread(data))


@dataclass
class VariantRecord(Record):
    """One variant of an ablation over all seeds: its settings and one run per seed."""

    OPTIONAL = frozenset({"stack", "duration_s"})

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
        config = data.get("config")
        epochs = config.get("epochs") if isinstance(config, dict) else None
        epochs = epochs if isinstance(epochs, int) else None
        stack = data.get("stack")
        return cls(
            **{key: data.get(key) for key in cls.keys() if key not in ("runs", "stack")},
            runs=[RunRecord.from_json(run, f"{place}.runs[{i}]", epochs) for i, run in enumerate(runs)],
            stack=None if stack is None else StackShare.from_json(stack, f"{place}.stack"),
            **cls.unread(data),
        )


@dataclass
class FlakeRecord(Record):
    """One (base seed, ablation) of the flake measurement (``suite.flake.measure``): its runs, no histograms."""

    ablation: str
    profile: str
    runs: dict[str, list[RunRecord]]  # {variant: one run per seed of the base seed}
    base_seed: int | None = None
    device: str | None = None

    ORDER = ("ablation", "base_seed", "profile", "device", "runs")

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
        values = {key: data.get(key) for key in cls.keys()}
        return cls(**{**values, "runs": runs}, **cls.unread(data))
