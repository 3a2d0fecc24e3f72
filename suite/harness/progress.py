"""What a person sees while a run trains: its planned size first, then one updating line per run.

    progress = Progress(config, show=True, rewrite=True)     # from the run's options (RunSession)
    progress.plan(plan, cost, "cpu")      # one line: runs, run-epochs, steps, estimated duration
    progress.epoch("scaling", "raw", 0, 3, row)     # "scaling/raw seed 0 epoch 3/5 ... about 1 min left"

pytest captures what a test writes while it runs, so the lines go through pytest's terminal
reporter with capture suspended, as pytest's own live logging writes (the capture manager's
``global_and_fixture_disabled``): on a terminal they appear as the run trains, without ``-s``.
On a terminal each run's line is rewritten in place at every epoch; elsewhere ("on") every epoch
gets a line. A run estimated to take over an hour is warned about even when progress is off.
"""

from __future__ import annotations

import contextlib
import time

import pytest

LONG_RUN_S = 3600  # warn before a run expected to take longer than this


def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{max(round(seconds), 1)} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class Progress:
    def __init__(self, config: pytest.Config, *, show: bool, rewrite: bool):
        self.config = config
        self.show = show  # --ablation-progress on, or auto on a terminal outside CI
        self.rewrite = rewrite  # a terminal: one line per run, rewritten in place
        self._open: tuple | None = None  # the run whose line is on screen, not yet ended
        self._runs: dict[tuple, tuple[int, float]] = {}  # (ablation, variant, seed) -> (epochs, cost of one)
        self._total = self._done = 0.0  # estimated cost of every planned epoch, of those trained
        self._start = time.perf_counter()

    def plan(self, plan, cost, device: str) -> None:
        """Before training: the run's size (``suite.engine.pace.RunPlan``), and its cost on DEVICE."""
        self._start = time.perf_counter()
        for run in plan.runs:
            each = cost.epoch_seconds(plan, run) if cost else 1.0
            for request in run.requests:
                self._runs[(request.ablation, request.variant, request.seed)] = (run.cfg.epochs, each)
            self._total += run.cfg.epochs * each
        if cost is None:
            return
        seconds = cost.seconds(plan)
        if self.show:
            self._line(f"ablation run: {plan.summary()}; about {duration(seconds)} on {device} ({cost.how})")
        if seconds > LONG_RUN_S:
            self._line(
                f"warning: this run is estimated to take about {duration(seconds)} on {device}; fewer seeds "
                "(--ablation-seeds) or ablations (-k) make it shorter",
                yellow=True,
                bold=True,
            )

    def epoch(self, ablation: str, variant: str, seed: int, epoch: int, row: dict) -> None:
        """Run (ABLATION, VARIANT, SEED) finished EPOCH: its line, with the time the run has left."""
        epochs, each = self._runs.get((ablation, variant, seed), (None, 0.0))
        self._done += each
        left = ""
        if 0 < self._done < self._total:
            elapsed = time.perf_counter() - self._start
            left = f" · about {duration(elapsed * (self._total - self._done) / self._done)} left"
        if not self.show:
            return
        run = f"{ablation}/{variant} seed {seed} epoch {epoch}{f'/{epochs}' if epochs else ''}"
        if self.rewrite:  # short: a line wider than the terminal wraps and cannot be rewritten
            self._update(f"{run} · val acc {row['val_acc']:.3f}{left}", (ablation, variant, seed))
        else:
            self._line(
                f"{run}: train acc {row['train_acc']:.3f} val acc {row['val_acc']:.3f}"
                f" val loss {row['val_loss']:.3f}{left}"
            )

    # -- writing through pytest's terminal, past the capture -------------------------------------
    @contextlib.contextmanager
    def _terminal(self):
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        capture = self.config.pluginmanager.get_plugin("capturemanager")
        if reporter is None:
            yield None
            return
        with capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext():
            yield reporter
            reporter.flush()  # a rewritten line ends without a newline: nothing else flushes it

    def _line(self, line: str, **markup: bool) -> None:
        with self._terminal() as reporter:
            if reporter is not None:
                self._end_open_line(reporter)
                reporter.write_line(line, **markup)  # begins with a newline where pytest left a line open

    def _update(self, line: str, key: tuple) -> None:
        with self._terminal() as reporter:
            if reporter is None:
                return
            if self._open != key:
                self._end_open_line(reporter)
            self._open = key
            reporter.rewrite(line[: reporter._tw.fullwidth - 1], erase=True)

    def _end_open_line(self, reporter) -> None:
        """A line of its own for what comes next: after pytest's "test_chapter3.py .." (pytest then
        starts its next line itself) or after the previous run's progress line."""
        if reporter.currentfspath:
            reporter.ensure_newline()
        elif self._open is not None:
            reporter.write("\n")
        self._open = None
