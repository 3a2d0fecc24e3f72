"""Where stacks span ablations (CUDA), the session stores each variant the moment its runs end.

Checked on the CPU by letting the workbench stack runs there, on a few hundred random images
(tests/helpers.py's random_splits, which FAST_WORKBENCH sets for subprocess runs).
"""

from __future__ import annotations

import pytest

import suite.engine.workbench as workbench
from suite.harness.run import RunSession
from suite.spec.profiles import PROFILES
from suite.store.results import load_run
from tests.helpers import random_splits

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def session(tmp_path, monkeypatch):
    monkeypatch.setattr(workbench.Workbench, "splits", property(random_splits))
    monkeypatch.setitem(workbench.MAX_STACK, "cpu", 16)  # stack as CUDA does
    run = RunSession(
        profile=PROFILES["ci"], device="cpu", seeds=1, base_seed=0, data_dir=None, run_dir=tmp_path / "r", command=[]
    )
    run.claim_folder()
    run.expect(["scaling", "optimizer"])
    run.prepare()
    yield run
    run.release_folder()


def test_the_first_variant_stores_and_judges_every_ablation_its_stack_finished(session):
    raw = session.variant("scaling", "raw")
    stored = load_run(session.run_dir)  # on disk, before any other variant's test asked for it
    for name in ("scaling", "optimizer"):
        entry = stored.ablations[name]
        assert sorted(entry.variants) == sorted(session.results.ablations[name].variants)
        assert len(entry.variants) == 2 and entry.verdicts, name
    # the variant asked for keeps the charge for its own runs, and its wall time
    assert [run.stack.served for run in raw.runs] == ["trained"] and raw.runs[0].stack.share_s > 0
    assert raw.duration_s is not None and raw.duration_s > 0
    trained = len(session.workbench.stacks)
    adam = session.variant("optimizer", "adam")  # its test: served as stored, nothing trains
    assert len(session.workbench.stacks) == trained and adam is session.results.ablations["optimizer"].variants["adam"]
    assert adam.runs[0].stack.served == "trained" and adam.runs[0].stack.share_s > 0


def test_one_run_at_a_time_stores_only_what_was_asked(tmp_path, monkeypatch):
    """The CPU's default (stacks of one): behaviour as before, variants stored by their own tests."""
    monkeypatch.setattr(workbench.Workbench, "splits", property(random_splits))
    run = RunSession(
        profile=PROFILES["ci"], device="cpu", seeds=1, base_seed=0, data_dir=None, run_dir=tmp_path / "r", command=[]
    )
    run.claim_folder()
    try:
        run.expect(["scaling", "optimizer"])
        run.prepare()
        run.variant("scaling", "raw")
        assert list(run.results.ablations["scaling"].variants) == ["raw"]
        assert not run.results.ablations["optimizer"].variants
    finally:
        run.release_folder()
