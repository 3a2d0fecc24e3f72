"""Every reader of a stored file either works or says what is wrong in one line and exits 2, on any file.

Hypothesis takes real files (the ci-sample's results.json, a flake file of a calibration archive),
changes them at random places (a key deleted, a value replaced by NaN, an infinity, 1e308, a
negative number, another type, a huge string or an empty container, a key added), and hands them
to each reader as a user would: the report's, the nightly's and the flake measurement's
``main(argv)`` in-process, and the merge of pytest-xdist workers' files. None may raise; each
returns 0 (or the nightly's 1, "regressed"), or 2 with exactly one line on stderr.

The report's figures take seconds each: the bulk of the examples stub the drawing (not the data
the figures are drawn from) and the PDF step; a few examples draw a one-ablation file for real.
"""

from __future__ import annotations

import contextlib
import copy
import io
import math
import re
import shutil
import tarfile
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from suite.store.files import BENCHMARK_FILE, RESULTS_FILE, atomic_write_json, read_json
from tests.helpers import REPO, SAMPLE

FLAKE_ARCHIVE = REPO / "docs" / "calibration" / "ci-cpu-base100-119.tgz"
FLAKE_FILES = ("runs/ci-b100-scaling.json", "runs/ci-b101-batch_norm.json", "runs/ci-b102-l2.json")
ODD_VALUES = [
    *(math.nan, math.inf, -math.inf, 1e308, -1e308, -1, 0, 2, 10**30, 0.5),
    *(True, None, "", "nan", "x" * 100_000, [], {}, [None], {"": None}, ["x"], {"seed": -1}),
]
ABLATION = st.sampled_from([None, "scaling", "batch_size", "l1", "batch_norm"])  # to leave unjudged
FUZZ = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,  # the examples are drawn afresh each run; a failure prints its own
)


def places(data, path: tuple = ()) -> list[tuple]:
    """Every place in DATA as a path of keys and indices; of a list, its first and last items only,
    and of the histograms only their top (half the sample's places: they would crowd out the rest)."""
    found = [path]
    if path and path[-1] in ("parameters", "activations"):
        return found
    if isinstance(data, dict):
        items = list(data.items())
    elif isinstance(data, list) and data:
        items = [(i, data[i]) for i in sorted({0, len(data) - 1})]
    else:
        items = []
    for key, value in items:
        found += places(value, (*path, key))
    return found


def unjudged(data, name):
    """DATA with ablation NAME as a run killed between its last variant and its verdicts leaves it."""
    entry = data.get("ablations", {}).get(name) if isinstance(data, dict) else None
    if isinstance(entry, dict):
        entry["verdicts"], entry["status"] = [], "running"
    return data


def mutations(data) -> st.SearchStrategy:
    """One to three changes of DATA: (place, what, value, a new key's name)."""
    one = st.tuples(
        st.sampled_from(places(data)),
        st.sampled_from(["delete", "replace", "add"]),
        st.one_of(st.sampled_from(ODD_VALUES), st.integers(), st.floats(), st.text(max_size=8)),
        st.text(min_size=1, max_size=8),
    )
    return st.lists(one, min_size=1, max_size=3)


def mutated(data, changes: list) -> object:
    data = copy.deepcopy(data)
    for path, what, value, new_key in changes:
        value = copy.deepcopy(value)  # ODD_VALUES' containers are shared between examples
        if not path:
            data = value if what == "replace" else data
            continue
        parent = data
        for step in path[:-1]:
            try:
                parent = parent[step]
            except (KeyError, IndexError, TypeError):  # an earlier change moved this place
                break
        else:
            key = path[-1]
            if not isinstance(parent, (dict, list)) or (isinstance(parent, list) and key >= len(parent)):
                continue
            if isinstance(parent, dict) and key not in parent:
                continue
            if what == "delete":
                del parent[key]
            elif what == "replace":
                parent[key] = value
            elif isinstance(parent[key], dict):
                parent[key][new_key] = value
            elif isinstance(parent[key], list):
                parent[key].append(value)
            else:
                parent[key] = value
    return data


