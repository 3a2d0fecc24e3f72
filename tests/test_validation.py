"""Every reader of a results file gets the same checks: one line naming the file and the place."""

import copy
import json

import pytest

from suite.regress.__main__ import main as regress_main
from suite.report.__main__ import main as report_main
from suite.store.files import ResultsError, atomic_write_json, read_json
from suite.store.results import load_results
from tests.helpers import REPO

SAMPLE = REPO / "tests" / "data" / "ci-sample" / "results.json"


@pytest.fixture(scope="module")
def sample() -> dict:
    return read_json(SAMPLE)


def _drop_variant(data):
    del data["ablations"]["scaling"]["variants"]["raw"]


def _no_variants(data):
    data["ablations"]["scaling"]["variants"] = {}


def _empty_runs(data):
    data["ablations"]["scaling"]["variants"]["raw"]["runs"] = []


def _seed_missing(data):
    data["ablations"]["scaling"]["variants"]["raw"]["runs"].pop()


def _history_not_list(data):
    data["ablations"]["scaling"]["variants"]["raw"]["runs"][0]["history"]["val_acc"] = "0.8"


def _ragged_history(data):
    data["ablations"]["scaling"]["variants"]["raw"]["runs"][0]["history"]["val_loss"].pop()


def _too_many_epochs(data):
    history = data["ablations"]["scaling"]["variants"]["raw"]["runs"][0]["history"]
    for curve in history.values():
        curve.extend(curve[:20])


def _unknown_outcome(data):
    data["ablations"]["scaling"]["verdicts"][0]["outcome"] = "MAYBE"


def _verdict_unknown_claim(data):
    data["ablations"]["scaling"]["verdicts"][0]["claim"] = "something else"


def _passed_without_verdicts(data):
    data["ablations"]["scaling"]["verdicts"] = []


def _bad_run_status(data):
    data["status"] = "finished"


def _bad_ablation_status(data):
    data["ablations"]["scaling"]["status"] = "ok"


def _seed_not_int(data):
    data["seeds"][0] = "0"


def _boolean_number(data):
    data["ablations"]["scaling"]["verdicts"][0]["mean"] = True


def _per_seed_count(data):
    data["ablations"]["scaling"]["verdicts"][0]["per_seed"].pop()


def _ablations_list(data):
    data["ablations"] = []


def _scaled_run(data, seed=0):
    return data["ablations"]["scaling"]["variants"]["scaled"]["runs"][seed]


def _accuracy(value):
    def damage(data):
        _scaled_run(data)["history"]["val_acc"][-1] = value

    return damage


def _infinite_loss_without_divergence(data):
    _scaled_run(data)["history"]["val_loss"][-1] = float("inf")


def _infinite_loss_of_a_diverged_run(data):  # loads: divergence is what makes a loss infinite
    _scaled_run(data)["history"]["train_loss"][-1] = float("nan")
    _scaled_run(data)["diverged_epoch"] = 3


def _negative_diverged_epoch(data):
    _scaled_run(data)["diverged_epoch"] = -1


def _diverged_before_the_history_ends(data):
    _scaled_run(data)["diverged_epoch"] = 2


def _short_history(data):
    for curve in _scaled_run(data)["history"].values():
        curve.pop()


def _claim_epoch(value):
    def damage(data):
        data["ablations"]["batch_size"]["claims"][0]["epoch"] = value

    return damage


def _unknown_claim_key(data):
    data["ablations"]["scaling"]["claims"][0]["tolerance"] = 0.1


def _unknown_run_key(data):
    _scaled_run(data)["diverged_epch"] = None


def _curve_named_across_two_lines(data):
    _scaled_run(data)["history"]["val\nacc"] = 0.5  # found by the readers' fuzz: two lines of error


def _weight_missing_where_a_claim_reads_it(data):
    del data["ablations"]["l1"]["variants"]["l1"]["runs"][0]["weight_abs_mean"]


def _reported_claim_passes(data):
    data["ablations"]["scaling"]["verdicts"][0]["asserted"] = False


