"""The verdicts a report shows: reported claims re-judged by today's rule, badges derived from them."""

import pytest

from suite.report.content import reading
from suite.report.sections import ablation_sections
from suite.report.verdicts import section_badge, shown_verdict
from suite.store.results import load_results
from tests.helpers import SAMPLE

KEEPS_LEAD = "Batch norm keeps its lead to the last epoch"


def claim_row(outcome, asserted):
    return {"outcome": outcome, "asserted": asserted}


@pytest.mark.parametrize(
    ("outcomes", "badge", "cls"),
    [
        ([("PASS", True), ("REPRODUCED", False)], "passed", "pass"),
        ([("PASS", True)], "passed", "pass"),
        # the case: every claim of the book-profile batch norm NOT REPRODUCED, stored "passed"
        ([("NOT REPRODUCED", False)] * 4, "0 of 4 reproduced", "partial"),
        ([("PASS", True), ("INCONCLUSIVE", False)], "asserted ok · 0 of 1 reproduced", "partial"),
        (
            [("FAIL", True), ("PASS", True), ("REPRODUCED", False)],
            "failed: 1 of 2 asserted · 1 of 1 reproduced",
            "fail",
        ),
    ],
)
def test_a_section_badge_sums_its_claims_up(outcomes, badge, cls):
    status = "failed" if any(o == "FAIL" for o, _ in outcomes) else "passed"
    shown = section_badge(status, "pass", [claim_row(*o) for o in outcomes])
    assert shown == {"badge": badge, "badge_class": cls}


def test_an_unjudged_section_keeps_its_status_badge():
    assert section_badge("interrupted", "interrupted", [claim_row("interrupted", True)])["badge"] == "interrupted"


def test_a_stored_reproduced_on_noise_is_shown_inconclusive_and_says_so():
    """The ci-sample was written before INCONCLUSIVE: its 'keeps its lead' is stored REPRODUCED at
    +1.2 ± 11.0 pp with seeds at -6.6 and +9.0. The report re-judges it and names the stored outcome;
    its section, stored "passed", shows what its claims show."""
    results = load_results(SAMPLE)
    stored = {v["claim"]: v for v in results["ablations"]["batch_norm"]["verdicts"]}
    assert stored[KEEPS_LEAD]["outcome"] == "REPRODUCED"  # the file keeps what it stored
    sections = {s["name"]: s for s in ablation_sections(results)}
    claims = {c["text"]: c for c in sections["batch_norm"]["claims"]}
    assert claims[KEEPS_LEAD]["outcome"] == "INCONCLUSIVE" and claims[KEEPS_LEAD]["stored_outcome"] == "REPRODUCED"
    assert "straddle the bound" in claims[KEEPS_LEAD]["support"]
    assert sections["batch_norm"]["status"] == "passed" and sections["batch_norm"]["badge"] != "passed"
    assert "re-judged here from the stored per-seed values" in reading(list(sections.values()), "complete")
    asserted = [c for c in claims.values() if c["asserted"]]
    assert all(c["stored_outcome"] is None and c["support"] == "" for c in asserted)  # shown as stored


def test_a_verdict_that_agrees_with_the_rule_names_no_stored_outcome():
    claim = {"metric": "val_acc", "baseline": "a", "at_least": 0.0, "asserted": False}
    verdict = {"outcome": "REPRODUCED", "per_seed": [0.05, 0.06, 0.07], "asserted": False}
    shown = shown_verdict(claim, verdict)
    assert shown["outcome"] == "REPRODUCED" and shown["stored_outcome"] is None
    # mean 6 pp, sd 1 pp, t(0.95, 2 df) = 2.920: 6 ± 2.920 / sqrt(3), in the claim's unit
    assert shown["support"] == (
        "The one-sided 95% bounds on the mean, +4.3 to +7.7\xa0pp, lie on the claim's side of the bound."
    )
    one = shown_verdict(claim, {**verdict, "per_seed": [0.05]})
    assert one["outcome"] == "INCONCLUSIVE"
    assert one["support"] == "One seed gives no estimate of the seed-to-seed spread."
