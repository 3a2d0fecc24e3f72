"""What happens as a run ends: pytest-benchmark's file, the nightly comparison, the report.

Helpers of the plugin (``suite.harness.plugin``) and its run (``suite.harness.run``), kept apart
so that the hooks module stays a list of hooks. Each one reports in one line on the terminal and
never loses the results on disk.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from suite.store.files import atomic_writer


class DeferredFile:
    """The value of --benchmark-json: created only when pytest-benchmark writes to it.

    Older pytest-benchmark releases take an open file (``with value as fh``), newer ones a path
    (``open(value)``): this object is both.

    Either way the write is atomic: the older releases write through ``atomic_writer``, the newer
    ones into a hidden file beside it that ``commit`` renames once they are done, so a full disk
    leaves no half-written benchmark.json for the report to trip over. It stays falsy (pytest-benchmark then neither
    saves nor warns) until the run collects ablation cases, so self-test runs leave no file.
    """

    def __init__(self, path: Callable[[], Path]):
        self._where = path  # asked when written: a run without a run id names its folder when it claims it
        self._writer = None
        self.active = False
        self.earlier: dict | None = None  # a resumed run's benchmark.json from before its stop

    def keep_earlier(self) -> None:
        """A resumed run: keep the file's entries of the tests run before the stop, which this part
        skips; ``commit`` merges them with this part's (a pytest UsageError if it is unreadable)."""
        from suite.store.files import ResultsError, read_json

        if not self._path.exists():
            return
        try:
            self.earlier = read_json(self._path)
            if not isinstance(self.earlier.get("benchmarks"), list):
                raise ResultsError(f"malformed benchmark file {self._path}: no list of benchmarks")
        except (ResultsError, AttributeError) as exc:
            raise pytest.UsageError(f"cannot resume: {exc}; remove it to resume without those timings") from None

    @property
    def _path(self) -> Path:
        return self._where()

    @property
    def name(self) -> str:
        return str(self._path)

    def __bool__(self) -> bool:
        return self.active

    def __enter__(self):
        self._writer = atomic_writer(self._path)
        return self._writer.__enter__()

    def __exit__(self, *exc_info):
        return self._writer.__exit__(*exc_info)

    @property
    def _staging(self) -> Path:
        return self._path.with_name(f".{self._path.name}.writing")

    def __fspath__(self) -> str:
        # pytest-benchmark >= 5.3 takes --benchmark-json as a path and opens it itself.
        self._path.parent.mkdir(parents=True, exist_ok=True)
        return str(self._staging)

    def commit(self, written: bool) -> None:
        """After pytest-benchmark's session end: its file in place if WRITTEN whole, else gone;
        merged with the earlier entries of a resumed run."""
        if self._staging.exists():
            if written:
                os.replace(self._staging, self._path)
            else:
                self._staging.unlink()
        if written and self.earlier is not None and self._path.exists():
            from suite.store.files import atomic_write_json, read_json

            atomic_write_json(self._path, merge_benchmarks(self.earlier, read_json(self._path)))

    def __str__(self) -> str:  # pytest-benchmark prints it: "Wrote benchmark data in: PATH"
        return self.name


def merge_benchmarks(earlier: dict, new: dict) -> dict:
    """NEW (pytest-benchmark's file of a resumed run's last part) with EARLIER's entries of the tests
    it did not time, by test name: one entry per test, as if the run had not stopped."""
    names = {bench.get("name") for bench in new.get("benchmarks", [])}
    kept = [bench for bench in earlier.get("benchmarks", []) if bench.get("name") not in names]
    return {**new, "benchmarks": kept + list(new.get("benchmarks", []))}


def compare(session: pytest.Session, run_dir: Path) -> None:
    """--ablation-compare: the verdict and what changed on the terminal; a failed night fails the run."""
    from suite.regress import nightly
    from suite.regress.table import format_table
    from suite.store.files import ResultsError

    config = session.config
    try:
        report = nightly(
            run_dir,
            config.getoption("ablation_compare"),
            keep=config.getoption("ablation_store"),
            json_path=run_dir / "regress.json",
            accept=config.getoption("ablation_accept"),
        )
        text, failed = format_table(report), report["verdict"] == "fail"
    except ResultsError as exc:
        text, failed = f"regression check failed: {exc}", True
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.section("since the baseline")
        for line in text.splitlines():
            reporter.write_line(line)
    if failed and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def render_report(session: pytest.Session, run_dir: Path) -> None:
    config = session.config
    try:
        from suite.report import render
        from suite.report.interrupts import lost_interrupts

        with lost_interrupts() as lost:
            paths = render(run_dir)
        if lost:  # landed in a weakref callback or a __del__: rendered, but asked to stop
            raise KeyboardInterrupt
        message = "report: " + ", ".join(str(p) for p in paths)
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM (the plugin turns it into one): stop, in one line
        message = f"report rendering interrupted; the results are safe, render with python -m suite.report {run_dir}"
        session.exitstatus = pytest.ExitCode.INTERRUPTED
    except Exception as exc:  # the results are safe on disk; rendering can be retried alone
        message = f"report rendering failed ({type(exc).__name__}: {exc}); retry with python -m suite.report {run_dir}"
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(message)
