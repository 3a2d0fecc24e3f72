"""One ablation of a results file, shaped for the report: settings, final metrics, verdicts.

    from suite.report.sections import ablation_sections
    sections = ablation_sections(results)    # book order; not-run ablations included

Pure data shaping (no plotting, no torch). Ablations of ``suite.spec.chapter3`` that the results file
lacks come back as "not run" sections, and ablations the file has but this version does not know
are kept (after the known ones), so nothing a run measured or skipped is silently dropped.
"""

from __future__ import annotations

import math

from suite.report import fmt
from suite.report.prose import current_prose
from suite.report.verdicts import section_badge, shown_verdict
from suite.spec.chapter3 import ABLATIONS, ABLATIONS_LIST
from suite.spec.metrics import METRICS, metric_value
from suite.spec.profiles import PROFILES
from suite.store.records import AblationEntry
from suite.store.results import KILLED, KILLED_TEXT

OUTCOME_CLASS = {
    "PASS": "pass",
    "FAIL": "fail",
    "REPRODUCED": "reproduced",
    "NOT REPRODUCED": "not-reproduced",
    "INCONCLUSIVE": "inconclusive",
    "not run": "not-run",
    "error": "error",
    "interrupted": "interrupted",
    "passed": "pass",
    "failed": "fail",
    "running": "interrupted",
    KILLED: "interrupted",
}
STATUS_TEXT = {KILLED: KILLED_TEXT}  # 'running' stays 'running': a live run's (see run_status)

# (TrainConfig field, what the reader sees); an optional feature off for every variant is folded
# into one "not used" line instead of a row of "no"s.
SETTINGS = [
    ("input_scale", "Input scale (× raw pixel)"),
    ("hidden", "Hidden layers"),
    ("batch_norm", "Batch normalization"),
    ("dropout", "Dropout"),
    ("optimizer", "Optimizer"),
    ("lr", "Learning rate"),
    ("schedule", "Learning-rate schedule"),
    ("batch_size", "Batch size"),
    ("epochs", "Epochs"),
    ("l1", "L1 penalty"),
    ("l2", "L2 penalty"),
    ("eval_mode_slip", "Book's eval-mode slip"),
]
OPTIONAL = {"batch_norm", "dropout", "l1", "l2", "eval_mode_slip"}
SCHEDULE_FIELDS = ("plateau_factor", "plateau_patience", "plateau_threshold", "plateau_min_lr")


def status_text(status: str) -> str:
    return STATUS_TEXT.get(status, status)


def _schedule(config: dict) -> str:
    if "plateau_factor" not in config:
        return fmt.MISSING
    if not config["plateau_factor"]:
        return "constant"
    patience = config.get("plateau_patience", 0) + 1  # torch cuts once bad epochs exceed the patience
    return (
        f"ReduceLROnPlateau: × {config['plateau_factor']:g} after {patience} "
        f"epoch{'s' if patience > 1 else ''} without a {fmt.config_value('', config.get('plateau_threshold', 0.0))} "
        f"drop in validation loss; floor {fmt.config_value('', config.get('plateau_min_lr', 0.0))}"
    )


def _setting(config: dict | None, key: str) -> str:
    if config is None:
        return fmt.MISSING
    if key == "schedule":
        return _schedule(config)
    return fmt.config_value(key, config[key]) if key in config else fmt.MISSING


def settings_table(variants: list[dict]) -> dict:
    """Rows for the settings that differ between variants; the rest as one 'same for all' list."""
    configs = [v["config"] for v in variants]
    known = {key for key, _ in SETTINGS} | set(SCHEDULE_FIELDS)
    extra = sorted({k for c in configs if c for k in c} - known)
    rows, shared, unused = [], [], []
    for key, label in SETTINGS + [(k, k) for k in extra]:
        values = [_setting(c, key) for c in configs]
        if key in OPTIONAL and all(v in ("no", "0", fmt.MISSING) for v in values):
            unused.append(label.lower() if key != "eval_mode_slip" else "the book's eval-mode slip")
        elif len(set(values)) == 1:
            shared.append({"label": label, "value": values[0]})
        else:
            present = {v for v in values if v != fmt.MISSING}
            rows.append({"label": label, "cells": values, "varies": len(present) > 1})
    return {"columns": [v["label"] for v in variants], "rows": rows, "shared": shared, "unused": unused}


def _spec_config(name: str, variant: str, profile: str) -> dict | None:
    """What a variant without a record would have run, from the spec (None if unknown here)."""
    spec = ABLATIONS.get(name)
    if spec is None or profile not in PROFILES:
        return None
    try:
        return spec.config(variant, PROFILES[profile]).as_dict()
    except (KeyError, TypeError):  # a variant this version does not know, or a field it lacks
        return None


def _last(run: dict, metric: str) -> float:
    try:
        return metric_value(run, metric)
    except (KeyError, IndexError, ValueError):
        return math.nan


def final_metrics(runs: list[dict]) -> dict:
    """Final-epoch metrics over the seeds, formatted (mean ± sample std)."""

    def values(metric):
        return [_last(r, metric) for r in runs]

    diverged = [r["diverged_epoch"] for r in runs if r.get("diverged_epoch")]
    return {
        "val_acc": fmt.values_mean_spread(values("val_acc"), "percent"),
        "train_acc": fmt.values_mean_spread(values("train_acc"), "percent"),
        "gap_acc": fmt.values_mean_spread(values("gap_acc"), "pp"),
        "val_loss": fmt.values_mean_spread(values("val_loss")),
        "weight_abs_mean": fmt.values_mean_spread([r.get("weight_abs_mean", math.nan) for r in runs]),
        "diverged": (f"{len(diverged)} of {len(runs)} (epoch {', '.join(map(str, diverged))})" if diverged else "none"),
        "seeds": len(runs),
    }