def answered(main, argv: list[str], ok=(0,)) -> None:
    """MAIN(ARGV) returned an exit status in OK with nothing on stderr but one-line warnings (the
    nightly skips a stored file it cannot read, saying so), or 2 with one line there."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            status = main(argv)
        except SystemExit as exc:  # argparse's own errors exit 2 with a usage line
            status = exc.code
    lines = err.getvalue().splitlines()
    assert "Traceback" not in err.getvalue()
    warned = all(": warning: " in line for line in lines)
    assert (status in ok and warned) or (status == 2 and len(lines) == 1), (status, lines[:5])
    return status


def diverged(data) -> bool:
    """Whether any run in DATA is recorded as diverged (its losses may then be infinite)."""
    if isinstance(data, dict):
        return data.get("diverged_epoch") is not None or any(map(diverged, data.values()))
    return isinstance(data, list) and any(map(diverged, data))


@pytest.fixture(scope="module")
def sample() -> dict:
    return read_json(SAMPLE / RESULTS_FILE)


@pytest.fixture(scope="module")
def flake_files(tmp_path_factory) -> dict[str, object]:
    folder = tmp_path_factory.mktemp("flake")
    with tarfile.open(FLAKE_ARCHIVE) as tar:
        tar.extractall(folder, members=[tar.getmember(name) for name in FLAKE_FILES], filter="data")
    return {name: read_json(folder / name) for name in FLAKE_FILES}


def write_run(folder: Path, data) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_json(folder / RESULTS_FILE, data)
    shutil.copy(SAMPLE / BENCHMARK_FILE, folder / BENCHMARK_FILE)
    return folder


@pytest.fixture(scope="module")
def drawing_stubbed():
    """The report without drawing figures or printing the PDF: what they are drawn from is still built."""
    import weasyprint

    from suite.report import plots

    class NoPDF:
        def __init__(self, **_):
            pass

        def write_pdf(self) -> bytes:
            return b"%PDF-stub"

    with pytest.MonkeyPatch.context() as patch:
        for name in ("curves", "learning_rate", "parameters", "activations"):
            patch.setattr(plots, name, lambda section: "")
        patch.setattr(weasyprint, "HTML", NoPDF)
        yield


@FUZZ
@given(data=st.data())
def test_the_report_works_or_says_why_in_one_line(sample, drawing_stubbed, data):
    from suite.report.__main__ import main

    changed = mutated(unjudged(copy.deepcopy(sample), data.draw(ABLATION)), data.draw(mutations(sample)))
    with tempfile.TemporaryDirectory() as scratch:
        folder, out = write_run(Path(scratch) / "run", changed), Path(scratch) / "out"
        if answered(main, [str(folder), "--out", str(out)]) == 0 and not diverged(changed):
            cells = re.findall(r"<td>([^<]*)</td>", (out / "report.html").read_text())
            assert not [c for c in cells if re.search(r"∞|\bnan\b|\binf\b", c)]  # no run diverged


@settings(FUZZ, max_examples=6)
@given(data=st.data())
def test_the_report_draws_its_figures_or_says_why_in_one_line(sample, data):
    from suite.report.content import build
    from suite.report.document import html
    from suite.store.files import ResultsError

    one = {**sample, "ablations": {"l1": sample["ablations"]["l1"]}, "extras": {}}
    changed = mutated(one, data.draw(mutations(one)))
    with tempfile.TemporaryDirectory() as scratch:
        folder = write_run(Path(scratch) / "run", changed)
        said = ""
        try:
            html(build(folder))
        except ResultsError as exc:  # the one error a reader may give: one line
            said = str(exc)
        assert "\n" not in said


@pytest.mark.parametrize("role", ["current", "baseline"])
@FUZZ
@given(data=st.data())
def test_the_nightly_works_or_says_why_in_one_line(sample, role, data):
    from suite.regress.__main__ import main

    changed = mutated(unjudged(copy.deepcopy(sample), data.draw(ABLATION)), data.draw(mutations(sample)))
    baseline = {**sample, "run_id": "baseline", "started": "2026-01-01T00:00:00+00:00"}
    with tempfile.TemporaryDirectory() as scratch:
        history, current = Path(scratch) / "history", Path(scratch) / "current"
        if role == "current":
            write_run(history / "baseline", baseline)
            write_run(current, changed)
        else:
            write_run(history / "baseline", mutated(baseline, data.draw(mutations(baseline))))
            write_run(current, sample)
        compared = Path(scratch) / "regress.json"
        if answered(main, [str(current), "--history", str(history), "--json", str(compared)], ok=(0, 1)) != 2:
            # never an accuracy no run can have (a claim's statistic row is a difference of them,
            # and NaN where both runs of a seed diverged: not an accuracy)
            for row in read_json(compared)["rows"]:
                for value in (row["baseline"], row["current"]):
                    if row["kind"] == "metric" and row.get("metric") in ("val_acc", "train_acc") and value is not None:
                        assert 0 <= value <= 1, row


@pytest.mark.parametrize("mode", ["--rejudge", "--estimate"])
@FUZZ
@given(data=st.data())
def test_the_flake_readers_work_or_say_why_in_one_line(flake_files, mode, data):
    from suite.flake.cli import main

    original = flake_files[data.draw(st.sampled_from(FLAKE_FILES))]
    changed = mutated(original, data.draw(mutations(original)))
    with tempfile.TemporaryDirectory() as scratch:
        atomic_write_json(Path(scratch) / "ci-b100-any.json", changed)
        answered(main, [mode, scratch])


@FUZZ
@given(data=st.data())
def test_merging_a_workers_file_keeps_a_readable_run(sample, data):
    from suite.harness.run import RunSession
    from suite.spec.profiles import PROFILES
    from suite.store.records import RunStatus
    from suite.store.results import load_run

    worker = {**sample, "worker_id": "gw0", "status": "running"}
    changed = mutated(worker, data.draw(mutations(worker)))
    with tempfile.TemporaryDirectory() as scratch:
        run_dir = Path(scratch) / "run"
        atomic_write_json(run_dir / "workers" / "gw0.json", changed)
        run = RunSession(
            profile=PROFILES["ci"], device="cpu", seeds=2, base_seed=0, data_dir=None, run_dir=run_dir, command=[]
        )
        run.claim_folder()
        try:
            run.expect(["scaling"])
            assert run.settle(0)
        finally:
            run.release_folder()
        stored = load_run(run_dir)  # whatever the worker wrote, the run's own file stays readable
        assert stored.status in (RunStatus.COMPLETE, RunStatus.ERROR)
        assert stored.status == RunStatus.COMPLETE or "\n" not in stored.error
