"""The stakeholder report: a run's results folder rendered to report.html and report.pdf.

    ablation-report reports/<run-id>             # or: python -m suite.report reports/<run-id>
    from suite.report import render; render("reports/<run-id>")   # -> [html path, pdf path]

Built from the results folder alone (results.json; benchmark.json and the nightly comparison's
regress.json when present), so a report can be re-rendered without training. Nothing in this
package imports torch. Layout: ``content``, ``sections`` and ``since`` shape the data, ``plots``
draws the seaborn figures (``trend_plot`` the nightly comparison's trend), ``document`` fills the
jinja2 templates of ``templates/`` and prints the PDF with WeasyPrint.
"""

from __future__ import annotations

from suite.report.document import render

__all__ = ["render"]
