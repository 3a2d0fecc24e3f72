"""Tests of the flake-rate tool (suite.flake) on the per-seed runs checked in under docs/calibration.

    pytest tests/test_flake.py

Re-judging the stored runs also keeps docs/flake-rate.md honest: if a claim's bound or statistic
changes so that a stored run no longer passes, the test below names the claim.
"""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path

import pytest

from suite.flake.cli import main, parse_range

ROOT = Path(__file__).resolve().parent.parent
ARCHIVES = sorted((ROOT / "docs" / "calibration").glob("*.tgz"))


@pytest.fixture(scope="module", params=[a.name for a in ARCHIVES])
def stored_runs(request, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp(request.param.split(".")[0])
    with tarfile.open(ROOT / "docs" / "calibration" / request.param) as archive:
        archive.extractall(folder, filter="data")
    return folder / "runs"


def rows(text: str) -> list[list[str]]:
    return [line.strip("| ").split(" | ") for line in text.splitlines()[2:]]


def test_parse_range():
    assert parse_range("3-5") == [3, 4, 5]
    assert parse_range("0,3,7") == [0, 3, 7]


def test_no_stored_run_gives_a_wrong_asserted_verdict(stored_runs, capsys):
    assert main(["--rejudge", str(stored_runs)]) == 0
    table = rows(capsys.readouterr().out)
    asserted = [row for row in table if row[2] == "asserted"]
    assert asserted, "an archive judges at least one asserted claim"
    for ablation, claim, _, bound, verdicts, wrong, _ in asserted:
        assert wrong.startswith("0 / "), f"{ablation}: {claim} ({bound}) now gives {verdicts}"


def test_median_of_an_even_count_is_the_mean_of_the_middle_two(tmp_path, capsys):
    source = ROOT / "docs" / "calibration" / "ci-cpu-base100-119.tgz"
    with tarfile.open(source) as archive:
        members = [m for m in archive.getmembers() if m.name.endswith(("b100-dropout.json", "b101-dropout.json"))]
        archive.extractall(tmp_path, members=members, filter="data")
    assert main(["--rejudge", str(tmp_path / "runs")]) == 0
    low, median, high = (float(v) for v in rows(capsys.readouterr().out)[0][-1].split(", "))
    assert low < high
    assert median == pytest.approx((low + high) / 2, rel=1e-3)


def test_runs_of_two_profiles_are_not_mixed(stored_runs, tmp_path, capsys):
    first = sorted(stored_runs.glob("*.json"))[0]
    data = json.loads(first.read_text())
    other = "book" if data["profile"] == "ci" else "ci"
    shutil.copy(first, tmp_path / first.name)
    (tmp_path / f"other-{first.name}").write_text(json.dumps(dict(data, profile=other)))
    assert main(["--rejudge", str(tmp_path)]) == 2
    assert "pass --profile" in capsys.readouterr().err
    assert main(["--rejudge", str(tmp_path), "--profile", other]) == 0
    assert rows(capsys.readouterr().out)[0][-2].endswith("/ 1")


@pytest.mark.parametrize("content", ["{", '{"a": 1}', "[]"])
def test_a_malformed_file_is_named_in_one_line(tmp_path, capsys, content):
    (tmp_path / "ci-b000-scaling.json").write_text(content)
    assert main(["--rejudge", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ci-b000-scaling.json" in err


def test_an_empty_folder_says_so(tmp_path, capsys):
    assert main(["--rejudge", str(tmp_path)]) == 2
    assert "no flake files" in capsys.readouterr().err
