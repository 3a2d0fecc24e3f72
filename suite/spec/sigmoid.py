"""The sigmoid table of the book's scaling section: sigmoid(w * x) for a range of weights.

    python -c "from suite.spec.sigmoid import sigmoid_table; print(sigmoid_table())"

With x = 255 (a raw white pixel) every weight above ~0.02 gives a sigmoid of 1.0: the unit is
saturated and a change of weight changes nothing. With x = 1 (the same pixel scaled) the
sigmoid still moves with the weight. No training and no torch needed.
"""

from __future__ import annotations

import math

WEIGHTS = (-0.1, -0.01, -0.001, 0.0, 0.001, 0.01, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0)
INPUTS = (255.0, 1.0)


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def sigmoid_table(weights=WEIGHTS, inputs=INPUTS) -> dict:
    """{"weights": [...], "inputs": [...], "values": {str(x): [sigmoid(w*x) for w]}}"""
    return {
        "weights": list(weights),
        "inputs": list(inputs),
        "values": {f"{x:g}": [sigmoid(w * x) for w in weights] for x in inputs},
    }


def spread(values: list[float]) -> float:
    return max(values) - min(values)
