"""How big a run is and how long it should take on this device, for the lines a person reads.

    from suite.engine.pace import RunPlan, StepCost, plan_of
    plan = RunPlan.of(requests, train_size=6000, val_size=2000)   # runs, run-epochs, run-steps
    cost = StepCost.measure(train_split, val_split, cfg)           # a few timed steps, two batch sizes
    cost.seconds(plan)                                             # the estimate, in seconds
    plan, cost = plan_of(workbench)                                # both, for what a Workbench expects

A training epoch costs about ``steps * per_step + images * per_image`` (a step's fixed overhead,
then the arithmetic on each image); the two are measured on the device with a handful of real
steps at a small and a large batch. Rough by design: a model with other widths, a stack, or a
busy machine costs otherwise. While the run trains, the progress line weighs the epochs done
against those left with the same model, so its time left follows the pace measured since.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace

from suite.engine.planner import PlannedRun, Request, distinct_runs

SMALL_BATCH, LARGE_BATCH = 32, 1024
SMALL_STEPS, LARGE_STEPS = 16, 3  # a fraction of a second on a 2-core CPU
REPEATS = 3
VALIDATION_SHARE = 1 / 3  # a validation image costs a forward pass: about a third of a training one


@dataclass(frozen=True)
class RunPlan:
    """The runs a session will train: each distinct run once (the planner), at its longest length."""

    runs: list[PlannedRun]
    asked_epochs: int  # what the requests ask for, before identical runs and prefixes are served
    train_size: int
    val_size: int

    @classmethod
    def of(cls, requests: Iterable[Request], *, train_size: int, val_size: int) -> RunPlan:
        requests = list(requests)
        runs = list(distinct_runs(requests).values())
        return cls(runs, sum(r.cfg.epochs for r in requests), train_size, val_size)

    @property
    def run_epochs(self) -> int:
        return sum(run.cfg.epochs for run in self.runs)

    def steps_per_epoch(self, run: PlannedRun) -> int:
        return math.ceil(self.train_size / min(run.cfg.batch_size, self.train_size))

    @property
    def run_steps(self) -> int:
        return sum(run.cfg.epochs * self.steps_per_epoch(run) for run in self.runs)

    def summary(self) -> str:
        served = self.asked_epochs - self.run_epochs
        saved = f" (of {self.asked_epochs:,} asked for: {served:,} served from identical runs)" if served else ""
        return f"{len(self.runs):,} runs, {self.run_epochs:,} run-epochs{saved}, {self.run_steps:,} steps"


@dataclass(frozen=True)
class StepCost:
    """Seconds of one training step's fixed overhead, and of each image it trains on."""

    per_step: float
    per_image: float
    how: str  # what was measured, for the reader of the estimate

    @classmethod
    def measure(cls, train, val, cfg) -> StepCost:
        """A few real steps of CFG's model on TRAIN at a small and at a large batch, timed."""
        from suite.engine.data import Split
        from suite.engine.trainer import train_stack

        def timed(batch: int, steps: int) -> float:
            n = min(batch * steps, len(train))
            part = Split(train.pixels[:n], train.labels[:n])
            tiny_val = Split(val.pixels[:1], val.labels[:1])  # validation is costed from the training pace
            one = replace(cfg, batch_size=batch, epochs=1, plateau_factor=0.0)
            start = time.perf_counter()
            train_stack([(one, 0)], train=part, val=tiny_val)
            return time.perf_counter() - start

        timed(SMALL_BATCH, 2)  # the first call of each shape pays for allocations and kernel selection
        timed(LARGE_BATCH, 1)
        # The best of a few: a timing is only ever slowed down (by other processes, a page fault).
        small = min(timed(SMALL_BATCH, SMALL_STEPS) for _ in range(REPEATS))
        large = min(timed(LARGE_BATCH, LARGE_STEPS) for _ in range(REPEATS))
        # small = SMALL_STEPS*s + SMALL_STEPS*SMALL_BATCH*i, large = LARGE_STEPS*s + LARGE_STEPS*LARGE_BATCH*i
        per_image = (large / LARGE_STEPS - small / SMALL_STEPS) / (LARGE_BATCH - SMALL_BATCH)
        per_image = max(per_image, 0.0)
        per_step = max(small / SMALL_STEPS - SMALL_BATCH * per_image, 0.0)
        how = (
            f"estimated from the best of {REPEATS} timings of {SMALL_STEPS} steps at batch {SMALL_BATCH} "
            f"and of {LARGE_STEPS} at batch {LARGE_BATCH}"
        )
        return cls(per_step, per_image, how)

    def epoch_seconds(self, plan: RunPlan, run: PlannedRun) -> float:
        images = plan.train_size + plan.val_size * VALIDATION_SHARE
        return plan.steps_per_epoch(run) * self.per_step + images * self.per_image

    def seconds(self, plan: RunPlan) -> float:
        return sum(run.cfg.epochs * self.epoch_seconds(plan, run) for run in plan.runs)


def plan_of(bench) -> tuple[RunPlan, StepCost | None]:
    """The plan of what the Workbench BENCH expects (after ``expect``), and its measured step cost."""
    train, val = bench.splits
    plan = RunPlan.of(bench.expected or [], train_size=len(train), val_size=len(val))
    return plan, StepCost.measure(train, val, plan.runs[0].cfg) if plan.runs else None
