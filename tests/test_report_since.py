"""The report's "Since the baseline" section: the sample rendered with a nightly comparison
(regress.json) against a history of two copies of itself, with a planted drop (no training).

    pytest tests/test_report_since.py -q

Helpers and the way text is read back from the PDF are those of tests/test_report.py.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from markupsafe import escape

from suite.regress import nightly
from suite.report import fmt
from suite.report.content import build
from suite.report.since import noise_rule
from suite.spec.metrics import METRICS
from suite.store.files import ResultsError
from suite.store.results import load_results
from tests.helpers import SAMPLE, SECTIONS, body, pdf_text, render_cli, squash

pytestmark = pytest.mark.subprocess  # the reports render through the command line

DROP = 0.06  # planted: the current run's final validation accuracy of scaling/scaled, per seed


def sample_copy(dest: Path, run_id: str, started: str, drop: float = 0.0) -> Path:
    shutil.copytree(SAMPLE, dest)
    raw = json.loads((dest / "results.json").read_text())
    raw["run_id"], raw["started"], raw["finished"] = run_id, started, started.replace("T22:", "T23:")
    for run in raw["ablations"]["scaling"]["variants"]["scaled"]["runs"]:
        run["history"]["val_acc"][-1] -= drop
    (dest / "results.json").write_text(json.dumps(raw))
    return dest


def compared_run(tmp: Path, history_runs: int = 2) -> Path:
    """The sample as tonight's run, compared (as the plugin does) with HISTORY_RUNS stored copies of itself."""
    for night in range(history_runs):
        sample_copy(
            tmp / "history" / "ci-cpu" / f"n{night}",
            f"nightly-2026112{night + 4}",
            f"2026-11-2{night + 4}T22:00:00+00:00",
        )
    run = sample_copy(tmp / "tonight", "nightly-20261126", "2026-11-26T22:00:00+00:00", drop=DROP)
    (tmp / "history").mkdir(exist_ok=True)
    nightly(run, tmp / "history", json_path=run / "regress.json")
    return run


@pytest.fixture(scope="module")
def regressed(tmp_path_factory) -> dict:
    run = compared_run(tmp_path_factory.mktemp("nightly"))
    proc = render_cli(run, run)
    assert proc.returncode == 0, proc.stderr
    pages = pdf_text(run / "report.pdf").split("\f")
    text = body("\f".join(pages))
    start, end = text.find(squash("1.1 Since the baseline")), text.find(squash(SECTIONS[1]))
    summary = text.find(squash(SECTIONS[0]))
    return {
        "run": run,
        "proc": proc,
        "contents": squash(pages[0]),
        "section": text[start:end],
        "start": start,
        "summary": summary,
        "summary_text": text[summary:start],
        "html": (run / "report.html").read_text(),
    }


def test_since_the_baseline_follows_the_summary_and_is_in_the_contents(regressed):
    assert regressed["proc"].stdout.splitlines()[-1] == "torch not imported"
    assert 0 <= regressed["summary"] < regressed["start"], "the section goes after the summary"
    assert regressed["section"], "the section ends before the ablations"
    assert squash("1.1 Since the baseline") in regressed["contents"]


def test_since_the_baseline_shows_the_planted_regression(regressed):
    section = regressed["section"]
    scaled = [
        run["history"]["val_acc"][-1]
        for run in load_results(SAMPLE)["ablations"]["scaling"]["variants"]["scaled"]["runs"]
    ]
    before = sum(scaled) / len(scaled)
    assert squash("Failed since run nightly-20261125") in section and squash("1 regression:") in section
    changes = section.split(squash("What changed"))[1].split(squash("Every variant against the baseline"))[0]
    for text in [
        "2.1 Scaling the input",
        "pixels / 255",
        "Validation accuracy",
        fmt.percent(before),
        fmt.percent(before - DROP),
        "−6.0 pp",
        "REGRESSED",
    ]:
        assert squash(text) in changes, text
    assert changes.count("REGRESSED") == 2, "one regressed row, and the legend"
    assert squash("comparisons are within tolerance") in section
    assert '<table class="since-overview">' in regressed["html"]
    html = regressed["html"]
    trend = html[html.index("Validation accuracy over the stored runs") :]
    assert trend.count('<figure class="trend">') == 3, "11 ablations, four panels a row"
    assert "Runs: nightly-20261124 (24 Nov); nightly-20261125 (25 Nov); nightly-20261126 (26 Nov)." in trend


def test_summary_points_to_the_comparison(regressed):
    pointer = "Nightly comparison: failed since run nightly-20261125, 1 regression and no improvements beyond tolerance"
    assert squash(pointer) in regressed["summary_text"]


