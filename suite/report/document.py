"""Results folder → report.html → report.pdf: jinja2 templates, seaborn SVGs, WeasyPrint.

    from suite.report.document import render
    render("reports/ci-sample")              # -> [.../report.html, .../report.pdf]

Templates and the print stylesheet are package data, ``suite/report/templates/``, read through
``importlib.resources`` so that an installed wheel finds its own copy. The HTML is self-contained
(CSS and SVG inline), so it can be mailed or diffed on its own; the PDF is the same document laid
out for A4.
"""

from __future__ import annotations

import base64
import os
from importlib import resources
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from suite.report import fmt
from suite.report.content import build
from suite.store.files import atomic_write

# suite/report/templates is a symlink to the repository's top-level templates/, where the developers'
# guide keeps them; setuptools copies the files through it into the wheel (package-data in
# pyproject.toml), and an editable install or a checkout reads them through it. A package-dir
# mapping of templates/ onto suite.report.templates would keep the tree free of the link, but
# setuptools' editable finder (pip install -e .) cannot import a mapped folder without __init__.py.
# Resolved to a real folder: jinja2's FileSystemLoader and WeasyPrint's base_url want a path.
TEMPLATES = Path(str(resources.files("suite.report") / "templates")).resolve()
HTML_NAME, PDF_NAME = "report.html", "report.pdf"


def svg_image(svg: str | None, alt: str = "figure") -> Markup:
    """An <img> holding the SVG as a data URI. Inline <svg> would put thousands of plot nodes through
    WeasyPrint's HTML style cascade (and warn on their SVG-only properties): 3x slower to print."""
    if not svg:
        return Markup("")
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return Markup('<img class="figure" alt="{}" src="data:image/svg+xml;base64,{}">').format(alt, Markup(data))


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(duration=fmt.duration, number=fmt.number, percent=fmt.percent, svg=svg_image)
    env.globals.update(css=(TEMPLATES / "report.css").read_text(), missing=fmt.MISSING)
    return env


def _with_figures(content: dict) -> dict:
    from suite.report import plots, trend_plot  # matplotlib imports slowly: only to draw figures

    for section in content["sections"]:
        section["figures"] = plots.figures(section)
        for variant in section["variants"]:
            variant["color"] = plots.color(variant["index"])
    since = content.get("since")
    if since:
        since["figures"] = trend_plot.trend(since["trend"])
        for variant in since["extra_variants"]:  # variants the comparison has and this run's sections lack
            variant["color"] = plots.color(variant["index"])
    return content


def html(content: dict) -> str:
    return environment().get_template("report.html.j2").render(**_with_figures(content))


def render(run_dir: str | os.PathLike, out_dir: str | os.PathLike | None = None) -> list[Path]:
    """Write report.html and report.pdf for the results in RUN_DIR (into OUT_DIR, default RUN_DIR)."""
    from weasyprint import HTML  # imported late: it takes a second, and the CLI may stop before

    run_dir = Path(run_dir)
    out = Path(out_dir) if out_dir is not None else (run_dir if run_dir.is_dir() else run_dir.parent)
    out.mkdir(parents=True, exist_ok=True)
    text = html(build(run_dir))
    html_path, pdf_path = out / HTML_NAME, out / PDF_NAME
    # Written beside the targets and renamed: a reader never opens a half-written report.
    atomic_write(html_path, text.encode("utf-8"))
    atomic_write(pdf_path, HTML(string=text, base_url=str(TEMPLATES)).write_pdf())
    return [html_path, pdf_path]
