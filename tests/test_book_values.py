"""The book's reference values (suite.spec.book_values) and how a run is compared with them (suite.report.book).

Pure data and pure functions: no torch, no rendering. The report's rendering of the comparison is
checked in test_report.py.
"""

from __future__ import annotations

import math

import pytest

from suite.report.book import book_sections, compare, summary
from suite.spec.book_values import BOOK_METRICS, BOOK_VALUES, BookValue
from suite.spec.chapter3 import ABLATIONS
from suite.spec.metrics import FRACTION, METRICS
from suite.spec.profiles import PROFILES

NOTEBOOKS = {
    "Steps_to_build_a_neural_network_on_FashionMNIST.ipynb",
    "Scaling_the_dataset.ipynb",
    "Varying_batch_size.ipynb",
    "Varying_loss_optimizer.ipynb",
    "Varying_learning_rate_on_scaled_data.ipynb",
    "Varying_learning_rate_on_non_scaled_data.ipynb",
    "Learning_rate_annealing.ipynb",
    "Impact_of_building_a_deeper_neural_network.ipynb",
    "Batch_normalization.ipynb",
    "Impact_of_dropout.ipynb",
    "Impact_of_regularization.ipynb",
}  # the files of Chapter03 that plot a training run


def book_epochs(value: BookValue) -> int:
    return ABLATIONS[value.ablation].overrides(value.variant, PROFILES["book"])["epochs"]


@pytest.mark.parametrize("value", BOOK_VALUES, ids=lambda v: f"{v.ablation}-{v.variant}-{v.metric}-{v.epoch}")
def test_every_value_names_an_existing_ablation_variant_metric_and_epoch(value):
    ablation = ABLATIONS[value.ablation]
    ablation.variant(value.variant)  # raises KeyError for a variant the spec lacks
    assert value.metric in BOOK_METRICS
    assert 1 <= value.epoch <= book_epochs(value), "the book profile must reach the book's epoch"


@pytest.mark.parametrize("value", BOOK_VALUES, ids=lambda v: f"{v.ablation}-{v.variant}-{v.metric}-{v.epoch}")
def test_every_value_is_in_range_and_traceable(value):
    if METRICS[value.metric].unit is FRACTION:
        assert 0.05 <= value.value <= 1 and 0 < value.precision <= 0.02, "a fraction, read to within 2 points"
    elif value.metric == "lr":
        assert value.how_read == "printed" and value.precision == 0
    else:
        assert 0 < value.value < 10 and value.precision > 0
    assert value.notebook in NOTEBOOKS
    assert value.figure and value.how_read in ("curve", "printed")
    assert value.compared or value.note, "a value shown but not compared says why"


def test_values_are_unique_and_every_ablation_with_a_book_figure_has_some():
    keys = [(v.ablation, v.variant, v.metric, v.epoch) for v in BOOK_VALUES]
    assert len(keys) == len(set(keys))
    covered = {(v.ablation, v.variant) for v in BOOK_VALUES}
    missing = {(a.name, v.name) for a in ABLATIONS.values() for v in a.variants} - covered
    # No notebook shows these: the book never ran batch norm without its eval-mode slip, and the
    # L2 cells of Impact_of_regularization.ipynb were saved without outputs.
    assert missing == {("batch_norm", "bn"), ("l2", "l2")}


def run(val_acc: list[float], val_loss: list[float] | None = None) -> dict:
    n = len(val_acc)
    return {
        "seed": 0,
        "diverged_epoch": None,
        "history": {
            "val_acc": val_acc,
            "train_acc": val_acc,
            "val_loss": val_loss or [0.5] * n,
            "train_loss": [0.4] * n,
            "lr": [1e-3] * n,
        },
    }


ACC = BookValue("optimizer", "sgd", "val_acc", 2, 0.85, 0.005, "Varying_loss_optimizer.ipynb", "figure")


def test_inside_the_seed_range_is_reproduced():
    c = compare(ACC, [run([0.5, 0.84]), run([0.5, 0.86])], "book")
    assert c.state == "within" and (c.low, c.high) == (0.84, 0.86)


def test_outside_says_how_far_from_the_nearest_seed():
    c = compare(ACC, [run([0.5, 0.80]), run([0.5, 0.82])], "book")
    assert c.state == "outside" and c.distance == pytest.approx(0.03)


def test_the_reading_precision_widens_the_range():
    runs = [run([0.5, 0.84]), run([0.5, 0.844])]
    assert compare(BookValue(**{**ACC.__dict__, "value": 0.8485}), runs, "book").state == "within"  # 0.844 + 0.005
    assert compare(BookValue(**{**ACC.__dict__, "value": 0.836}), runs, "book").state == "within"  # 0.84 - 0.005
    c = compare(ACC, runs, "book")  # 0.85: beyond 0.844 + 0.005
    assert c.state == "outside" and c.distance == pytest.approx(0.006), "the distance is to the seed, not the margin"


def test_other_profiles_and_other_measurements_are_shown_not_compared():
    runs = [run([0.5, 0.80])]
    assert compare(ACC, runs, "ci").state == "not comparable"
    assert compare(BookValue(**{**ACC.__dict__, "compared": False, "note": "x"}), runs, "book").state == "not compared"
    assert compare(ACC, [run([0.5])], "book", epochs=1).state == "not reached"
    assert compare(ACC, [], "book").state == "not run"


