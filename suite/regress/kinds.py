"""The kinds of the nightly comparison's rows and notes, as regress.json writes them.

    from suite.regress.kinds import NoteKind, RowKind
    [row for row in report["rows"] if row["kind"] == RowKind.CLAIM]

A row or note carries its kind and its subject as data (a metric, a claim's text, an ablation's
name) beside any human text, so a reader (the report's "Since the baseline" section) never parses
the text, and rewording a note changes no report. Plain strings: JSON writes them as they are.
"""

from __future__ import annotations


class RowKind:
    METRIC = "metric"  # a final metric's mean over seeds: ``metric`` names it
    TIME = "time"  # a variant's training time against the same machine's run: ``metric`` is time_s
    CLAIM = "claim"  # a claim's verdict: ``claim`` is its text


class NoteKind:
    ABLATION_MISSING = "ablation_missing"  # ``ablation``: in the baseline, not selected in this run
    TIME_NOT_COMPARED = "time_not_compared"  # no earlier run of this profile on this machine
    NOT_STORED = "not_stored"  # ``run_id``, ``status``, ``error``: the run was not kept as a baseline
