"""Progress a person sees: the run's planned size before it trains, then one updating line per
run on a terminal, written past pytest's capture; quiet under CI.

    pytest tests/test_progress.py -q

The terminal test runs pytest on a real pseudo-terminal (Python's pty module), as a person at a
terminal would, and reads what appears while the run is still training.
"""

import os
import select
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest

from suite.engine.pace import RunPlan, StepCost
from suite.engine.planner import requests_for
from suite.harness.progress import LONG_RUN_S, Progress, duration
from suite.spec.chapter3 import ABLATIONS
from suite.spec.profiles import PROFILES
from tests.helpers import REPO

ROW = {"train_acc": 0.5, "val_acc": 0.5, "val_loss": 1.0}


class Terminal:
    """A stand-in for pytest's terminal reporter: the lines it was asked to write."""

    currentfspath = None

    def __init__(self):
        self.lines = []

    def write_line(self, line, **markup):
        self.lines.append(line)

    def flush(self):
        pass


def progress(show=True) -> tuple[Progress, Terminal]:
    terminal = Terminal()
    plugins = {"terminalreporter": terminal, "capturemanager": None}
    config = SimpleNamespace(pluginmanager=SimpleNamespace(get_plugin=plugins.get))
    return Progress(config, show=show, rewrite=False), terminal


def plan_of(names, seeds) -> RunPlan:
    requests = requests_for([ABLATIONS[n] for n in names], PROFILES["ci"], seeds)
    return RunPlan.of(requests, train_size=6000, val_size=2000)


def test_the_plan_counts_distinct_runs_their_epochs_and_steps():
    plan = plan_of(["scaling", "batch_size"], [0, 1])
    by_batch = {32: 6000 // 32 + 1, 10000: 1}  # a batch larger than the split is the whole split
    assert len(plan.runs) == 8 and plan.run_epochs == sum(r.cfg.epochs for r in plan.runs)
    assert plan.run_steps == sum(r.cfg.epochs * by_batch[r.cfg.batch_size] for r in plan.runs)
    # identical runs of several ablations, and prefixes of longer ones, train once
    every = plan_of(list(ABLATIONS), [0])
    assert every.asked_epochs > every.run_epochs
    assert "served from identical runs" in every.summary() and "served" not in plan.summary()


def test_a_run_over_an_hour_is_warned_about_even_with_progress_off():
    plan = plan_of(["scaling"], list(range(1000)))
    slow = StepCost(per_step=0.01, per_image=0.0, how="measured")
    shown, terminal = progress(show=True)
    shown.plan(plan, slow, "cpu")
    assert terminal.lines[0].startswith(f"ablation run: {len(plan.runs):,} runs, ")
    assert "on cpu (measured)" in terminal.lines[0]
    assert slow.seconds(plan) > LONG_RUN_S and terminal.lines[1].startswith("warning: this run is estimated")
    quiet, terminal = progress(show=False)
    quiet.plan(plan, slow, "cpu")
    quiet.epoch("scaling", "raw", 0, 1, ROW)
    assert len(terminal.lines) == 1 and terminal.lines[0].startswith("warning:")
    short, terminal = progress(show=True)
    short.plan(plan_of(["scaling"], [0]), StepCost(0.0001, 0.0, "measured"), "cpu")
    assert len(terminal.lines) == 1  # no warning


def test_each_epoch_says_where_the_run_is_and_the_time_left():
    shown, terminal = progress()
    plan = plan_of(["scaling"], [0])
    shown.plan(plan, StepCost(0.001, 0.0, "measured"), "cpu")
    shown.epoch("scaling", "raw", 0, 1, ROW)
    assert terminal.lines[-1].startswith("scaling/raw seed 0 epoch 1/3: train acc 0.500")
    assert terminal.lines[-1].endswith(" left") and "about" in terminal.lines[-1]


def test_durations_read_as_a_person_says_them():
    assert [duration(s) for s in (0.2, 42, 150, 3599, 3600 * 16 + 300)] == [
        "1 s",
        "42 s",
        "2 min",
        "1 h 00 min",
        "16 h 05 min",
    ]


def on_a_terminal(args, env) -> tuple[bytes, int | None]:
    """Runs pytest on a pseudo-terminal; returns what it showed, and where in that output the
    first progress line of scaling/raw stood while pytest was still running (None: never)."""
    import pty

    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", *args], stdin=slave, stdout=slave, stderr=slave, env=env, cwd=REPO
    )
    os.close(slave)
    shown, seen_at, deadline = b"", None, time.monotonic() + 600
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            shown += chunk
            if seen_at is None and b"scaling/raw seed 0 epoch 1/3" in shown and proc.poll() is None:
                seen_at = shown.index(b"scaling/raw seed 0 epoch 1/3")
    finally:
        os.close(master)
        proc.wait(timeout=60)
    return shown, seen_at


@pytest.mark.dataset
@pytest.mark.subprocess
@pytest.mark.slow
@pytest.mark.parametrize("ci", [False, True], ids=["terminal", "ci"])
def test_progress_shows_on_a_terminal_while_it_trains(tmp_path, ci):
    env = dict(os.environ, PYTHONPATH=str(REPO), COLUMNS="100")
    env.pop("CI", None)
    if ci:
        env["CI"] = "true"
    args = [
        *("suite/cases", "-k", "scaling", "--ablation-seeds", "1", "--ablation-profile", "ci"),
        *("--ablation-out", str(tmp_path), "-p", "no:cacheprovider", "-p", "no:xdist"),
    ]
    shown, seen_at = on_a_terminal(args, env)
    text = shown.decode(errors="replace")
    assert "ablation verdicts" in text and "Traceback" not in text, text
    if ci:  # quiet: neither the plan nor the epochs
        assert seen_at is None and "ablation run:" not in text, text
        return
    assert seen_at is not None, text  # shown while pytest still ran, without -s
    assert text.index("ablation run: 2 runs, 6 run-epochs") < seen_at, text
    assert seen_at < text.index("ablation verdicts"), text
    assert "\rscaling/raw seed 0 epoch 2/3" in text and "left" in text  # rewritten in place
