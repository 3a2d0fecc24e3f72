"""How busy the machine was while a run, or one of its ablations, trained: the sample and the rule.

    from suite.store.load import LoadSample, loaded_between
    start = LoadSample.now()            # load averages, and this process's threads' run and wait time
    ...
    loaded_between(start.to_json(), LoadSample.now().to_json(), cores=2, threads=2)
    # 'its threads waited 23 % of their time for a CPU', or None on a quiet machine

One rule for every reader: the nightly comparison (``suite.regress.history``, ``run_loaded``) judges a
whole run's times by it, the report flags each ablation, and the run, that ran on a loaded
machine. No torch.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from suite.store.validation import Record, expect, measured, optional

LOADED_WAIT = 0.1  # threads that waited, runnable, this share of their time shared the CPUs
# Other jobs that kept this share of all the machine's CPUs busy slow a run without making its
# threads wait (a job on another core competes for caches and memory bandwidth): the
# fault-injection benchmark saw step times move well past the time rule's floor that way, with
# no wait at all (docs/nightly.md); a quiet machine's other work is a few percent.
LOADED_OTHERS = 0.25
# /proc/stat's "cpu" line: user nice system idle iowait irq softirq steal (guest is inside user).
# Busy is all but idle and iowait; steal counts, since it is CPU time another guest took.
_BUSY_FIELDS = (0, 1, 2, 5, 6, 7)


@dataclass
class LoadSample(Record):
    """One look at the machine's load (``machine.load_start``, an ablation's ``load_start``...).

    Unknown keys are kept, not refused: nothing judged reads it, and a newer writer may add one."""

    loadavg: list[float] | None = None  # 1, 5 and 15 minutes (absent where the platform has none)
    run_s: float | None = None  # this process's threads: seconds on a CPU so far (Linux schedstat)
    wait_s: float | None = None  # ... and seconds runnable but waiting for one: contention
    busy_s: float | None = None  # every CPU's busy seconds since boot, all processes (/proc/stat)
    at_s: float | None = None  # the system's monotonic clock (s): the span the busy seconds cover

    OPTIONAL = frozenset({"loadavg", "run_s", "wait_s", "busy_s", "at_s"})

    @classmethod
    def now(cls) -> LoadSample:
        """How busy the machine is now. Waiting is contention by other jobs; sleeping is not
        counted, so a slower trainer does not pass for a loaded machine."""
        sample = cls()
        try:
            sample.loadavg = list(os.getloadavg())
        except OSError:  # not every platform has it
            pass
        ran = waited = 0
        try:
            for task in Path("/proc/self/task").iterdir():
                fields = (task / "schedstat").read_text().split()
                ran, waited = ran + int(fields[0]), waited + int(fields[1])
            sample.run_s, sample.wait_s = ran / 1e9, waited / 1e9
        except (OSError, ValueError, IndexError):  # no schedstat here, or a thread ended while read
            pass
        try:
            fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
            sample.busy_s = sum(int(fields[i]) for i in _BUSY_FIELDS) / os.sysconf("SC_CLK_TCK")
            sample.at_s = time.monotonic()
        except (OSError, ValueError, IndexError):  # not Linux
            pass
        return sample

    def to_json(self) -> dict:
        return self.stored({key: getattr(self, key) for key in self.keys()})

    @classmethod
    def from_json(cls, data, place: str) -> LoadSample:
        expect(data, dict, place, "a load sample")
        loads = optional(data.get("loadavg"), list, f"{place}.loadavg", "a list of load averages")
        for i, value in enumerate(loads or []):
            measured(value, f"{place}.loadavg[{i}]")
        for key in ("run_s", "wait_s", "busy_s", "at_s"):
            if data.get(key) is not None:
                measured(data[key], f"{place}.{key}")
        return cls(**{key: data.get(key) for key in cls.keys()}, **cls.unread(data, place))


def wait_share(start: dict | None, end: dict | None) -> float | None:
    """The share of their time the process's threads waited, runnable, for a CPU another job held,
    between two samples (JSON, as stored); None where either lacks schedstat's numbers."""
    try:
        ran = end["run_s"] - start["run_s"]  # type: ignore[index]
        waited = end["wait_s"] - start["wait_s"]  # type: ignore[index]
    except (KeyError, TypeError):
        return None
    return waited / (ran + waited) if ran + waited > 0 else None


def others_share(start: dict | None, end: dict | None, cores: int | None) -> float | None:
    """The share of all CPUs that other processes kept busy between two samples: every CPU's busy
    time less this process's threads' own; None where either sample lacks the numbers."""
    try:
        span = end["at_s"] - start["at_s"]  # type: ignore[index]
        busy = end["busy_s"] - start["busy_s"]  # type: ignore[index]
        own = end["run_s"] - start["run_s"]  # type: ignore[index]
    except (KeyError, TypeError):
        return None
    if not cores or span <= 0:
        return None
    return max(0.0, busy - own) / (span * cores)


def loaded_between(start: dict | None, end: dict | None, *, cores: int | None, threads: int | None) -> str | None:
    """Why times measured between START and END say nothing about the code ('its threads waited
    23 % of their time for a CPU'), or None on a quiet machine. Without schedstat: the 1-minute
    load average at the start or the end above the CPU count, less the run's own threads at the end."""
    share = wait_share(start, end)
    if share is not None:
        if share > LOADED_WAIT:
            return f"its threads waited {share:.0%} of their time for a CPU"
        others = others_share(start, end, cores)
        if others is not None and others > LOADED_OTHERS:
            return f"other jobs kept {others:.0%} of the {cores} CPUs busy"
        return None
    cores, threads = cores or 1, threads or 1
    first = ((start or {}).get("loadavg") or [0.0])[0]
    last = ((end or {}).get("loadavg") or [0.0])[0]
    if max(first, last - threads) > cores - threads:
        return f"load average {first:.1f} at the start, {last:.1f} at the end, on {cores} CPUs"
    return None


def run_loaded(data: dict) -> str | None:
    """The rule for a whole run (DATA: its results JSON), between ``machine.load_start`` and
    ``load_end``: what the nightly comparison and the report's page one both read."""
    machine = data.get("machine") or {}
    return loaded_between(
        machine.get("load_start"),
        machine.get("load_end"),
        cores=machine.get("cpu_count"),
        threads=machine.get("torch_threads"),
    )
