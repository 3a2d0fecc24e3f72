"""How the run session learns what stopped it: the signal that arrived, what was training then.

    handler = SignalStop(run)                     # the plugin installs it for SIGTERM (and Ctrl-C's SIGINT)
    run.training = Training("dropout", "p0.25")   # the session, as a variant starts; epochs update it
    stop_record(run.results, "interrupted", ...)  # -> the StopRecord the results file keeps

The record itself is ``suite.store.stops.StopRecord``; this module fills it in.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass
from typing import Protocol

from suite.spec.chapter3 import ABLATIONS
from suite.store.records import AblationStatus, RunResults, RunStatus
from suite.store.stops import StopCause, StopRecord, utc_now


class Stoppable(Protocol):
    """The run session (``suite.harness.run``), as far as its signal handler writes to it."""

    stop_signal: str | None


@dataclass
class Training:
    """What the session is training: a variant, and the last epoch a seed of it reported finished."""

    ablation: str
    variant: str
    seed: int | None = None
    epoch: int | None = None  # finished; the next one of SEED (or the next seed's first) was under way


class SignalStop:
    """A signal handler that notes the signal's name in the run, then stops it like Ctrl-C does
    (KeyboardInterrupt), so that the results say "interrupted by SIGTERM"."""

    def __init__(self, run: Stoppable):
        self.run = run

    def __call__(self, signum: int, frame) -> None:
        self.run.stop_signal = self.run.stop_signal or signal.Signals(signum).name  # the first one stopped it
        raise KeyboardInterrupt(f"signal {signum}")


_REPLACED: dict[int, object] = {}  # signal -> the handler install() replaced, for uninstall()


def install(run: Stoppable) -> None:
    """SIGTERM (a CI runner's cancel or time limit) ends the run like Ctrl-C; both are named in its
    stop. SIGINT's handler is replaced only where it is Python's own (pytest-xdist's workers set theirs)."""
    handler = SignalStop(run)
    _REPLACED.setdefault(signal.SIGTERM, signal.getsignal(signal.SIGTERM))
    signal.signal(signal.SIGTERM, handler)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        _REPLACED.setdefault(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGINT, handler)


def uninstall() -> None:
    """The handlers as they were, once the run's files are final (pytest_unconfigure): a SIGTERM
    during pytest's own clean-up after that then ends the process as SIGTERM does, without a
    KeyboardInterrupt traceback from inside pytest's teardown."""
    while _REPLACED:
        signum, handler = _REPLACED.popitem()
        signal.signal(signum, handler)  # type: ignore[arg-type]


def stop_record(
    results: RunResults,
    status: RunStatus,
    reason: str | None,
    cause: StopCause | None,
    signal_name: str | None,
    training: Training | None,
) -> StopRecord | None:
    """The stop of a run ending with STATUS (before its running ablations are marked); None if complete."""
    if status == RunStatus.COMPLETE:
        return None
    if cause is None:
        if status == RunStatus.ERROR:
            cause = StopCause.ERROR
        else:
            cause = StopCause.SIGNAL if signal_name else StopCause.INTERRUPT
    if training is None:  # between variants, or a pytest-xdist controller: the ablation under way, if any
        running = [name for name, entry in results.ablations.items() if entry.status == AblationStatus.RUNNING]
        training = Training(running[0], "") if running else None
    known = {name: entry for name, entry in results.ablations.items() if name in ABLATIONS}
    return StopRecord(
        cause=cause,
        when=utc_now(),
        signal=signal_name if cause == StopCause.SIGNAL else None,
        reason=(reason or "no reason recorded") if cause in (StopCause.ERROR, StopCause.WRITE_ERROR) else None,
        ablation=training.ablation if training else None,
        variant=(training.variant or None) if training else None,
        seed=training.seed if training else None,
        epoch=training.epoch if training else None,
        variants_stored=sum(len(entry.variants) for entry in known.values()),
        variants_planned=sum(len(ABLATIONS[name].variants) for name in known),
    )
