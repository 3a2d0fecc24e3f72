"""The ablations of chapter 3 as pytest cases: one test per (ablation, variant), one per ablation.

    pytest suite/cases                      # everything, ci profile
    pytest suite/cases -k batch_norm        # one ablation: its variants and its claims
    pytest suite/cases --collect-only -q    # the ids

``test_variant`` trains one variant over all seeds (timed by pytest-benchmark) and checks that
the run is complete. ``test_claims`` judges the ablation's claims over the seeds; it trains any
variant not yet trained in this run, so ``-k test_claims`` alone works too. Specs, claims and
their calibration live in ``suite.spec.chapter3``.
"""

import pytest

from suite.spec.chapter3 import ABLATIONS_LIST


def marks(name: str) -> list:
    # xdist_group keeps an ablation's variants and claims in one pytest-xdist worker.
    return [pytest.mark.ablation(name), pytest.mark.xdist_group(name)]


VARIANTS = [
    pytest.param(a.name, v.name, id=f"{a.name}-{v.name}", marks=marks(a.name))
    for a in ABLATIONS_LIST
    for v in a.variants
]
CLAIMS = [pytest.param(a.name, id=a.name, marks=marks(a.name)) for a in ABLATIONS_LIST]


@pytest.mark.parametrize(("ablation", "variant"), VARIANTS)
def test_variant(ablation, variant, train_variant, ablation_session):
    record = train_variant(ablation, variant)
    assert [run["seed"] for run in record["runs"]] == ablation_session.seeds
    epochs = record["config"]["epochs"]
    for run in record["runs"]:
        recorded = len(run["history"]["val_acc"])
        # Complete: every epoch recorded, or the run stopped at its recorded divergence.
        assert recorded == epochs or run["diverged_epoch"] == recorded, (
            f"seed {run['seed']}: {recorded} of {epochs} epochs recorded, diverged_epoch={run['diverged_epoch']}"
        )
        assert all(0.0 <= acc <= 1.0 for acc in run["history"]["val_acc"] + run["history"]["train_acc"])


@pytest.mark.parametrize("ablation", CLAIMS)
def test_claims(ablation, judge_ablation):
    verdicts = judge_ablation(ablation)
    failed = [v.message() for v in verdicts if v.outcome == "FAIL"]
    assert not failed, "\n".join(failed)
