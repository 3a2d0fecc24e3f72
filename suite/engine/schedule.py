"""The session's schedule: every expected run packed once into stacks, and which of them to train now.

    from suite.engine.schedule import Schedule
    schedule = Schedule(expected_requests, max_stack=32, train_size=60000)
    for runs, asked in schedule.due(missing_requests, trained=lambda run: ...):
        ...   # train RUNS (PlannedRun) as one stack; ASKED names each run by a request that needs it

The Workbench's cache records (``Trained``, ``TrainedStack``) live here too. No torch here.

Stacks are packed across ablations by the model's shape and batch size (``planner.pack``), not
per ablation: on CUDA the 784-1000-10 runs at batch 32 of every selected ablation share stacks.
A request due now trains every not yet trained run of each scheduled stack that holds one of its
runs, so the first variant that needs a stack trains all of it, whatever ablations its runs
belong to, and later variants are served from the cache. With stacks of one (the CPU) that is
exactly the requested runs, one at a time, as before the schedule. Requests outside the
expectation (the mode probe, other seeds) train at their own length, or with the expected run
they share, at the longer of the two lengths.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from suite.engine.planner import PlannedRun, Request, distinct_runs, pack, run_key


@dataclass
class TrainedStack:
    """One stack the Workbench trained (kept in memory; each run's record stores a StackRecord)."""

    id: str  # "s1", "s2"... in training order
    runs: list[str]  # the requests it trained, "ablation/variant seed N"
    epochs: list[int]  # each run's length as trained
    seconds: float  # the sum of its runs' shares: from its construction to its last run's last epoch
    device: str


@dataclass
class Trained:
    """A finished run in the Workbench's cache: every epoch's history and the models requests need."""

    cfg: Any  # a TrainConfig as trained: ``epochs`` is the longest request's
    result: Any  # its RunResult: history of all epochs, final model, snapshots at shorter requests' ends
    stack: TrainedStack  # the stack it trained in
    share_s: float  # its share of the stack's time: each epoch's seconds split among the runs in it
    owner: str | None = None  # the request charged with its cost, "ablation/variant"

    def serve(self, epochs: int):
        """The run as if trained for EPOCHS (a RunResult), or None where its model after that epoch was not kept."""
        full = self.result
        if full.diverged_epoch is not None and full.diverged_epoch <= epochs or epochs == self.cfg.epochs:
            return full
        if epochs > self.cfg.epochs or epochs not in full.snapshots:
            return None
        history = {key: values[:epochs] for key, values in full.history.items()}
        return type(full)(full.seed, history, None, history["wall_s"][-1], full.snapshots[epochs])


Due = list[tuple[list[PlannedRun], list[Request]]]  # stacks to train: their runs, and a request naming each


class Schedule:
    """The expected requests' distinct runs (``planner.distinct_runs``) packed once into stacks."""

    def __init__(self, expected: Sequence[Request], *, max_stack: int, train_size: int):
        self.expected = list(expected)
        self.expected_set = set(self.expected)
        self.max_stack, self.train_size = max_stack, train_size
        self.runs = distinct_runs(self.expected)
        self.stacks = pack(self.runs.values(), max_stack=max_stack, train_size=train_size)

    def due(self, missing: Sequence[Request], trained: Callable[[PlannedRun], bool], *, across: bool = True) -> Due:
        """The stacks to train for MISSING (requests the cache cannot serve), in training order.

        ``across``: the scheduled stacks that hold a missing run (in the schedule's order), each
        without the runs TRAINED says are done; else only the missing runs, packed among
        themselves (one ablation's stacks). Then the requests outside the expectation.
        """
        first_ask: dict[tuple, Request] = {}
        for request in missing:
            first_ask.setdefault(run_key(request.cfg, request.seed), request)
        wanted = [key for key, request in first_ask.items() if request in self.expected_set]
        if across:
            chosen = [[run for run in stack if not trained(run)] for stack in self.stacks]
            chosen = [stack for stack in chosen if any(run.key in wanted for run in stack)]
        else:
            chosen = pack([self.runs[key] for key in wanted], max_stack=self.max_stack, train_size=self.train_size)
        keys = {run.key for stack in chosen for run in stack}
        others = [r for r in missing if r not in self.expected_set]
        # An unexpected request that shares a run with one trained now joins it (a snapshot, or a
        # longer run); the others train at their own length.
        sharing = [r for r in others if run_key(r.cfg, r.seed) in keys]
        planned = distinct_runs(self.expected + sharing) if sharing else self.runs
        due = [
            ([planned[run.key] for run in stack], [first_ask.get(run.key, run.requests[0]) for run in stack])
            for stack in chosen
        ]
        unplanned = distinct_runs(r for r in others if run_key(r.cfg, r.seed) not in keys)
        for stack in pack(unplanned.values(), max_stack=self.max_stack, train_size=self.train_size):
            due.append((stack, [first_ask[run.key] for run in stack]))
        return due
