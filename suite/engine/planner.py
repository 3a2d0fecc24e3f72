"""Which runs to train, once each, and how to pack them into stacks. No torch here.

    from suite.engine.planner import requests_for, distinct_runs, pack, epochs_saved
    requests = requests_for(ABLATIONS_LIST, PROFILES["ci"], seeds=[0, 1, 2])
    runs = distinct_runs(requests)              # one PlannedRun per (config minus epochs, seed)
    stacks = pack(runs.values(), max_stack=3, train_size=6000)
    epochs_saved(requests)                      # (epochs asked for, epochs trained)

A request is one seed of one variant. Two requests whose configs differ only in ``epochs`` (and
share the seed) are one run: the longest is trained, and a shorter one is served as its prefix,
with the model as it was after that epoch (a snapshot the planner asks the trainer for). That is
exact only because nothing in a run depends on its total epoch count: the plateau schedule looks
at past epochs only, shuffles are drawn per epoch and dropout masks per step. A schedule that
reads the epoch budget (cosine annealing, one-cycle) must be named in ``EPOCH_DEPENDENT`` so that
its runs are keyed with their epochs and never served as prefixes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

# TrainConfig fields that, when set (truthy), make a run depend on its total epoch count. None of
# today's fields do; the hook is here so that adding such a schedule cannot silently break prefixes.
EPOCH_DEPENDENT: tuple[str, ...] = ()


@dataclass(frozen=True)
class Request:
    """One seed of one variant, as a test case needs it."""

    ablation: str
    variant: str
    seed: int
    cfg: Any  # a suite.engine.trainer.TrainConfig (any frozen dataclass with ``epochs``)

    @property
    def name(self) -> str:
        return f"{self.ablation}/{self.variant}"


def prefix_safe(cfg) -> bool:
    """Whether a shorter run with CFG equals the first epochs of a longer one."""
    return not any(getattr(cfg, name, None) for name in EPOCH_DEPENDENT)


def run_key(cfg, seed: int) -> tuple:
    """What identifies a run across requests: its config without the epoch count, and its seed."""
    return (replace(cfg, epochs=0) if prefix_safe(cfg) else cfg, seed)


@dataclass
class PlannedRun:
    """A run to train once: the longest request's config, and the epochs other requests end on."""

    cfg: Any
    seed: int
    requests: list[Request] = field(default_factory=list)

    @property
    def snapshots(self) -> list[int]:
        """Epochs, before the last, whose model a shorter request needs."""
        return sorted({r.cfg.epochs for r in self.requests} - {self.cfg.epochs})

    @property
    def key(self) -> tuple:
        return run_key(self.cfg, self.seed)


def requests_for(ablations: Iterable, profile, seeds: Iterable[int]) -> list[Request]:
    """Every (variant, seed) of ABLATIONS (``suite.spec.chapter3.Ablation``) under PROFILE, in order."""
    return [
        Request(a.name, v.name, seed, a.config(v.name, profile))
        for a in ablations
        for v in a.variants
        for seed in seeds
    ]


def distinct_runs(requests: Iterable[Request]) -> dict[tuple, PlannedRun]:
    """One PlannedRun per run key, in the order of the first request that needs it."""
    runs: dict[tuple, PlannedRun] = {}
    for request in requests:
        run = runs.setdefault(run_key(request.cfg, request.seed), PlannedRun(request.cfg, request.seed))
        run.requests.append(request)
        if request.cfg.epochs > run.cfg.epochs:
            run.cfg = request.cfg
    return runs


def stack_key(cfg, train_size: int) -> tuple:
    """What runs of one stack must share: the model's shape and the batch size actually used."""
    return (tuple(cfg.hidden), cfg.batch_norm, min(cfg.batch_size, train_size))


def pack(runs: Iterable[PlannedRun], *, max_stack: int, train_size: int) -> list[list[PlannedRun]]:
    """Compatible runs in stacks of at most MAX_STACK, longest first within each shape.

    Groups keep the order of their first run, so whoever passes one ablation's runs at a time
    gets stacks that finish that ablation before the next one starts. Runs of like length go
    together: a finished run's slot idles until the longest run of its stack is done.
    """
    groups: dict[tuple, list[PlannedRun]] = {}
    for run in runs:
        groups.setdefault(stack_key(run.cfg, train_size), []).append(run)
    stacks = []
    for group in groups.values():
        group = sorted(group, key=lambda run: -run.cfg.epochs)  # stable: ties keep their order
        stacks += [group[i : i + max_stack] for i in range(0, len(group), max_stack)]
    return stacks


def epochs_saved(requests: list[Request]) -> tuple[int, int]:
    """(epochs the requests ask for, epochs trained when each distinct run trains once)."""
    return (sum(r.cfg.epochs for r in requests), sum(run.cfg.epochs for run in distinct_runs(requests).values()))
