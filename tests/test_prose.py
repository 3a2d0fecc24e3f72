"""No measured number typed into a spec's prose: a report prints the prose beside this run's numbers.

What counts as a measured value: a decimal (0.538), a percentage (85.3%), a signed value (-0.079,
+0.006), a spread (± 1.1), a multiple (300x) or a count of outcomes ("8 of 28"). Plain integers
stay: they are settings or follow from them (batch 32, 100 epochs, 1,875 steps per epoch, base
seeds 200-205). What a text needs to point at is named by its archive file instead.
"""

import re

import pytest

from suite.spec.chapter3 import ABLATIONS
from suite.spec.profiles import PROFILES

# The protocol's own settings, each with why it may appear in prose.
SETTINGS = {
    "0.1": "a learning rate of the book (lr_scaled, lr_raw)",
    "0.01": "the book's learning rate for SGD and Adam; the L2 weight",
    "0.001": "Adam's learning rate; the plateau schedule's threshold",
    "0.0001": "the L1 weight",
    "0.00001": "the smallest learning rate; the plateau schedule's floor",
    "0.25": "the dropout rate",
    "1e-4": "the L1 weight as its variant label writes it",
    "1e-2": "the L2 weight as its variant label writes it",
    "10%": "chance level: one of ten classes",
}
NUMBER = re.compile(r"(?<![\w.])(?:[+\-−±]\s?)?\d[\d,]*(?:\.\d+)?(?:e[+\-−]?\d+)?(?:%|x\b)?")
COUNT = re.compile(r"\b\d+ of \d+\b")


def measured_values(text: str) -> list[str]:
    found = COUNT.findall(text)
    for match in NUMBER.finditer(text):
        token = match.group(0)
        if token in SETTINGS or re.fullmatch(r"\d[\d,]*", token):
            continue
        found.append(token)
    return found


def prose(ablation) -> list[tuple[str, str]]:
    texts = [("question", ablation.question)]
    for profile in PROFILES:
        texts.append((f"book note ({profile})", ablation.book_note_for(profile)))
        for claim in ablation.claims_for(profile):
            texts += [(f"claim ({profile})", claim.text), (f"why of {claim.text!r} ({profile})", claim.why)]
    for variant in ablation.variants:
        texts.append((f"label of {variant.name}", variant.label))
    return texts


@pytest.mark.parametrize("name", list(ABLATIONS))
def test_no_measured_number_in_a_specs_prose(name):
    typed = {where: values for where, text in prose(ABLATIONS[name]) if (values := measured_values(text))}
    assert not typed, f"measured values typed into {name}'s prose: {typed}"


@pytest.mark.parametrize(
    ("text", "found"),
    [
        # texts this catalogue carried before: quoted from particular runs
        ("batch norm ends far behind: -0.555 (-0.579, -0.627, -0.460) at epoch 100, H100", 4),
        ("(29.7% against 85.3% validation accuracy on an H100, seeds 0-2), while the slip reaches 85.9%", 3),
        ("where Adam led by 3.9 ± 1.1 points per seed", 2),
        ("the accuracy difference is within seed noise in 8 of 28 seeds", 1),
        ("frozen statistics of epoch 1 amplify the tiny inputs ~300x", 1),
        # settings and ids are no measurements
        ("Adam with learning rates 0.1, 0.001 and 0.00001 on input divided by 255", 0),
        ("Batch 32 gives 1875 weight updates per epoch on 60k images; batch 10,000 gives 6", 0),
        ("base seeds 200-205 (docs/calibration/book-cpu-base200-205.tgz)", 0),
    ],
)
def test_what_counts_as_a_measured_value(text, found):
    assert len(measured_values(text)) == found, measured_values(text)
