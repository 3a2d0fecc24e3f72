"""The verdicts the report shows, and the badge an ablation's section wears, derived from them.

    from suite.report.verdicts import shown_verdict, section_badge
    row.update(shown_verdict(claim, verdict))        # outcome, stored_outcome, support
    section_badge("passed", "pass", claim_rows)      # {"badge": "0 of 4 reproduced", "badge_class": ...}

A reported claim's verdict is re-judged here from its stored per-seed values with today's rule
(``suite.spec.claims.reported_outcome``): results files written before INCONCLUSIVE existed
stored REPRODUCED for a mean that merely fell on the right side of the bound, and a reader of a
re-rendered report must not see a verdict the seeds do not support. The per-seed values and the
claim's bound are what was measured; the outcome is only a reading of them, so reading them
again changes no measurement. The stored outcome is kept beside it, and the report says where
the two differ. Asserted claims are shown as stored: their rule (the mean against a calibrated
bound) has not changed. The stored ``status`` of an ablation is left alone (the nightly relies
on it); only the badge shown is derived from the verdicts. No torch.
"""

from __future__ import annotations

import math

from suite.report import fmt
from suite.spec.claims import INCONCLUSIVE, LEVEL, NOT_REPRODUCED, REPRODUCED, mean_bounds, reported_outcome

JUDGED = ("PASS", "FAIL", "REPRODUCED", "NOT REPRODUCED", "INCONCLUSIVE")


def shown_verdict(claim: dict, verdict: dict) -> dict:
    """The outcome the report shows for VERDICT of CLAIM (both as a results file stores them)."""
    stored = verdict["outcome"]
    if verdict.get("asserted", claim.get("asserted", True)):
        return {"outcome": stored, "stored_outcome": None, "support": ""}
    values = verdict["per_seed"]
    outcome, why = reported_outcome(values, claim.get("at_least"), claim.get("at_most"))
    bounds = mean_bounds(values) if len(values) > 1 and all(map(math.isfinite, values)) else None
    if bounds is not None:  # in the claim's unit, as its mean and bound are written
        low, high = fmt.claim_value(bounds[0], claim, unit=False), fmt.claim_value(bounds[1], claim)
        why = (
            f"The one-sided {1 - LEVEL:.0%} bounds on the mean, {low} to {high}, "
            + {
                REPRODUCED: "lie on the claim's side of the bound",
                NOT_REPRODUCED: "lie beyond the bound, on the other side",
                INCONCLUSIVE: "straddle the bound: the seeds support neither side",
            }[outcome]
        )
    else:
        why = why[0].upper() + why[1:]
    return {"outcome": outcome, "stored_outcome": stored if stored != outcome else None, "support": why + "."}


def section_badge(status: str, status_class: str, claims: list[dict]) -> dict:
    """The badge of a section: its status unless its claims were judged, then what they show.

    "passed" only when every claim holds; otherwise the asserted claims' state ("asserted ok", or
    how many failed) and how many reported claims were reproduced, e.g. "0 of 4 reproduced".
    """
    judged = [c for c in claims if c["outcome"] in JUDGED]
    if status not in ("passed", "failed") or not judged:
        return {"badge": status, "badge_class": status_class}
    asserted = [c for c in judged if c["asserted"]]
    reported = [c for c in judged if not c["asserted"]]
    failed = sum(c["outcome"] == "FAIL" for c in asserted)
    reproduced = sum(c["outcome"] == REPRODUCED for c in reported)
    if not failed and reproduced == len(reported):
        return {"badge": "passed", "badge_class": "pass"}
    parts = []
    if failed:
        parts.append(f"failed: {failed} of {len(asserted)} asserted")
    elif asserted:
        parts.append("asserted ok")
    if reported:
        parts.append(f"{reproduced} of {len(reported)} reproduced")
    return {"badge": " · ".join(parts), "badge_class": "fail" if failed else "partial"}
