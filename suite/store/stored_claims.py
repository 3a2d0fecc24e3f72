"""The claims an ablation entry stores, checked as they load: what the report re-judges them by.

    from suite.store.stored_claims import check_claim
    check_claim(data, variants, "ablations.scaling.claims[0]")    # Bad naming the place

A results file stores each claim as judged (``Claim.as_dict()``), and the report judges an entry
that was stopped before its verdicts with exactly these (``suite.report.content.judge_unjudged``).
So a stored claim takes the keys of a Claim and no other, its metric is one a run has, and the
epoch it reads is one its variants were trained for: an epoch of -1 would read the history's
second-to-last row, without a word. No torch.
"""

from __future__ import annotations

import dataclasses

from suite.spec.claims import Claim
from suite.spec.metrics import METRICS, metric_value
from suite.store.run_records import VariantRecord
from suite.store.validation import Bad, expect, number, optional, whole

# Claim's fields as a results file stores them; its per-profile overrides are resolved before.
FIELDS = tuple(f.name for f in dataclasses.fields(Claim) if f.name != "profiles")
REQUIRED = ("text", "metric", "variant")
TEXTS = ("text", "metric", "variant", "why")
FLAGS = ("relative", "asserted")


def check_claim(data, variants: dict[str, VariantRecord], place: str) -> None:
    """DATA is a claim this version judges as written, on what VARIANTS recorded."""
    expect(data, dict, place, "a claim object")
    unknown = [key for key in data if key not in FIELDS]
    if unknown:  # a bound or option this version does not know: judging without it is another claim
        raise Bad(place, f"unknown key {unknown[0]!r}")
    for key in REQUIRED:
        if key not in data:
            raise Bad(place, f"missing {key!r}")
    for key in TEXTS:
        if key in data:
            expect(data[key], str, f"{place}.{key}", "text")
    optional(data.get("baseline"), str, f"{place}.baseline", "a variant name")
    for key in FLAGS:
        if key in data:
            expect(data[key], bool, f"{place}.{key}", "true or false")
    for key in ("at_least", "at_most"):
        if data.get(key) is not None:
            number(data[key], f"{place}.{key}")
    metric = METRICS.get(data["metric"])
    if metric is None or not metric.of_runs:
        raise Bad(
            f"{place}.metric", f"unknown metric {data['metric']!r} (one a run records: {', '.join(_RUN_METRICS)})"
        )
    involved = [variants[v] for v in (data["variant"], data.get("baseline")) if v in variants]
    epoch = data.get("epoch")
    if epoch is not None:
        whole(epoch, f"{place}.epoch", low=1, high=_trained_epochs(involved), what="an epoch")
    for record in involved:  # the metric is there to read in every run it judges
        for run in record.runs:
            try:
                metric_value(run.to_json(), metric.name, epoch)
            except (KeyError, TypeError, ValueError, IndexError) as exc:
                raise Bad(
                    place,
                    f"cannot read {metric.name} from {record.variant or 'a variant'}'s run of seed "
                    f"{run.seed}: {type(exc).__name__}: {exc}",
                ) from None


_RUN_METRICS = [name for name, m in METRICS.items() if m.of_runs]


def _trained_epochs(records: list[VariantRecord]) -> int | None:
    """The fewest epochs any of RECORDS was configured for (or recorded, without a configuration)."""
    lengths = []
    for record in records:
        configured = (record.config or {}).get("epochs")
        if isinstance(configured, int):
            lengths.append(configured)
        elif record.runs:
            lengths.append(max(len(run.history["val_acc"]) for run in record.runs))
    return min(lengths) if lengths else None
