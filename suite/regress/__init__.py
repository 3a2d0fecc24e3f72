"""Nightly regression check: compare a run with a baseline run or the stored history of earlier runs.

    python -m suite.regress reports/20261126-221500 --history ~/ablation-history --store
    python -m suite.regress reports/NEW --history reports/OLD          # OLD: one baseline results folder
    python -m suite.regress reports/NEW --history hist --baseline 20261120-221500 \\
        --tolerance val_acc=0.03 time=40% --json reports/NEW/regress.json

Exit status: 0 nothing regressed, 1 something did, 2 a missing or malformed file, or a run that
--store refused because it is not complete (one line).
See docs/nightly.md. Per (ablation, variant), against the baseline (``--baseline``, else the latest
earlier complete run of the same profile in the history; other profiles are never compared):

* final val_acc and train_acc (higher is better) and val_loss (lower is better): the mean over
  seeds of the last epoch. Allowed change = max(floor, K * spread), floor = TOLERANCE[metric],
  K = 3, spread = the larger of (a) the standard error of a difference of two seed means,
  sd_seed * sqrt(1/n_base + 1/n_now), sd_seed pooled over the history, and (b) the standard
  deviation of the per-run means over the history. Why both: the seeds are fixed (B*1000+i), so
  an unchanged commit on CPU repeats its numbers and (b) is ~0, yet any harmless change in how the
  RNG is consumed moves a mean by about (a). The floor (two accuracy points, 0.05 of loss) keeps
  variants whose seeds agree to 0.001 from flagging noise; chaotic ones (raw pixels, lr 0.1) get
  a band as wide as their own seed scatter. K = 3 keeps false alarms rare over ~60 comparisons.
* claims: an asserted claim that PASSed and now FAILs is REGRESSED (FAIL -> PASS: IMPROVED). A
  reported claim that flips is CHANGED, never a failure: it is reported because it is not robust.
* training time: pytest-benchmark's mean (benchmark.json) when both runs have one, else
  ``duration_s``; like ``--benchmark-compare-fail=mean:25%``, REGRESSED when more than 25% slower.
  Compared only with a run of the same machine (device type, CPU model and count, GPU model):
  on another one a slow-down says nothing about the code.

NEW: not in the baseline. MISSING: in the baseline, not in this run; not a failure by itself, as
pytest's own exit status already reports a case that crashed.
"""

from suite.regress.compare import TOLERANCE, check, compare, nightly
from suite.regress.history import Run, history_runs, load_run, store

__all__ = ["TOLERANCE", "Run", "check", "compare", "history_runs", "load_run", "nightly", "store"]
