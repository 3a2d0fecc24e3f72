"""The pytest plugin end to end, through pytester: results files, bad input, interruptions."""

import json

import pytest

from suite.store.files import read_json
from suite.store.results import load_results
from tests.helpers import REPO

pytestmark = [pytest.mark.dataset, pytest.mark.subprocess]  # pytest runs the suite in a child process
CASES = ["--pyargs", "suite.cases.test_chapter3"]


@pytest.fixture
def suite_run(pytester, monkeypatch, tmp_path):
    """Runs pytest in a subprocess with the plugin, the real dataset and 1 seed; results in tmp_path."""
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.delenv("CI", raising=False)

    def run(*args):
        return pytester.runpytest_subprocess(
            "-p",
            "suite.harness.plugin",
            "--ablation-seeds",
            "1",
            "--ablation-out",
            str(tmp_path / "reports"),
            "--ablation-run-id",
            "r1",
            *args,
        )

    return run


def test_a_run_writes_a_complete_results_file(suite_run, tmp_path):
    result = suite_run(*CASES, "-k", "batch_size")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*ablation verdicts*", "PASS*batch_size: Batch 32 is far ahead*"])
    results = load_results(tmp_path / "reports" / "r1")
    assert results["status"] == "complete" and results["profile"]["name"] == "ci"
    assert results["seeds"] == [0] and results["device"] == "cpu"
    assert {"python", "torch", "cpu", "git_commit", "git_dirty"} <= set(results["machine"])
    entry = results["ablations"]["batch_size"]
    assert entry["status"] == "passed" and [v["outcome"] for v in entry["verdicts"]] == ["PASS", "PASS"]
    run = entry["variants"]["b32"]["runs"][0]
    assert len(run["history"]["val_acc"]) == 3 and run["diverged_epoch"] is None
    assert (
        set(run["parameters"]) == {"layer1", "layer2"}
        and sum(run["parameters"]["layer1"]["weight"]["counts"]) == 784_000
    )
    bench = json.loads((tmp_path / "reports" / "r1" / "benchmark.json").read_text())
    assert sorted(b["extra_info"]["variant"] for b in bench["benchmarks"]) == ["b10000", "b32"]


def test_collect_only_shows_selectable_ids(suite_run):
    result = suite_run(*CASES, "--collect-only", "-q", "-k", "batch_norm")
    result.stdout.fnmatch_lines(
        [
            "*test_variant[[]batch_norm-no_bn[]]",
            "*test_variant[[]batch_norm-bn[]]",
            "*test_variant[[]batch_norm-bn_book_slip[]]",
            "*test_claims[[]batch_norm[]]",
            "4/* tests collected*",
        ]
    )


def test_a_failed_claim_states_the_claim_and_the_numbers(suite_run, pytester):
    pytester.makeconftest("""
        import dataclasses
        from suite.spec.chapter3 import ABLATIONS
        from suite.spec.claims import Claim
        ABLATIONS["batch_size"] = dataclasses.replace(ABLATIONS["batch_size"], claims=(
            Claim("Batch 32 wins by 99 points", "val_acc", "b32", "b10000", at_least=0.99, why="test"),))
    """)
    result = suite_run(*CASES, "-k", "test_claims and batch_size")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*FAIL: Batch 32 wins by 99 points - expected mean val_acc(b32) - "
            "val_acc(b10000) at the last epoch >= 0.99; measured * over 1 seeds [[]*[]]*"
        ]
    )


def test_a_reported_claim_not_reproduced_warns_and_never_fails(suite_run, pytester, tmp_path):
    """One seed gives no spread, so the claim is INCONCLUSIVE however far off it is (an
    ``Inconclusive`` warning, a kind of ``NotReproduced``)."""
    pytester.makeconftest("""
        import dataclasses
        from suite.spec.chapter3 import ABLATIONS
        from suite.spec.claims import Claim
        ABLATIONS["batch_size"] = dataclasses.replace(ABLATIONS["batch_size"], claims=(
            Claim("Batch 32 wins by 99 points", "val_acc", "b32", "b10000", at_least=0.99, asserted=False,
                  why="test"),))
    """)
    result = suite_run(*CASES, "-k", "test_claims and batch_size")
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*Inconclusive: batch_size: INCONCLUSIVE: Batch 32 wins by 99 points*seed-to-seed spread*",
            "INCONCLUSIVE*batch_size: Batch 32 wins by 99 points*seed-to-seed spread*",
        ]
    )
    assert load_results(tmp_path / "reports" / "r1")["ablations"]["batch_size"]["status"] == "passed"


