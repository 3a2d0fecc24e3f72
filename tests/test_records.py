"""The stored records: every archived results-shaped file in the repository loads through them and
is written back unchanged, and the one rule that fails an ablation is the one the report uses."""

import copy
import tarfile
from pathlib import Path

import pytest

from suite.harness.run import RunSession
from suite.report.content import judge_unjudged
from suite.spec.claims import Verdict
from suite.spec.profiles import PROFILES
from suite.store.files import RESULTS_FILE, ResultsError, atomic_write_json, read_json
from suite.store.records import AblationEntry, AblationStatus, Outcome, RunResults
from suite.store.results import load_run
from suite.store.run_records import FlakeRecord
from tests.helpers import REPO

SAMPLE = REPO / "tests" / "data" / "ci-sample" / RESULTS_FILE
ARCHIVES = sorted((REPO / "docs").glob("calibration/*.tgz")) + sorted((REPO / "docs").glob("runs/*.tgz"))


def _as_written(data, path: Path) -> bytes:
    """DATA as the suite writes it (NaN as strings, its indentation): compares NaN and key order too."""
    atomic_write_json(path, data)
    return path.read_bytes()


def _round_trips(path: Path, record_type, place, scratch: Path) -> None:
    data = read_json(path)
    record = record_type.from_json(copy.deepcopy(data), place)
    assert _as_written(record.to_json(), scratch / "again.json") == _as_written(data, scratch / "read.json"), path


def test_the_ci_sample_round_trips(tmp_path):
    _round_trips(SAMPLE, RunResults, SAMPLE, tmp_path)


@pytest.mark.parametrize("archive", ARCHIVES, ids=[p.name for p in ARCHIVES])
def test_every_archived_file_round_trips(tmp_path, archive):
    folder = tmp_path / "archive"
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    files = sorted(p for p in folder.rglob("*.json") if p.name != "benchmark.json")
    assert files, f"{archive} holds no results-shaped file"
    for path in files:
        if path.name == RESULTS_FILE:  # a whole run folder (docs/runs)
            _round_trips(path, RunResults, path, tmp_path)
        else:  # one (base seed, ablation) of the flake measurement (docs/calibration)
            _round_trips(path, FlakeRecord, "", tmp_path)


def test_a_record_built_now_writes_every_key_it_has_today(tmp_path):
    entry = AblationEntry.planned("scaling", "ci")
    assert list(entry.to_json()) == [
        "title",
        "question",
        "book_note",
        "order",
        "status",
        "error",
        "variants",
        "claims",
        "verdicts",
        "duration_s",
    ]
    stored = read_json(SAMPLE)["ablations"]["scaling"]
    assert entry.order == stored["order"] and entry.to_json()["status"] == "not run"


def test_an_older_file_keeps_its_missing_keys_missing():
    data = read_json(SAMPLE)
    assert "worker_id" not in data and "stack" not in data["ablations"]["scaling"]["variants"]["raw"]
    run = RunResults.from_json(copy.deepcopy(data), SAMPLE)
    again = run.to_json()
    assert "worker_id" not in again and "stack" not in again["ablations"]["scaling"]["variants"]["raw"]
    run.error = "filled in"  # a value set after loading is written, absent or not
    assert run.to_json()["error"] == "filled in"


def _verdict(outcome: str, asserted: bool = True) -> Verdict:
    return Verdict("a claim", asserted, outcome, "val_acc(b) - val_acc(a)", ">= 0", [0.1], 0.1, 0.0, [0], "")


@pytest.mark.parametrize(
    ("outcomes", "status"),
    [
        (["PASS", "PASS"], AblationStatus.PASSED),
        (["PASS", "NOT REPRODUCED"], AblationStatus.PASSED),  # a reported claim never fails its ablation
        (["REPRODUCED", "FAIL"], AblationStatus.FAILED),
    ],
)
def test_an_ablation_fails_when_an_asserted_claim_fails(outcomes, status):
    entry = AblationEntry.planned("scaling", "ci")
    entry.record_verdicts([_verdict(o, o in ("PASS", "FAIL")) for o in outcomes])
    assert entry.status == status == AblationEntry.outcome_status(entry.verdicts)
    assert [v.outcome for v in entry.verdicts] == [Outcome(o) for o in outcomes]
    errored = AblationEntry.planned("scaling", "ci")
    errored.status = AblationStatus.ERROR
    errored.record_verdicts([_verdict(o) for o in outcomes])
    assert errored.status == AblationStatus.ERROR  # an error stays the ablation's status


def test_the_report_judges_an_unjudged_entry_as_the_run_session_does(tmp_path):
    """An ablation stopped between its last variant and its judging: the report fills its verdicts
    in with the rule the session uses, and both reach the status the sample stored."""
    sample = load_run(SAMPLE)
    for name, stored in sample.ablations.items():
        if not stored.verdicts:
            continue
        unjudged = copy.deepcopy(sample)
        unjudged.ablations[name].verdicts, unjudged.ablations[name].status = [], AblationStatus.RUNNING
        report = copy.deepcopy(unjudged)
        judge_unjudged(report)
        session = RunSession(
            profile=PROFILES[sample.profile["name"]],
            device="cpu",
            seeds=len(sample.seeds),
            base_seed=sample.base_seed,
            data_dir=None,
            run_dir=tmp_path / "unused",
            command=[],
        )
        session.results = copy.deepcopy(unjudged)
        session.judge(name)  # every variant is stored: judges without training
        judged = session.results.ablations[name]
        assert judged.status == report.ablations[name].status == stored.status, name
        # the session judges with today's claims, the report with the file's (their texts may differ)
        assert [v.outcome for v in judged.verdicts] == [v.outcome for v in report.ablations[name].verdicts], name


def test_a_damaged_flake_file_names_its_place(tmp_path):
    from suite.flake.measure import load_flake_file

    with tarfile.open(ARCHIVES[0]) as tar:
        tar.extractall(tmp_path, filter="data")
    path = sorted(tmp_path.rglob("*.json"))[0]
    data = read_json(path)
    variant = next(iter(data["runs"]))
    data["runs"][variant][0]["seed"] = "0"
    atomic_write_json(path, data)
    place = rf"runs\.{variant}\[0\]\.seed"
    with pytest.raises(ResultsError, match=rf"malformed flake file .*: {place}: expected an integer"):
        load_flake_file(path)