def test_the_caption_states_the_rule_the_check_stored(regressed):
    """The legend's numbers come from regress.json, not from the template: a changed rule shows."""
    rule = json.loads((regressed["run"] / "regress.json").read_text())["noise_rule"]
    assert squash(str(escape(noise_rule(rule)))) in squash(regressed["html"])
    changed = noise_rule({**rule, "alpha": 0.05, "time_floor": 0.4})
    assert "at the 5 % level" in changed and "larger of 40 %" in changed
    assert noise_rule(None) is None and noise_rule({"alpha": 0.01}) is None  # older files: the docs are named


def test_first_night_has_no_baseline_and_no_table(tmp_path):
    content = build(compared_run(tmp_path, history_runs=0))
    since = content["since"]
    assert since["baseline"] is None and since["changes"] == [] and not since["trend"]["plot"]
    assert since["reading"].startswith("No baseline: this is the first complete run of the ci profile")


def test_a_comparison_of_another_run_is_refused(tmp_path):
    run = compared_run(tmp_path)
    raw = json.loads((run / "regress.json").read_text())
    raw["current"]["run_id"] = "nightly-19990101"
    (run / "regress.json").write_text(json.dumps(raw))
    with pytest.raises(ResultsError, match=r"regress\.json.*compares run nightly-19990101"):
        build(run)


def test_the_section_reads_kinds_not_the_notes_wording(tmp_path):
    """Rows and notes round-trip through regress.json by kind: rewording every note's text changes
    nothing the section derives from a kind, and an unknown kind of note shows its text."""
    run = compared_run(tmp_path)
    raw = json.loads((run / "regress.json").read_text())
    claims = [row for row in raw["rows"] if row["kind"] == "claim"]
    assert claims and all("claim" in row and "metric" not in row for row in claims)
    assert {row["kind"] for row in raw["rows"]} == {"metric", "statistic", "claim"}  # the sample has no stacks
    raw["rows"].append(
        dict(kind="time", ablation="scaling", variant="raw", metric="step_us", baseline=1000.0, current=1100.0)
        | dict(delta=100.0, relative_delta=0.1, tolerance=0.25, status="OK")
    )
    raw["notes"] = [
        {"kind": "ablation_missing", "ablation": "l2", "text": "reworded"},
        {"kind": "time_not_compared", "text": "reworded"},
        {"kind": "ablation_missing", "ablation": "depth", "text": "reworded"},
        {"kind": "something_new", "text": "a note of a kind this report does not know"},
    ]
    (run / "regress.json").write_text(json.dumps(raw))
    since = build(run)["since"]
    assert since["notes"] == [
        "not in this run, not compared: L2 regularization, Depth",
        "a note of a kind this report does not know",
    ]
    shown = [row for row in since["rows"] if row["kind"] == "claim"]
    assert [row["claim"] for row in shown] == [row["claim"] for row in claims]
    assert all(row["metric"] is None for row in shown)
    time = next(row for row in since["rows"] if row["kind"] == "time")
    assert time["what"] == "Training time per step" and time["allowed"] == f"25{fmt.NB}% slower"
    statistic = next(row for row in since["rows"] if row["kind"] == "statistic")
    assert statistic["what"] == f"Statistic of: {statistic['claim']}"


@pytest.mark.parametrize("part", ["rows", "notes"])
def test_a_comparison_written_before_kinds_is_one_clear_error(tmp_path, part):
    run = compared_run(tmp_path)
    raw = json.loads((run / "regress.json").read_text())
    raw["notes"] = [{"kind": "time_not_compared", "text": "time not compared: ..."}]
    raw[part][0] = (
        "time not compared: ..." if part == "notes" else {k: v for k, v in raw[part][0].items() if k != "kind"}
    )
    (run / "regress.json").write_text(json.dumps(raw))
    with pytest.raises(ResultsError, match=r"regress\.json.*no kind.*write it again with python -m suite\.regress"):
        build(run)


def test_every_overview_column_is_headed_by_its_cells_metric(tmp_path):
    """The compact table's headers come from the metrics its cells hold, in the same order."""
    since = build(compared_run(tmp_path))["since"]
    headers = since["overview_columns"]
    assert len(headers) == len(since["overview"][0]["lines"][0]["cells"])
    for group in since["overview"]:
        for line in group["lines"]:
            for header, cell in zip(headers, line["cells"]):
                if cell is not None:
                    assert METRICS[cell["metric"]].label == header, (header, cell["metric"])
