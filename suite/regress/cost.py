"""Training cost that means something: µs per run and optimizer step, against several nights.

    from suite.regress.cost import per_variant, compare_costs
    per_variant(results)           # {(ablation, variant): [µs per run-step of each trained run]}
    rows, notes = compare_costs(current, earlier, floor=0.25)

What a variant's wall time measures depends on what else the run selected: a variant whose runs
were served from another variant's training costs nothing, and a stack's time is shared by its
runs. The workbench records each run's stack (``suite.store.run_records.StackRecord``): its
``share_s`` is the run's share of the stack's seconds, so share_s / (epochs × steps per epoch)
is what one optimizer step of one run cost, for runs that trained (``served == "trained"``).
A variant's cost is the median over its trained runs; a variant with none is not timed.

The baseline is robust and windowed: the median of the variant's cost over the last WINDOW
stored nights on the same machine (``suite.regress.environment.speed_machine``) that were not
loaded, and the allowed slow-down the larger of the floor (a share of that median) and
MAD_K × 1.4826 × MAD (the MAD scaled to a standard deviation for normal noise). Why not change-point
detection (e-divisive means, Apache Otava's): it finds where a long series shifted after the fact,
and needs several points after the shift to see one; the nightly must decide about tonight alone.
Otava's series view of the stored history is the right tool for the trend. A run whose threads
waited for a CPU (another job held it) is not compared at all: "not compared: machine loaded".
"""

from __future__ import annotations

import math
from statistics import median

from suite.regress.kinds import NoteKind, RowKind
from suite.spec.metrics import METRICS

STEP = METRICS["step_us"]
WINDOW = 7  # stored nights in the baseline: a week of a nightly
MAD_K = 4.0  # robust z beyond which a slow-down is not noise
MAD_TO_SD = 1.4826
FULL_TRAIN = 60_000  # FashionMNIST's training split: the size of a profile that takes all of it


def per_variant(data: dict) -> dict[tuple[str, str], list[float]]:
    """µs per run-step of each trained run, per (ablation, variant), from a results file's stack
    records; a variant without any stack record (a file written before them) is absent."""
    size = (data.get("profile") or {}).get("train_size") or FULL_TRAIN
    costs = {}
    for name, entry in data["ablations"].items():
        for variant, record in entry["variants"].items():
            stacks = [(run, run.get("stack")) for run in record["runs"]]
            if not stacks or any(stack is None for _, stack in stacks):
                continue
            batch = min((record.get("config") or {}).get("batch_size") or size, size)
            steps = math.ceil(size / batch)
            costs[name, variant] = [
                1e6 * stack["share_s"] / (steps * (run.get("diverged_epoch") or stack["trained_epochs"]))
                for run, stack in stacks
                if stack.get("served") == "trained" and stack.get("share_s") and stack.get("trained_epochs")
            ]
    return costs


def _cost(values: list[float] | None) -> float | None:
    return median(values) if values else None


def compare_costs(current, earlier: list, floor: float) -> tuple[list[dict], list[dict]]:
    """Time rows of CURRENT against EARLIER runs (oldest first) on its machine, and the notes saying
    what was not compared and why. FLOOR: the smallest slow-down called one, a share."""
    if current.loaded:
        return [], [_note(f"time not compared: machine loaded ({current.loaded})", reason="loaded")]
    window = [r for r in earlier if r.machine == current.machine and not r.loaded][-WINDOW:]
    if not window:
        return [], [_note("time not compared: no earlier run of this profile on this machine", reason="no_baseline")]
    rows, served = [], 0
    for key, values in current.costs.items():
        now = _cost(values)
        if now is None:
            served += 1  # its runs were served from another variant's training: they cost nothing here
            continue
        history = [c for c in (_cost(r.costs.get(key)) for r in window) if c is not None]
        if not history:
            continue
        centre = median(history)
        mad = median(abs(c - centre) for c in history)
        allowed = max(floor * centre, MAD_K * MAD_TO_SD * mad) if centre > 0 else math.inf
        change = now - centre
        status = "REGRESSED" if change > allowed else "IMPROVED" if -change > allowed else "OK"
        rows.append(
            dict(
                kind=RowKind.TIME,
                ablation=key[0],
                variant=key[1],
                metric=STEP.name,
                baseline=centre,
                current=now,
                delta=change,
                relative_delta=change / centre if centre > 0 else None,
                tolerance=allowed / centre if centre > 0 else None,
                status=status,
                nights=len(history),
                mad=mad,
            )
        )
    notes = [_note(f"time not compared for {served} variants served from another's training", reason="served")]
    return rows, notes if served else []


def _note(text: str, **subject) -> dict:
    return {"kind": NoteKind.TIME_NOT_COMPARED, **subject, "text": text}
