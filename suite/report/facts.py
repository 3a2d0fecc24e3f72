"""The book's two points that need no ablation, shaped for section 3: the sigmoid table of the
scaling section and the train/eval-mode probe, from the results file's ``extras``. No torch."""

from __future__ import annotations

from suite.report import fmt


def sigmoid_table(extras: dict) -> dict | None:
    table = extras.get("sigmoid")
    if not table:
        return None
    keys = list(table["values"])
    rows = []
    for i, weight in enumerate(table["weights"]):
        cells = []
        for key in keys:
            value = table["values"][key][i]
            text = f"{value:.1e}".replace("-", "−") if 0 < value < 1e-4 else f"{value:.6f}"
            cells.append(
                {
                    "product": fmt.number(weight * float(key), 4),
                    "value": text,
                    "saturated": value > 0.9999 or value < 1e-4,
                }
            )
        rows.append({"weight": fmt.number(weight, 3), "cells": cells})
    return {"inputs": [fmt.number(float(k), 4) for k in keys], "rows": rows}


def mode_table(extras: dict) -> dict | None:
    probe = extras.get("train_eval_mode")
    if not probe:
        return None
    rows = [
        {
            "seed": r["seed"],
            "eval_diff": fmt.number(r["eval_max_abs_diff"], 3),
            "train_diff": fmt.number(r["train_max_abs_diff"], 3),
            "eval_acc": fmt.percent(r["eval_acc"]),
            "train_acc": fmt.percent(r["train_mode_acc"]),
            "changed": fmt.percent(r["changed_predictions"], 2),
        }
        for r in probe["rows"]
    ]
    return {
        "rows": rows,
        "changed": fmt.percent(probe.get("changed_predictions_mean"), 2),
        "drop": fmt.values_mean_spread([probe["accuracy_drop_mean"]], "pp")
        if "accuracy_drop_mean" in probe
        else fmt.MISSING,
    }