def test_an_interrupted_run_keeps_what_it_finished(suite_run, pytester, tmp_path):
    pytester.makepyfile(
        test_stop="""
        import pytest

        @pytest.mark.ablation("batch_size")
        def test_train(train_variant):
            train_variant("batch_size", "b10000")

        def test_stop():
            raise KeyboardInterrupt
    """
    )
    result = suite_run("test_stop.py")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    results = load_results(tmp_path / "reports" / "r1")
    assert results["status"] == "interrupted" and results["finished"]
    assert list(results["ablations"]["batch_size"]["variants"]) == ["b10000"]
    assert results["ablations"]["batch_size"]["status"] == "interrupted"


def test_missing_data_is_one_line_and_a_nonzero_exit(suite_run, tmp_path):
    result = suite_run(*CASES, "-k", "scaling", "--ablation-data-dir", str(tmp_path / "nowhere"))
    assert result.ret == 3
    result.stdout.fnmatch_lines(["*ablation suite cannot start: dataset folder */nowhere does not exist;*"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_cuda_asked_for_without_cuda_fails_at_once(suite_run):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    result = suite_run(*CASES, "--ablation-device", "cuda")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --ablation-device cuda was asked for, but torch sees no CUDA device*"])
    assert "Traceback" not in result.stderr.str()


def test_xdist_workers_merge_into_one_results_file(suite_run, tmp_path):
    pytest.importorskip("xdist")
    result = suite_run(*CASES, "-n", "2", "-k", "batch_size or scaling", "-p", "no:randomly")
    result.assert_outcomes(passed=6)
    results = load_results(tmp_path / "reports" / "r1")
    assert results["status"] == "complete" and sorted(results["workers"]) == ["gw0", "gw1"]
    for name in ("batch_size", "scaling"):
        entry = results["ablations"][name]
        assert entry["status"] == "passed" and len(entry["variants"]) == 2
        # Timing lands in the results even though pytest-benchmark is off under xdist.
        assert all(v["duration_s"] > 0 for v in entry["variants"].values())
    # How busy the machine was is the workers' threads' time, summed: the controller trained nothing.
    workers = [read_json(path) for path in sorted((tmp_path / "reports" / "r1" / "workers").glob("*.json"))]
    for when in ("load_start", "load_end"):
        for key in ("run_s", "wait_s"):
            merged = results["machine"][when][key]
            assert merged == pytest.approx(sum(w["machine"][when][key] for w in workers)), (when, key)
    ran = results["machine"]["load_end"]["run_s"] - results["machine"]["load_start"]["run_s"]
    assert ran > 1.0, "the workers trained for more than a second of CPU time"


def test_nightly_compare_fails_the_run_on_a_regression(suite_run, tmp_path):
    from suite.store.files import atomic_write_json

    first = suite_run(*CASES, "-k", "scaling")
    first.assert_outcomes(passed=3)
    baseline = load_results(tmp_path / "reports" / "r1")
    baseline["run_id"], baseline["started"] = "yesterday", "2000-01-01T00:00:00+00:00"
    for run in baseline["ablations"]["scaling"]["variants"]["scaled"]["runs"]:
        run["history"]["val_acc"][-1] += 0.10  # yesterday was 10 points better: today regressed
    atomic_write_json(tmp_path / "history" / "ci-cpu" / "yesterday" / "results.json", baseline)
    second = suite_run(
        *CASES, "-k", "scaling", "--ablation-run-id", "r2", "--ablation-compare", str(tmp_path / "history")
    )
    assert second.ret == pytest.ExitCode.TESTS_FAILED
    second.stdout.fnmatch_lines(["*since the baseline*", "*scaling*scaled*val_acc*REGRESSED*"])
