"""SIGTERM at any moment of a report's rendering: one line, no traceback, nothing left behind,
the earlier report files intact.

    pytest tests/test_render_signals.py -q

The signal comes from this (another) process at moments spread at random over a real render of
the ci-sample, as a CI runner's cancel or a time limit would deliver it.
"""

import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import weakref

import pytest

from suite.report.interrupts import lost_interrupts
from suite.store.files import read_json, signals_held
from tests.helpers import FAST_WORKBENCH, REPO, SAMPLE

TRIALS = 4
INTERRUPTED_LINE = "ablation-report: interrupted; no report file is half-written"
# How a shell sees the interrupted render: status 130. CPython itself sometimes ends such a process
# by SIGINT instead (exit_sigint: a KeyboardInterrupt once escaped code run by PyRun_*, though
# caught later), which a shell reports as 130 too.
INTERRUPTED = (130, -signal.SIGINT)


def leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def complete(folder) -> bool:
    """Both report files are whole: the previous ones, or new ones renamed into place."""
    pdf, html = (folder / "report.pdf").read_bytes(), (folder / "report.html").read_bytes()
    return pdf.startswith(b"%PDF") and pdf.rstrip().endswith(b"%%EOF") and html.rstrip().endswith(b"</html>")


def render_cli(out) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "suite.report", str(SAMPLE), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
    )


@pytest.mark.subprocess
def test_a_signal_while_the_report_cli_renders(tmp_path):
    out = tmp_path / "out"
    start = time.monotonic()
    first = render_cli(out)
    assert first.wait(timeout=300) == 0, first.stderr.read()
    took = time.monotonic() - start
    outcomes = []
    for trial in range(TRIALS):  # one moment drawn at random in each quarter of a render
        proc = render_cli(out)
        time.sleep(took * (trial + random.random()) / TRIALS)
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=300)
        outcomes.append(proc.returncode)
        assert "Traceback" not in stderr and leftovers(out) == [], (proc.returncode, stderr)
        if proc.returncode in INTERRUPTED:
            assert stderr.strip().splitlines() == [INTERRUPTED_LINE] and stdout == ""
        else:  # finished first (0), or stopped before Python ran a line of it (-SIGTERM)
            assert proc.returncode in (0, -signal.SIGTERM), (proc.returncode, stderr)
        assert complete(out)
    assert set(outcomes) & set(INTERRUPTED), outcomes  # the signal did land while it rendered


def test_a_signal_waits_while_a_temporary_file_is_created_or_removed():
    ran = []

    def create_a_temporary_file():
        with signals_held():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)  # delivered at once, were it not held
            ran.append("to its end")

    # Another thread, as torch has: a process-directed signal may be taken by any thread.
    other = threading.Thread(target=time.sleep, args=(0.5,))
    other.start()
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: ran.append("handler"))
    try:
        create_a_temporary_file()
    finally:
        signal.signal(signal.SIGTERM, previous)
        other.join()
    assert ran == ["to its end", "handler"]


def test_an_interrupt_python_cannot_raise_is_kept_not_printed(capsys):
    """Ctrl-C landing in a weakref callback: Python would print "Exception ignored" and render on."""

    class Figure:
        pass

    def callback(_):
        raise KeyboardInterrupt

    with lost_interrupts() as lost:
        figure = Figure()
        ref = weakref.ref(figure, callback)
        del figure
    assert ref() is None and len(lost) == 1 and isinstance(lost[0], KeyboardInterrupt)
    assert "Exception ignored" not in capsys.readouterr().err


# Marks the moment the plugin starts rendering, so that the signal lands inside the render.
MARK_RENDERING = """
import pathlib
import suite.report

_render = suite.report.render


def render(*args, **kwargs):
    pathlib.Path("rendering").touch()
    return _render(*args, **kwargs)


suite.report.render = render
"""


@pytest.mark.subprocess
def test_a_signal_while_the_plugin_renders(pytester, tmp_path):
    pytester.makeconftest(FAST_WORKBENCH + MARK_RENDERING)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("CI", None)
    interrupted = 0
    for trial in range(TRIALS // 2):
        folder = tmp_path / "reports" / f"r{trial}"
        marker = pytester.path / "rendering"
        marker.unlink(missing_ok=True)
        proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "pytest", "-p", "suite.harness.plugin", "-p", "no:cacheprovider"),
                *("--ablation-seeds", "1", "--ablation-out", str(folder.parent), "--ablation-run-id", folder.name),
                *("--ablation-report", "--pyargs", "suite.cases", "-k", "scaling"),
            ],
            cwd=pytester.path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 300
        while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(random.uniform(0, 3))  # the render of this run's figures takes longer than this
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=300)
        assert "Traceback" not in out and "KeyboardInterrupt" not in out, out
        assert leftovers(folder) == [], out
        # settled before the report: the run is complete, whatever its claims on random images say
        assert read_json(folder / "results.json")["status"] == "complete"
        if "report rendering interrupted" in out:
            interrupted += 1
            assert proc.returncode == pytest.ExitCode.INTERRUPTED, out
            lines = [line for line in out.splitlines() if "report rendering interrupted" in line]
            assert lines == [
                "report rendering interrupted; the results are safe, render with python -m suite.report " + str(folder)
            ]
        else:  # rendered first; the signal came as pytest finished (0) or after it (-SIGTERM)
            assert proc.returncode in (pytest.ExitCode.TESTS_FAILED, -signal.SIGTERM) and complete(folder), out
        shutil.rmtree(folder)
    assert interrupted, "the signal never landed while the plugin rendered"
