"""The stakeholder report, rendered from the checked-in sample of a real ci run (no training).

    pytest tests/test_report.py -q

The sample (tests/data/ci-sample) is rendered once per session, in a subprocess through the
command line, which also shows that rendering never imports torch. The report with a nightly
comparison is tested in tests/test_report_since.py, the book's values in test_report_book.py.
Text is read back from the PDF with pdftotext (poppler) or, failing that, pypdf; whitespace is
dropped before comparing, because table cells wrap wherever the layout wants.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from suite.report import fmt
from suite.report.__main__ import main
from suite.report.verdicts import shown_verdict
from suite.spec.chapter3 import ABLATIONS_LIST
from suite.store.results import load_results
from tests.helpers import SAMPLE, SECTIONS, body, pdf_text, render_cli, squash

pytestmark = pytest.mark.subprocess  # the sample renders once, through the command line


@pytest.fixture(scope="session")
def rendered(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("report")
    proc = render_cli(SAMPLE, out)
    assert proc.returncode == 0, proc.stderr
    html, pdf = out / "report.html", out / "report.pdf"
    return {"proc": proc, "html": html, "pdf": pdf, "text": pdf_text(pdf), "out": out}


def test_writes_html_and_pdf_and_prints_their_paths(rendered):
    assert rendered["pdf"].read_bytes()[:5] == b"%PDF-"
    html = rendered["html"].read_text()
    assert html.count("data:image/svg+xml") >= len(ABLATIONS_LIST), "one SVG figure per ablation at least"
    # self-contained: the one script (the summary's column sort) is inline, nothing is fetched
    assert html.count("<script") == 1 and not re.search(r"<script[^>]*\ssrc=", html)
    assert not re.search(r"<link[^>]*stylesheet", html)
    printed = rendered["proc"].stdout.splitlines()
    assert printed[:2] == [str(rendered["html"]), str(rendered["pdf"])]


def test_rendering_does_not_import_torch(rendered):
    assert rendered["proc"].stdout.splitlines()[-1] == "torch not imported"


def test_every_section_is_present_in_order(rendered):
    text = body(rendered["text"])
    positions = [text.find(squash(title)) for title in SECTIONS]
    assert all(p >= 0 for p in positions), dict(zip(SECTIONS, positions))
    assert positions == sorted(positions)


def test_title_block_names_the_run(rendered):
    results = load_results(SAMPLE)
    text = squash(rendered["text"])
    for fact in [
        "chapter3-ablations",
        results["run_id"],
        "Profile",
        results["profile"]["name"],
        "Device",
        "Gitcommit",
        results["machine"]["git_commit"][:12],
        "Totalwalltime",
        f"{len(results['seeds'])}pervariant",
    ]:
        assert squash(fact) in text, fact


def test_every_ablation_has_a_summary_row_and_a_section(rendered):
    text = squash(rendered["text"])
    summary = body(rendered["text"]).split(squash(SECTIONS[1]))[0]
    results = load_results(SAMPLE)
    for number, ablation in enumerate(ABLATIONS_LIST, 1):
        heading = squash(f"2.{number} {ablation.title}")
        assert heading in summary, f"no summary row for {ablation.name}"
        assert text.count(heading) >= 3, f"{ablation.name}: expected contents, summary and section headings"
        for claim in ablation.claims:
            assert squash(claim.text) in summary, f"summary lacks the claim {claim.text!r}"
        entry = results["ablations"].get(ablation.name, {})
        claims = {c["text"]: c for c in entry.get("claims", [])}
        for verdict in entry.get("verdicts", []):
            shown = shown_verdict(claims[verdict["claim"]], verdict)["outcome"]  # reported: re-judged
            assert squash(verdict["claim"]) + shown.replace(" ", "") in summary


def test_sigmoid_table_and_timings_are_formatted(rendered):
    text = squash(rendered["text"])
    assert squash("sigmoid(w · x)") in text and "1.000000" in text and "0.524979" in text
    assert squash("as pytest-benchmark measured it") in text


def test_ci_sample_shows_the_book_but_does_not_compare_it(rendered):
    text = body(rendered["text"])
    summary = text.split(squash(SECTIONS[1]))[0]
    assert squash("Book values: not comparable (protocol differs: 6k images, fewer epochs)") in summary
    assert text.count(squash("Not comparable: this run's protocol differs from the book's")) == len(ABLATIONS_LIST)
    assert squash("SGD val. acc. at epoch 1 79.3 % (± 0.3 pp)") in text, "the SGD row of the book table, numbers shown"
    assert "withintheseedspread" not in text, "a ci run is never judged against the book"
    # at least: sections follow one another, and a table a page break splits repeats its header
    assert text.count(squash("Time Book")) >= len(ABLATIONS_LIST), "every final-metrics table has the column"
    svgs = [
        base64.b64decode(data).decode()
        for data in re.findall(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)", rendered["html"].read_text())
    ]
    marked = [svg for svg in svgs if re.search(r">\s*book\s*<", svg)]
    assert len(marked) >= len(ABLATIONS_LIST) - 1, "curves with the book's markers in the legend (not scaling's)"


def test_first_page_is_not_blank(rendered, tmp_path):
    image = pytest.importorskip("PIL.Image")
    if not shutil.which("pdftoppm"):
        pytest.skip("needs pdftoppm (poppler-utils)")
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "40",
            "-f",
            "1",
            "-l",
            "1",
            "-png",
            "-singlefile",
            str(rendered["pdf"]),
            str(tmp_path / "page"),
        ],
        check=True,
    )
    histogram = image.open(tmp_path / "page.png").convert("L").histogram()
    inked = sum(histogram[:200]) / sum(histogram)
    assert 0.01 < inked < 0.6, f"{inked:.1%} of the first page is ink"


def test_sections_open_with_their_verdicts_and_the_command_can_be_pasted(rendered):
    html = rendered["html"].read_text()
    for section in html.split('<section class="ablation"')[1:]:
        assert section.find("verdicts-head") < section.find("<h3>Settings</h3>"), "verdicts, then the evidence"
    command = squash("Command pytest suite/cases -q --ablation-seeds 2 --ablation-out /tmp/sample")
    assert command in squash(rendered["text"]), "the sample stored __main__.py as its first word"


def test_no_page_but_the_last_is_mostly_blank(rendered, tmp_path):
    """Sections follow one another (report.css): a page whose text and figures end above half its
    body (between the running header and footer) is a layout that left white behind."""
    image = pytest.importorskip("PIL.Image")
    if not shutil.which("pdftoppm"):
        pytest.skip("needs pdftoppm (poppler-utils)")
    subprocess.run(["pdftoppm", "-r", "20", "-gray", str(rendered["pdf"]), str(tmp_path / "p")], check=True)
    pages = sorted(tmp_path.glob("p*.pgm"))
    blank = []
    for number, path in enumerate(pages[:-1], 1):
        page = image.open(path).point(lambda v: 255 if v < 200 else 0)  # ink, white on black
        width, height = page.size
        top, bottom = round(height * 0.085), round(height * 0.915)  # inside the running header and footer
        inked = page.crop((0, top, width, bottom)).getbbox()
        used = (inked[3] / (bottom - top)) if inked else 0.0
        if used < 0.5:
            blank.append(f"page {number}: {used:.0%} used")
    assert len(pages) > 10 and not blank, blank


def interrupted_copy(tmp_path: Path) -> Path:
    """The sample as an interrupted run would leave it: one ablation errored, one stopped, most not run."""
    run = tmp_path / "interrupted"
    shutil.copytree(SAMPLE, run)
    (run / "benchmark.json").unlink(missing_ok=True)  # pytest-benchmark writes it only at the very end
    raw = json.loads((run / "results.json").read_text())
    raw["status"], raw["finished"] = "interrupted", None
    ablations = raw["ablations"]
    keep = ["scaling", "batch_size", "depth"]
    for name in [n for n in ablations if n not in keep]:
        del ablations[name]
    ablations["batch_size"].update(status="error", error="b10000: RuntimeError: CUDA out of <memory>", verdicts=[])
    del ablations["batch_size"]["variants"]["b10000"]
    ablations["depth"].update(status="interrupted", verdicts=[])
    ablations["depth"]["variants"] = {}
    (run / "results.json").write_text(json.dumps(raw))
    return run


def test_interrupted_run_renders_missing_cases_as_rows(tmp_path):
    run = interrupted_copy(tmp_path)
    proc = render_cli(run, run)
    assert proc.returncode == 0, proc.stderr
    text = squash(pdf_text(run / "report.pdf"))
    for number, ablation in enumerate(ABLATIONS_LIST, 1):
        assert squash(f"2.{number} {ablation.title}") in text
    assert "notrun" in text and "error" in text and "interrupted" in text
    assert squash("This run did not complete") in text
    assert squash("from the durations in results.json") in text
    html = (run / "report.html").read_text()
    assert "CUDA out of &lt;memory&gt;" in html, "error text must be escaped, not interpreted"


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (None, "no results file"),
        ("{not json", "malformed results file"),
        ('{"schema": 1}', "missing run_id"),
        ("structure", "malformed results file"),
        ("benchmark", "benchmark.json"),
        ("regress", "regress.json"),
        ("regress-structure", "regress.json"),
    ],
)
def test_bad_results_give_one_error_line(tmp_path, capsys, damage, expected):
    run = tmp_path / "run"
    if damage in ("structure", "benchmark", "regress", "regress-structure"):
        shutil.copytree(SAMPLE, run)
        if damage == "regress":
            (run / "regress.json").write_text("{not json")
        elif damage == "regress-structure":
            (run / "regress.json").write_text(
                json.dumps(
                    {"current": {"run_id": "ci-sample"}, "baseline": None, "rows": {"not": "a list"}, "trend": {}}
                )
            )
        elif damage == "structure":
            raw = json.loads((run / "results.json").read_text())
            raw["ablations"]["scaling"]["variants"] = ["not", "a", "dict"]
            (run / "results.json").write_text(json.dumps(raw))
        else:
            (run / "benchmark.json").write_text(
                '{"benchmarks": [{"params": {"ablation": "scaling", "variant": "raw"}, "stats": 3}]}'
            )
    else:
        run.mkdir()
        if damage:
            (run / "results.json").write_text(damage)
    assert main([str(run)]) != 0
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and expected in err, err
    assert "Traceback" not in err
    assert not (run / "report.pdf").exists()


def test_claim_values_read_in_their_units():
    assert (
        fmt.claim_bound({"metric": "val_acc", "baseline": "sgd", "at_least": -0.03, "at_most": 0.03})
        == "−3.0 to +3.0\u00a0pp"
    )
    accuracy_gap = {"metric": "val_acc", "baseline": "raw", "at_least": 0.05}

    def plain(text: str) -> str:  # the report keeps units on their numbers with no-break spaces
        return text.replace("\u00a0", " ")

    assert plain(fmt.claim_value(0.1234, accuracy_gap)) == "+12.3 pp"
    assert plain(fmt.claim_bound(accuracy_gap)) == "≥ +5.0 pp"
    assert plain(fmt.claim_value(0.25, {"metric": "val_acc"})) == "25.0 %"
    assert (
        plain(fmt.claim_value(-0.35, {"metric": "weight_abs_mean", "baseline": "none", "relative": True})) == "−35.0 %"
    )
    assert fmt.claim_value(float("inf"), {"metric": "val_loss", "baseline": "h1"}) == "∞"
    assert plain(fmt.claim_mean_spread(0.5, 0.01, {"metric": "val_acc"}, seeds=3)) == "50.0 ± 1.0 %"
    assert fmt.config_value("lr", 1e-5) == "0.00001" and fmt.config_value("input_scale", 1 / 255) == "1/255"
    assert plain(fmt.duration(754.2)) == "12 min 34 s"


def test_without_regress_json_there_is_no_comparison(rendered):
    assert "Sincethebaseline" not in squash(rendered["text"]), "neither a section nor a contents line"
    assert 'id="since"' not in rendered["html"].read_text()
