"""The book's values in the rendered report: a synthetic ``book``-profile run, compared with the book.

    pytest tests/test_report_book.py -q

No real book-profile run is checked in, so the run is made from the ci sample: three ablations,
their histories stretched to the book's epochs, and at every book value the two seeds placed just
below and just above it, except one planted miss. The ci sample's own rendering (marked not
comparable) is checked in test_report.py. One render here (~40 s on a shared 2-core CPU).
"""

from __future__ import annotations

import json
import shutil

import pytest

from suite.spec.book_values import BOOK_VALUES
from suite.spec.chapter3 import ABLATIONS
from suite.spec.profiles import PROFILES
from tests.helpers import SAMPLE, body, pdf_text, render_cli, squash

pytestmark = pytest.mark.subprocess  # the reports render through the command line

KEPT = ("optimizer", "batch_norm", "dropout")  # plain, eval-mode slip, dropout active: every kind of line
MISS = ("optimizer", "sgd", "val_acc", 10)  # planted: both seeds 5 points below the book's value
SPREAD = 0.001  # seeds at book − SPREAD and book + SPREAD


def book_profile_run(dest):
    shutil.copytree(SAMPLE, dest)
    raw = json.loads((dest / "results.json").read_text())
    raw["run_id"] = "book-synthetic"
    raw["profile"] = {"name": "book", "train_size": None, "val_size": None, "description": PROFILES["book"].description}
    raw["ablations"] = {name: raw["ablations"][name] for name in KEPT}
    for name, entry in raw["ablations"].items():
        for variant, record in entry["variants"].items():
            epochs = ABLATIONS[name].overrides(variant, PROFILES["book"])["epochs"]
            record["config"]["epochs"] = epochs
            for seed, run in enumerate(record["runs"]):
                history = run["history"]
                for key, values in history.items():
                    history[key] = values + [values[-1]] * (epochs - len(values))
                for book in BOOK_VALUES:
                    if (book.ablation, book.variant) == (name, variant):
                        shift = -0.05 if (name, variant, book.metric, book.epoch) == MISS else 0.0
                        history[book.metric][book.epoch - 1] = book.value + shift + SPREAD * (2 * seed - 1)
    (dest / "results.json").write_text(json.dumps(raw))
    return dest


@pytest.fixture(scope="module")
def book_report(tmp_path_factory) -> str:
    run = book_profile_run(tmp_path_factory.mktemp("book") / "run")
    proc = render_cli(run, run)
    assert proc.returncode == 0, proc.stderr
    return body(pdf_text(run / "report.pdf"))


def compared(ablations=KEPT) -> int:
    return len([b for b in BOOK_VALUES if b.ablation in ablations and b.compared])


def test_summary_counts_the_reproduced_values_and_names_the_miss(book_report):
    # the summary's table: a row with the count, then one row per value outside the seed spread
    line = squash(f"Book values {compared() - 1} of {compared()} reproduced within the seed spread")
    miss = squash("Outside the spread Optimizer / SGD: val. acc. at epoch 10, 4.9 pp above the seeds")
    assert line in book_report and miss in book_report
    assert book_report.find(line) < book_report.find(miss)
    assert book_report.find(miss) < book_report.find(squash("2 The ablations, in the book's order"))


def test_each_section_has_a_book_table_with_the_outlier_first(book_report):
    """One table per section (issue 20): the value outside the seeds opens it, before those within."""
    start = book_report.find(squash("SGD and Adam at the same learning rate"))  # the section, not the summary
    optimizer = book_report[start : book_report.find(squash("Adam with learning rates 0.1"), start)]
    head = squash(f"{compared(('optimizer',)) - 1} of {compared(('optimizer',))} book values lie within")
    first = squash("Variant Value Book This run (seeds) Result SGD val. acc. at epoch 10 85.3 % (± 0.3 pp)")
    assert head in optimizer and first in optimizer
    assert squash("4.9 pp above the seeds") in optimizer
    assert optimizer.find(squash("4.9 pp above the seeds")) < optimizer.find("within", optimizer.find(first))
    for section, count in (("batch_norm", compared(("batch_norm",))), ("dropout", compared(("dropout",)))):
        assert squash(f"{count} of {count} book values lie within") in book_report, section


def test_values_measured_differently_are_shown_and_say_why(book_report):
    assert squash("Not compared: 3 values measured differently by the book (dropout 0.25: val. acc. at epoch 1") in (
        book_report
    )
    assert squash("the book measured this accuracy with dropout active") in book_report
    assert (
        squash(
            "Why this comparison: batch norm, book's eval-mode slip: The book's figure is titled “with batch "
            "normalization”, but its model trained in eval mode from epoch 2 on (the eval-mode slip), and its "
            "epoch-1 accuracies were measured in train mode"
        )
        in book_report
    )


def test_the_book_column_shows_the_book_epoch(book_report):
    assert squash("val. 85.3 % train 87.0 % loss 0.426 epoch 10") in book_report  # SGD's book cell
    assert squash("book values lie within this run's range over seeds (minimum to maximum) at the book's epoch") in (
        book_report
    )
    assert squash("widened by the tolerance: the reading precision of each book value, at most 2 pp") in book_report
