"""``--ablation-resume RUN_ID``: finish a stopped run in its own folder, as if it had not stopped.

    pytest suite/cases --ablation-resume 20261201-132000      # root: --ablation-out (default reports)

The stored run (interrupted, errored, or killed without a word) is opened under its folder's lock;
its profile, seeds, base seed and device are used, and an option that asks for another one is
refused, as is a complete run, a missing folder or one a live run is writing: one line each, a
usage error, no traceback, nothing written. The run session (``suite.harness.run``) then keeps
every stored variant and verdict and trains only the missing variants: the tests of the stored
ones are skipped (they were run, and timed, before the stop), the collection is narrowed to the
tests the run selected, and pytest-benchmark's new entries are merged into the earlier
benchmark.json (``suite.harness.ending.DeferredFile``). On the CPU every number repeats bitwise,
so the finished run has the per-seed values and verdicts of one that never stopped.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from suite.harness.options import DEFAULTS
from suite.spec.chapter3 import ABLATIONS
from suite.spec.profiles import PROFILES, seeds_for
from suite.store.files import RESULTS_FILE, ResultsError
from suite.store.records import AblationStatus, RunResults, RunStatus
from suite.store.results import load_run, run_status
from suite.store.stops import RESUMABLE, RESUME_OPTION, ResumeRecord, utc_now


def stored_run(config: pytest.Config) -> tuple[Path, RunResults] | None:
    """The run --ablation-resume names, checked against this command's options; None without it."""
    run_id = config.getoption("ablation_resume")
    if run_id is None:
        return None
    said = f"{RESUME_OPTION} {run_id}"
    if not run_id or Path(run_id).name != run_id:
        raise pytest.UsageError(f"{said}: a run id is a folder name under --ablation-out, without '/'")
    if config.getoption("ablation_run_id"):
        raise pytest.UsageError(f"{said}: the resumed run keeps its own id; leave out --ablation-run-id")
    if getattr(config.option, "numprocesses", None):
        raise pytest.UsageError(f"{said}: a run is resumed in one process; leave out -n")
    folder = Path(config.getoption("ablation_out")) / run_id
    if not (folder / RESULTS_FILE).is_file():
        raise pytest.UsageError(f"{said}: no run to resume: {folder} holds no {RESULTS_FILE}")
    try:
        run = load_run(folder)
    except ResultsError as exc:
        raise pytest.UsageError(f"{said}: {exc}") from None
    status = run_status(folder, run.status.value)
    if status == RunStatus.RUNNING:
        raise pytest.UsageError(f"{said}: the run is still going (a live process holds {folder}); wait for it to end")
    if status not in RESUMABLE:
        raise pytest.UsageError(f"{said}: the run is {status}; only an interrupted, errored or killed run is resumed")
    for problem in _conflicts(config, run):
        raise pytest.UsageError(f"{said}: {problem}; leave the option out, a resume keeps the run's settings")
    return folder, run


def settings(run: RunResults) -> dict:
    """The stored run's profile, device, seed count and base seed, as the run session takes them."""
    base_seed = run.base_seed if run.base_seed is not None else (run.seeds[0] // 1000 if run.seeds else 0)
    return {
        "profile": PROFILES[run.profile["name"]],
        "device": run.device or DEFAULTS["ablation_device"],
        "seeds": len(run.seeds),
        "base_seed": base_seed,
    }


def _conflicts(config: pytest.Config, run: RunResults) -> list[str]:
    """What this command asks for that the stored run was not run with, one line each."""
    profile = run.profile["name"]
    if profile not in PROFILES:
        return [f"the run's profile {profile!r} is unknown to this version"]
    stored = settings(run)
    if seeds_for(stored["base_seed"], stored["seeds"]) != run.seeds:
        return [f"the run's seeds {run.seeds} are not those of a base seed"]
    given = {
        "--ablation-profile": (config.getoption("ablation_profile"), profile),
        "--ablation-device": (config.getoption("ablation_device"), stored["device"]),
        "--ablation-seeds": (config.getoption("ablation_seeds"), stored["seeds"]),
        "--ablation-base-seed": (config.getoption("ablation_base_seed"), stored["base_seed"]),
    }
    return [
        f"the run was started with {name} {had}, this command asks for {asked}"
        for name, (asked, had) in given.items()
        if asked is not None and asked != had
    ]


def continue_run(run: RunResults, folder: Path) -> set[tuple[str, str]]:
    """Make the stored RUN a running one again, in place: a resume recorded, its stop cleared, its
    unfinished ablations ready to run again. Returns the (ablation, variant) pairs it has stored."""
    status = run_status(folder, run.status.value)
    missing, earlier = [], set()
    for name, entry in run.ablations.items():
        spec = ABLATIONS.get(name)
        missing += [f"{name}/{v.name}" for v in (spec.variants if spec else ()) if v.name not in entry.variants]
        earlier.update((name, variant) for variant in entry.variants)
        if not entry.verdicts and entry.status in (AblationStatus.RUNNING, AblationStatus.ERROR):
            # to be tried again: started, or not, as the stored part left it
            entry.status = AblationStatus.INTERRUPTED if entry.variants else AblationStatus.NOT_RUN
            entry.error = None
    resume = ResumeRecord(when=utc_now(), status=status, stop=run.stop, missing=missing)
    run.resumes = [*(run.resumes or []), resume]
    run.status, run.finished, run.error, run.stop = RunStatus.RUNNING, None, None, None
    return earlier


def deselect(config: pytest.Config, run: RunResults, items: list[pytest.Item], ablation_of) -> None:
    """Narrow a resume's collection to the tests its RUN selected (all of an older file's ablations)."""
    selected = set(run.selected or ())

    def kept(item: pytest.Item) -> bool:
        if run.selected is not None:
            return item.name in selected
        name = ablation_of(item)
        return name is None or name in run.ablations

    dropped = [item for item in items if not kept(item)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if kept(item)]