def _variant_rows(name: str, entry: dict, profile: str) -> list[dict]:
    spec = ABLATIONS.get(name)
    recorded = entry.get("variants") or {}
    names = [v.name for v in spec.variants] if spec else []
    names += [v for v in recorded if v not in names]
    error = entry.get("error") or ""
    rows = []
    for index, variant in enumerate(names):
        record = recorded.get(variant)
        label = record.get("label") if record else (spec.variant(variant).label if spec else variant)
        if record:
            state = "run"
        elif entry.get("status") == "error" and error.startswith(f"{variant}:"):
            state = "error"
        elif entry.get("status") in ("interrupted", "running"):
            state = "interrupted"
        else:
            state = "not run"
        rows.append(
            {
                "name": variant,
                "label": label,
                "index": index,
                "state": state,
                "state_class": OUTCOME_CLASS.get(state, "not-run"),
                "config": record["config"] if record else _spec_config(name, variant, profile),
                "runs": record["runs"] if record else [],
                "duration_s": record.get("duration_s") if record else None,
                # its runs' share of the stacks they trained in (runs served from another variant's: 0);
                # absent in results written before the planner
                "training_s": (record.get("stack") or {}).get("share_s") if record else None,
                "metrics": final_metrics(record["runs"]) if record and record.get("runs") else None,
            }
        )
    return rows


def claim_words(claim: dict, labels: dict) -> str:
    """A claim's statistic in words: 'validation accuracy of “a” minus that of “b”, at the last epoch'."""
    metric = METRICS[claim["metric"]].words if claim["metric"] in METRICS else claim["metric"]
    text = f"{metric} of “{labels.get(claim['variant'], claim['variant'])}”"
    if claim.get("baseline"):
        base = f"“{labels.get(claim['baseline'], claim['baseline'])}”"
        text += f" relative to {base} (change as a share)" if claim.get("relative") else f" minus that of {base}"
    return text + (", at the last epoch" if claim.get("epoch") is None else f", after epoch {claim['epoch']}")


def claim_rows(entry: dict, status: str, labels: dict | None = None) -> list[dict]:
    """Every claim of the ablation, judged or not; an unjudged claim says why it was not."""
    verdicts = {v["claim"]: v for v in entry.get("verdicts") or []}
    unjudged = {"error": "error", "interrupted": "interrupted", "running": "interrupted"}.get(status, "not run")
    rows = []
    for claim in entry.get("claims") or []:
        verdict = verdicts.get(claim["text"])
        row = {
            "text": claim["text"],
            "asserted": claim.get("asserted", True),
            "why": claim.get("why", ""),
            "bound": fmt.claim_bound(claim),
            "claim": claim,
            "words": claim_words(claim, labels or {}),
        }
        if verdict is None:
            row.update(outcome=unjudged, numbers=fmt.MISSING, per_seed=[], seeds=[], statistic="")
            row.update(stored_outcome=None, support="")
        else:
            row.update(
                **shown_verdict(claim, verdict),  # a reported claim re-judged by today's rule
                statistic=verdict["statistic"],
                seeds=verdict["seeds"],
                numbers=fmt.claim_mean_spread(verdict["mean"], verdict["spread"], claim, len(verdict["per_seed"])),
                per_seed=[fmt.claim_value(v, claim) for v in verdict["per_seed"]],
            )
        row["outcome_class"] = OUTCOME_CLASS.get(row["outcome"], "not-run")
        rows.append(row)
    return rows


def ablation_sections(results: dict) -> list[dict]:
    stored = results["ablations"]
    names = [a.name for a in ABLATIONS_LIST]
    names += sorted((n for n in stored if n not in ABLATIONS), key=lambda n: stored[n].get("order", 1e9))
    profile = results["profile"]["name"]
    sections = []
    for number, name in enumerate(names, 1):
        entry = current_prose(name, profile, stored.get(name) or AblationEntry.planned(name, profile).to_json())
        status = entry.get("status", "not run")
        variants = _variant_rows(name, entry, profile)
        claims = claim_rows(entry, status, {v["name"]: v["label"] for v in variants})
        has_runs = any(v["runs"] for v in variants)
        # The spec decides (Ablation.shows_parameters); a claim on the weights shows them as well.
        shows_parameters = (name in ABLATIONS and ABLATIONS[name].shows_parameters) or any(
            c.get("metric") == "weight_abs_mean" for c in entry.get("claims") or []
        )
        sections.append(
            {
                "name": name,
                "number": number,
                "anchor": f"ablation-{name}",
                "title": entry.get("title") or name,
                "question": entry.get("question") or "",
                "book_note": entry.get("book_note") or "",
                "status": status_text(status),
                "status_class": OUTCOME_CLASS.get(status, "not-run"),
                "error": entry.get("error"),
                "duration_s": entry.get("duration_s") or 0.0,
                "variants": variants,
                "settings": settings_table(variants),
                "claims": claims,
                # the badge shown: derived from the verdicts ("0 of 4 reproduced"), status kept as stored
                **section_badge(status_text(status), OUTCOME_CLASS.get(status, "not-run"), claims),
                "has_runs": has_runs,
                "show_parameters": has_runs and shows_parameters,
                "show_activations": any("activations" in r for v in variants for r in v["runs"]),
            }
        )
    return sections
