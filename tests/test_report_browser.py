"""report.html in a real browser: headless Chromium (Debian's `chromium`; .ci/run installs it).

A copy of the ci-sample's HTML gets a small script (only here, never in the report) that, once the
page has loaded, writes into the DOM whether each <img> decoded (naturalWidth), whether each
internal link's target exists, how wide the summary table is against the window, whether the
contents link stays on screen, and the summary's Time column after a click on its heading.
Chromium dumps that DOM and the test parses it; a screenshot is kept in the test's temp folder.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from suite.report.content import build
from suite.report.document import html
from tests.helpers import SAMPLE

pytestmark = pytest.mark.subprocess

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
WIDTH, HEIGHT = 1600, 1000
PROBE = """
<script>
window.addEventListener("load", function () {
  var out = [];
  document.querySelectorAll("img").forEach(function (img, i) {
    out.push("img " + i + " " + (img.complete && img.naturalWidth > 0 ? "ok" : "broken"));
  });
  document.querySelectorAll('a[href^="#"]').forEach(function (a) {
    var id = decodeURIComponent(a.getAttribute("href").slice(1));
    out.push("link " + a.getAttribute("href") + " " + (document.getElementById(id) ? "ok" : "missing"));
  });
  var table = document.querySelector("table.summary-table");
  out.push("width " + Math.round(table.getBoundingClientRect().width) + " " + window.innerWidth);
  out.push("top-link " + getComputedStyle(document.querySelector("a.to-top")).position);
  var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
  heads.filter(function (th) { return th.textContent === "Time"; })[0].click();
  out.push("sorted " + Array.prototype.map.call(table.tBodies[0].rows, function (row) {
    return row.cells[row.cells.length - 1].getAttribute("data-sort") || "-";
  }).join(","));
  var pre = document.createElement("pre");
  pre.id = "browser-check";
  pre.textContent = out.join("\\n");
  document.body.appendChild(pre);
});
</script>
"""


def chromium(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", f"--window-size={WIDTH},{HEIGHT}", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.skipif(BROWSER is None, reason="needs Debian's chromium (apt-get install chromium), as .ci/run installs")
def test_report_html_in_headless_chromium(tmp_path):
    page = tmp_path / "report.html"
    text = html(build(SAMPLE))
    page.write_text(text)
    probed = tmp_path / "probed.html"
    probed.write_text(text.replace("</body>", PROBE + "</body>"))

    shot = tmp_path / "screenshot.png"
    proc = chromium(f"--screenshot={shot}", page.as_uri())
    assert shot.exists() and shot.stat().st_size > 10_000, proc.stderr[-2000:]

    proc = chromium("--virtual-time-budget=10000", "--dump-dom", probed.as_uri())
    found = re.search(r'<pre id="browser-check">(.*?)</pre>', proc.stdout, re.S)
    assert found, f"the probe wrote nothing: {proc.stderr[-2000:]}"
    lines = found.group(1).splitlines()
    images = [line for line in lines if line.startswith("img ")]
    links = [line for line in lines if line.startswith("link ")]
    assert images and links
    assert [line for line in images + links if not line.endswith(" ok")] == []
    assert len(images) == text.count("<img "), "every image was checked"
    assert len(links) == len(re.findall(r'<a [^>]*href="#', text)), "every internal link was checked"
    facts = {line.split(" ", 1)[0]: line.split(" ", 1)[1] for line in lines if not line.startswith(("img", "link"))}
    table, window = map(int, facts["width"].split())
    assert table > 0.8 * window, f"the summary uses {table} of {window} px: the column must follow the window"
    assert facts["top-link"] == "fixed", "the contents link stays on screen"
    times = [t for t in facts["sorted"].split(",") if t != "-"]
    assert len(times) > 1 and times == sorted(times), "a click on Time sorts the rows by their seconds"
