"""The batch-norm section's account: this run's numbers, the text of this run's profile."""

import re
from statistics import fmean

from suite.report import fmt
from suite.report.batch_norm import story
from suite.report.sections import ablation_sections
from suite.store.results import load_results
from tests.helpers import SAMPLE


def batch_norm_section(results):
    return next(s for s in ablation_sections(results) if s["name"] == "batch_norm")


def test_the_account_quotes_this_runs_numbers_and_says_what_its_records_cannot_show():
    results = load_results(SAMPLE)
    told = {p["head"]: p["text"] for p in story(batch_norm_section(results), "ci")["paragraphs"]}
    runs = results["ablations"]["batch_norm"]["variants"]
    final = lambda variant, key: fmean(r["history"][key][-1] for r in runs[variant]["runs"])  # noqa: E731
    assert fmt.percent(final("bn", "val_acc")) in told["What correct batch norm does here."]
    assert fmt.number(final("bn", "train_eval_loss"), 3) in told["What correct batch norm does here."]
    assert fmt.percent(final("bn_book_slip", "val_acc")) in told["What the book's figure shows."]
    assert "do not prove it" in told["What this run's records show."]
    assert not re.search(r"\beps\b", " ".join(told.values()))  # a reader need not know what eps is


def test_the_profiles_paragraph_is_chosen_by_the_profile():
    section = batch_norm_section(load_results(SAMPLE))
    ci = {p["head"]: p["text"] for p in story(section, "ci")["paragraphs"]}["The two profiles."]
    book = {p["head"]: p["text"] for p in story(section, "book")["paragraphs"]}["The two profiles."]
    assert ci.startswith("This is the ci profile") and "docs/runs/book-cuda-h100-2026-11-27.tgz" in ci
    assert book.startswith("This is the book profile") and "docs/calibration/ci-cuda-base0-27.tgz" in book


def test_other_sections_tell_no_story():
    assert all(story(s, "ci") is None for s in ablation_sections(load_results(SAMPLE)) if s["name"] != "batch_norm")
