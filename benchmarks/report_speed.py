"""Time rendering the checked-in sample report (HTML and PDF), phase by phase.

    python benchmarks/report_speed.py                    # the sample in tests/data/ci-sample
    python benchmarks/report_speed.py reports/<run-id>   # any results folder

Prints seconds per phase (imports, data shaping, figures + HTML, PDF) and the total, which the
issue asks to stay under 30 s on the 2-core CI machine. A script, not a timed test: timings on a
shared machine are too noisy to fail a build on.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv: list[str]) -> int:
    run_dir = Path(argv[0]) if argv else ROOT / "tests" / "data" / "ci-sample"
    start = time.perf_counter()
    from weasyprint import HTML

    from suite.report import content, document

    marks = [("imports", time.perf_counter())]
    data = content.build(run_dir)
    marks.append(("data shaping", time.perf_counter()))
    text = document.html(data)
    marks.append(("figures + HTML", time.perf_counter()))
    with tempfile.TemporaryDirectory() as out:
        HTML(string=text, base_url=str(document.TEMPLATES)).write_pdf(Path(out) / document.PDF_NAME)
    marks.append(("PDF (WeasyPrint)", time.perf_counter()))
    previous = start
    for name, moment in marks:
        print(f"{name:18} {moment - previous:6.2f} s")
        previous = moment
    print(f"{'total':18} {previous - start:6.2f} s  ({run_dir})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
