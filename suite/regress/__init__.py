"""Nightly regression check: compare a run with the stored history of earlier runs.

    python -m suite.regress reports/20261126-221500 --history ~/ablation-history --store
    python -m suite.regress reports/NEW --history reports/OLD          # OLD: one baseline results folder
    python -m suite.regress reports/NEW --history hist --store --accept "new trainer: Adam in double"

Exit status: 0 the night passed (or its failure was accepted), 1 it failed, 2 bad input: a
missing or malformed file, a run id already in the history, a store refused or interrupted (one
line on stderr). See docs/nightly.md. Against the baseline (``--baseline``, else the latest
earlier complete run of the same profile; other profiles are never compared):

* Same environment (``suite.regress.environment``: device, torch, CUDA, cuDNN, threads, CPU, GPU,
  Python, seeds, data): every stored per-seed value must repeat bitwise (``suite.regress.exact``):
  each curve at each epoch, the learning rate applied, the weights' size, each claim's per-seed
  statistic and outcome. Anything that moved fails the night, naming the first value.
* Environment changed (or ``--statistical``): the per-seed values of each final metric and of
  each claim's statistic are compared by Welch's t-test against the seeds' own spread
  (``suite.regress.shift``); a shift beyond noise is reported either way, and fails the night
  in the bad direction.
* Either way: an asserted claim that flips PASS -> FAIL fails; a reported claim's flip is CHANGED.
* Training cost (``suite.regress.cost``): µs per run-step of the runs a variant trained (served
  variants are not timed), against the median of the last nights on the same machine; not
  compared at all when another job held the CPUs ("machine loaded").

A night that failed is not stored unless accepted (``--accept REASON``, recorded beside it).
"""

from suite.regress.compare import TOLERANCE, compare
from suite.regress.history import Run, history_runs, load_run, read_history, store
from suite.regress.night import check, nightly

__all__ = [
    "TOLERANCE",
    "Run",
    "check",
    "compare",
    "history_runs",
    "load_run",
    "nightly",
    "read_history",
    "store",
]