def test_a_diverged_loss_counts_as_infinite():
    loss = BookValue("optimizer", "sgd", "val_loss", 2, 0.4, 0.01, "Varying_loss_optimizer.ipynb", "figure")
    c = compare(loss, [run([0.1, 0.1], [math.nan, math.nan])], "book", epochs=2)
    assert c.state == "outside" and math.isinf(c.distance)


def results(profile: str, val_acc: float) -> dict:
    record = {"label": "SGD", "config": {"epochs": 2}, "runs": [run([0.5, val_acc]), run([0.5, val_acc + 0.01])]}
    return {
        "profile": {"name": profile},
        "ablations": {"optimizer": {"title": "Optimizer", "variants": {"sgd": record}}},
    }


def test_sections_and_summary_of_a_book_run():
    refs = (ACC, BookValue(**{**ACC.__dict__, "metric": "val_loss", "value": 0.9, "precision": 0.01}))
    book = book_sections(results("book", 0.80), refs)
    section = book["sections"]["optimizer"]
    assert section["outside"] == 2 and [row["class"] for row in section["rows"]] == ["outside", "outside"]
    rows = [{k: v.replace("\u00a0", " ") for k, v in row.items() if isinstance(v, str)} for row in section["rows"]]
    assert [row["what"] for row in rows] == ["val. loss at epoch 2", "val. acc. at epoch 2"]  # the farther first
    first = rows[1]
    assert first["what"] == "val. acc. at epoch 2" and first["book"] == "85.0 % (± 0.5 pp)"
    assert first["run"] == "80.0–81.0 %" and first["result"] == "4.0 pp above the seeds"
    assert book["summary"]["text"].startswith(
        "0 of 2 book values reproduced within the seed spread; not: Optimizer / SGD: val. loss at epoch 2 (0.4"
    )
    assert section["cells"]["sgd"] == {"lines": ["val. 85.0\u00a0%", "loss 0.9"], "epoch": 2}
    assert [p["value"] for p in section["points"]] == [85.0, 0.9]


def test_the_table_lists_the_farthest_outside_first():
    """Outliers first, the farthest (in reading precisions) first; values within keep their order."""
    within = BookValue(**{**ACC.__dict__, "metric": "train_acc", "value": 0.805})
    near = BookValue(**{**ACC.__dict__, "value": 0.83})  # 2 points above the seeds: 4 precisions
    far = BookValue(**{**ACC.__dict__, "metric": "val_loss", "value": 0.9, "precision": 0.01})  # 0.4: 40
    rows = book_sections(results("book", 0.80), (within, near, far))["sections"]["optimizer"]["rows"]
    assert [row["what"].split(" at")[0] for row in rows] == ["val. loss", "val. acc.", "train acc."]
    assert [row["class"] for row in rows] == ["outside", "outside", "within"]


def test_a_loss_read_too_coarsely_is_counted_not_compared():
    """The rule the report states: a loss read to ±5 (an axis to 150) is no comparison, nor an
    accuracy read to ±3 points; a loss read to a tenth of its value still is."""
    coarse = BookValue(**{**ACC.__dict__, "metric": "val_loss", "value": 2.3, "precision": 5.0})
    fine = BookValue(**{**ACC.__dict__, "metric": "val_loss", "value": 2.3, "precision": 0.2})
    blurred = BookValue(**{**ACC.__dict__, "precision": 0.03})
    runs = [run([0.5, 0.8], [2.0, 2.31])]
    assert compare(coarse, runs, "book").state == "too coarse"
    assert compare(fine, runs, "book").state == "within"
    assert compare(blurred, runs, "book").state == "too coarse"
    section = book_sections(results("book", 0.80), (ACC, coarse))["sections"]["optimizer"]
    assert len(section["rows"]) == 1
    assert "1 value read off the plot too coarsely to compare (SGD: val. loss at epoch 2, read" in section["uncompared"]


def test_the_real_book_values_have_no_loss_compared_to_within_more_than_a_tenth():
    from suite.report.book import sensible

    for value in BOOK_VALUES:
        if sensible(value) and METRICS[value.metric].unit.name == "loss":
            assert value.precision <= 0.1 * value.value, value


def test_a_ci_run_is_marked_not_comparable_everywhere():
    book = book_sections(results("ci", 0.85), (ACC,))
    section = book["sections"]["optimizer"]
    assert not section["comparable"] and [row["result"] for row in section["rows"]] == ["not comparable"]
    assert not book["summary"]["comparable"] and "not comparable" in book["summary"]["text"]


def test_summary_counts_only_compared_values():
    within = compare(ACC, [run([0.5, 0.85])], "book")
    shown = compare(BookValue(**{**ACC.__dict__, "compared": False, "note": "x"}), [run([0.5, 0.85])], "book")
    text = summary([("Optimizer", "SGD", within), ("Optimizer", "SGD", shown)], True)["text"]
    assert text.startswith("1 of 1 book values reproduced within the seed spread.")
    assert "1 more are shown but not compared" in text