@pytest.mark.parametrize(
    ("damage", "place", "problem"),
    [
        (_drop_variant, "ablations.scaling.verdicts[0]", "rests on variant 'raw', which has no runs"),
        (_no_variants, "ablations.scaling.verdicts[0]", "rests on variant 'scaled', which has no runs"),
        (_empty_runs, "ablations.scaling.variants.raw.runs", "no runs"),
        (_seed_missing, "ablations.scaling.verdicts[0]", "seeds [1] that variant 'raw' has no runs for"),
        (_history_not_list, "ablations.scaling.variants.raw.runs[0].history.val_acc", "expected a list"),
        (_ragged_history, "ablations.scaling.variants.raw.runs[0].history", "curves of different lengths"),
        (_too_many_epochs, "ablations.scaling.variants.raw.runs[0].history", "more epochs recorded than"),
        (_unknown_outcome, "ablations.scaling.verdicts[0].outcome", "unknown outcome 'MAYBE'"),
        (_verdict_unknown_claim, "ablations.scaling.verdicts[0]", "a claim the entry does not list"),
        (_passed_without_verdicts, "ablations.scaling.status", "'passed' without any verdict"),
        (_bad_run_status, "status", "unknown run status 'finished'"),
        (_bad_ablation_status, "ablations.scaling.status", "unknown status 'ok'"),
        (_seed_not_int, "seeds[0]", "expected an integer seed, found str"),
        (_boolean_number, "ablations.scaling.verdicts[0].mean", "expected a number, found bool"),
        (_per_seed_count, "ablations.scaling.verdicts[0]", "1 per-seed values for 2 seeds"),
        (_ablations_list, "ablations", "expected an object of ablations, found list"),
        (_accuracy(float("nan")), "ablations.scaling.variants.scaled.runs[0].history.val_acc[2]", "nan is not finite"),
        (_accuracy(float("inf")), "ablations.scaling.variants.scaled.runs[0].history.val_acc[2]", "inf is not finite"),
        (_accuracy(1e308), "ablations.scaling.variants.scaled.runs[0].history.val_acc[2]", "outside [0, 1]"),
        (_accuracy(-0.1), "ablations.scaling.variants.scaled.runs[0].history.val_acc[2]", "outside [0, 1]"),
        (
            _infinite_loss_without_divergence,
            "ablations.scaling.variants.scaled.runs[0].history.val_loss[2]",
            "inf is not finite, and the run is not recorded as diverged",
        ),
        (_negative_diverged_epoch, "ablations.scaling.variants.scaled.runs[0].diverged_epoch", "-1 is less than 1"),
        (
            _diverged_before_the_history_ends,
            "ablations.scaling.variants.scaled.runs[0].diverged_epoch",
            "2, but the history stops at epoch 3",
        ),
        (_short_history, "ablations.scaling.variants.scaled.runs[0].history", "2 of the 3 configured epochs"),
        (_claim_epoch(-1), "ablations.batch_size.claims[0].epoch", "-1 is outside [1, 3]"),
        (_claim_epoch(4), "ablations.batch_size.claims[0].epoch", "4 is outside [1, 3]"),
        (_unknown_claim_key, "ablations.scaling.claims[0]", "unknown key 'tolerance'"),
        (_unknown_run_key, "ablations.scaling.variants.scaled.runs[0]", "unknown key 'diverged_epch'"),
        (_weight_missing_where_a_claim_reads_it, "ablations.l1.claims[1]", "cannot read weight_abs_mean"),
        (_curve_named_across_two_lines, "ablations.scaling.variants.scaled.runs[0].history.val\\nacc", "a list"),
        (_reported_claim_passes, "ablations.scaling.verdicts[0].outcome", "'PASS' for a reported claim"),
    ],
)
def test_a_malformed_file_is_one_line_naming_the_file_and_the_place(tmp_path, sample, damage, place, problem):
    data = copy.deepcopy(sample)
    damage(data)
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ResultsError) as exc:
        load_results(tmp_path)
    message = str(exc.value)
    assert message.startswith(f"malformed results file {path}: {place}: ") and problem in message, message
    assert "\n" not in message


def test_the_report_refuses_a_verdict_without_runs(tmp_path, sample, capsys):
    data = copy.deepcopy(sample)
    _drop_variant(data)
    (tmp_path / "results.json").write_text(json.dumps(data))
    assert report_main([str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "ablations.scaling.verdicts[0]" in err[0] and str(tmp_path) in err[0]
    assert not (tmp_path / "report.pdf").exists()


def test_a_diverged_run_may_have_infinite_losses(tmp_path, sample):
    data = copy.deepcopy(sample)
    _infinite_loss_of_a_diverged_run(data)
    atomic_write_json(tmp_path / "results.json", data)
    assert load_results(tmp_path)["ablations"]["scaling"]["variants"]["scaled"]["runs"][0]["diverged_epoch"] == 3


def test_the_nightly_refuses_an_impossible_accuracy_instead_of_calling_it_improved(tmp_path, sample, capsys):
    data = copy.deepcopy(sample)
    _accuracy(1e308)(data)
    atomic_write_json(tmp_path / "results.json", data)
    assert regress_main([str(tmp_path), "--history", str(SAMPLE.parent)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "history.val_acc[2]: 1e+308 is outside [0, 1]" in err[0], err
