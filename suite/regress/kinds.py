"""The kinds of the nightly comparison's rows, notes and findings, as regress.json writes them.

    from suite.regress.kinds import FindingKind, NoteKind, RowKind
    [row for row in report["rows"] if row["kind"] == RowKind.CLAIM]

A row, note or finding carries its kind and its subject as data (a metric, a claim's text, an
ablation's name) beside any human text, so a reader (the report's "Since the baseline" section)
never parses the text, and rewording a note changes no report. Plain strings: JSON writes them as
they are.
"""

from __future__ import annotations


class RowKind:
    METRIC = "metric"  # a final metric's per-seed values: ``metric`` names it
    STATISTIC = "statistic"  # a claim's per-seed statistic: ``claim`` is its text, ``metric`` what it reads
    TIME = "time"  # a variant's training cost per run-step against the same machine's nights: ``metric`` is step_us
    CLAIM = "claim"  # a claim's verdict: ``claim`` is its text


class NoteKind:
    ABLATION_MISSING = "ablation_missing"  # ``ablation``: in the baseline, not selected in this run
    TIME_NOT_COMPARED = "time_not_compared"  # ``reason``: loaded, served, no_baseline
    NOT_STORED = "not_stored"  # ``run_id``, ``status``, ``error``: the run was not kept as a baseline
    SKIPPED_FILE = "skipped_file"  # ``path``: a history file of another schema, not read
    ENVIRONMENT = "environment"  # ``differences``: the environment changed, values compared statistically


class FindingKind:
    """What the verdict line reports first, in this order; ``fails`` says whether it fails the night."""

    INCOMPLETE = "incomplete"  # ``status``, ``error``: tonight's run did not complete (fails the night)
    CHANGED_SAME_ENVIRONMENT = "changed_same_environment"  # ``first``: the first value that moved; ``count``
    REGRESSED = "regressed"  # a row beyond noise in the bad direction: ``row`` is its index in rows
    SHIFTED = "shifted"  # beyond noise in a direction that is not worse (IMPROVED, SHIFTED)
    CHANGED = "changed"  # a reported claim flipped
    ACCEPTED = "accepted"  # ``reason``: the failures above were accepted as intended


class Verdict:
    PASS = "pass"
    FAIL = "fail"
    ACCEPTED = "accepted"  # failed, and accepted with --accept: stored as the new baseline
    FIRST = "first"  # no baseline: nothing to compare
