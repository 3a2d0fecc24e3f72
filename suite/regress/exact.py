"""Every stored per-seed value of a run, for the comparison in one environment: nothing may move.

    from suite.regress.exact import values, moved
    before, now = values(old_results["ablations"]), values(new_results["ablations"])
    moved(before, now)      # [Moved(...)] in the file's order: the first is what changed first

In one environment (``suite.regress.environment``) the suite repeats every number bitwise, so the
comparison is equality, not a tolerance: each curve at each epoch (the learning rate applied
included), the final weights' size, the divergence epoch, and each claim's per-seed statistic
and outcome. Wall times are not values (``wall_s``). No torch.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from suite.spec.claims import stored_outcome_read_today

NOT_VALUES = ("wall_s",)  # curves that measure the machine, not the training


class Moved(NamedTuple):
    ablation: str
    subject: str  # a variant's name, or "claim: <text>"
    seed: int | None
    what: str  # "val_acc at epoch 3", "weight_abs_mean", "outcome"
    baseline: object
    current: object

    def text(self) -> str:
        seed = f" seed {self.seed}" if self.seed is not None else ""
        return f"{self.ablation}/{self.subject}{seed} {self.what}: {self.baseline!r} → {self.current!r}"


def values(ablations: dict) -> dict[tuple, object]:
    """(ablation, subject, seed, what) -> value, for every per-seed value of a results file's ablations."""
    found: dict[tuple, object] = {}
    for name, entry in ablations.items():
        for variant, record in entry["variants"].items():
            for run in record["runs"]:
                seed = run["seed"]
                for curve, series in run["history"].items():
                    if curve not in NOT_VALUES:
                        for epoch, value in enumerate(series, 1):
                            found[name, variant, seed, f"{curve} at epoch {epoch}"] = value
                for key in ("weight_abs_mean", "diverged_epoch"):
                    found[name, variant, seed, key] = run.get(key)
        claims = {claim["text"]: claim for claim in entry.get("claims", [])}
        for verdict in entry["verdicts"]:
            subject = f"claim: {verdict['claim']}"
            for seed, value in zip(verdict["seeds"], verdict["per_seed"]):
                found[name, subject, seed, "statistic"] = value
            found[name, subject, None, "outcome"] = stored_outcome_read_today(verdict, claims.get(verdict["claim"]))
    return found


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True  # a run that diverged the same way
    return type(a) is type(b) and a == b or (isinstance(a, (int, float)) and isinstance(b, (int, float)) and a == b)


def moved(before: dict, now: dict) -> list[Moved]:
    """The values that differ, in NOW's order, then those only BEFORE has, for each variant and
    claim both runs have (one only the baseline has is a MISSING row, not a moved value). Within
    them a value only one run has counts as moved: an epoch fewer, a curve more."""
    both = {key[:2] for key in before} & {key[:2] for key in now}
    out = []
    for key in [*now, *(k for k in before if k not in now)]:
        if key[:2] not in both:
            continue
        old, new = before.get(key), now.get(key)
        if not _same(old, new):
            ablation, subject, seed, what = key
            out.append(Moved(ablation, subject, seed, what, old, new))
    return out
