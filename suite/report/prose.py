"""The words a report shows for an ablation: today's spec where it still describes the stored claim.

    from suite.report.prose import current_prose
    entry = current_prose("batch_norm", "book", entry)     # a copy; the results file is not touched

A results file stores the question, the book note and each claim's ``why`` as they were written when it ran.
Those texts explain; they do not measure, and older ones quoted numbers of other runs (see
tests/test_prose.py). So a report shows today's text of the spec for the run's profile wherever
the stored claim is the one the spec judges today (same statistic, bounds and kind), and the
stored text where the claim has changed since, so that no explanation is put beside a claim it
was not written for. No torch.
"""

from __future__ import annotations

from suite.spec.chapter3 import ABLATIONS

DEFINITION = ("text", "metric", "variant", "baseline", "epoch", "relative", "at_least", "at_most", "asserted")


def current_prose(name: str, profile: str, entry: dict) -> dict:
    spec = ABLATIONS.get(name)
    if spec is None:
        return entry
    today = {c.text: c.as_dict() for c in spec.claims_for(profile)}
    claims = []
    for claim in entry.get("claims") or []:
        now = today.get(claim.get("text"))
        same = now is not None and all(claim.get(key) == now[key] for key in DEFINITION)
        claims.append({**claim, "why": now["why"]} if now is not None and same else claim)
    return {**entry, "question": spec.question, "book_note": spec.book_note_for(profile), "claims": claims}
