"""Atomic writes and loading results files, including the broken ones."""

import json
import math

import pytest

from suite import results
from suite.results import ResultsError, atomic_write_json, load_results, read_json


def test_atomic_write_never_leaves_a_partial_file(tmp_path, monkeypatch):
    path = tmp_path / "results.json"
    atomic_write_json(path, {"version": 1})

    def crash(obj, stream, **kwargs):
        stream.write('{"version": 2, "trunc')
        raise KeyboardInterrupt

    monkeypatch.setattr(results.json, "dump", crash)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_json(path, {"version": 2})
    assert json.loads(path.read_text()) == {"version": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]  # no temporary file left


def test_non_finite_numbers_round_trip(tmp_path):
    path = tmp_path / "r.json"
    atomic_write_json(path, {"loss": [1.0, math.nan, math.inf], "nested": {"x": -math.inf}})
    json.loads(path.read_text())  # strict JSON: no NaN literals
    back = read_json(path)
    assert math.isnan(back["loss"][1]) and back["loss"][2] == math.inf and back["nested"]["x"] == -math.inf


@pytest.mark.parametrize("content, expected", [
    (None, "no results file at"),
    ("{not json", "malformed results file"),
    ("[1, 2]", "expected a JSON object"),
    ('{"schema": 1}', "missing run_id"),
])
def test_bad_results_files_give_one_line_naming_the_file(tmp_path, content, expected):
    path = tmp_path / "results.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ResultsError) as exc:
        load_results(tmp_path)
    assert expected in str(exc.value) and str(path) in str(exc.value) and "\n" not in str(exc.value)
