"""The run's session object: it owns the results of one pytest run and writes them as they come.

    run = RunSession.from_config(config)     # in pytest_configure: reads its own options
    run.variant("scaling", "raw"); run.judge("scaling")
    run.settle(exitstatus); run.end(session)      # at the session's end: status, comparison, report

Created by the plugin (``suite.harness.plugin``) and handed to the test cases through fixtures, as
pytest-benchmark's session is. It trains each (ablation, variant) at most once, judges an ablation
the moment its last variant is stored, and rewrites ``reports/<run-id>/results.json`` atomically
after every change, so an interrupted run still leaves a complete, renderable file.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from suite.harness.options import chosen_settings
from suite.harness.progress import Progress
from suite.harness.resume import continue_run, settings, stored_run
from suite.harness.settling import Ending
from suite.harness.stopping import Training
from suite.spec.chapter3 import ABLATIONS
from suite.spec.claims import Verdict
from suite.spec.profiles import Profile, seeds_for
from suite.store.files import RESULTS_FILE, atomic_write_json, first_line, write_failure
from suite.store.folder import RunFolderLock, new_run_dir
from suite.store.load import LoadSample
from suite.store.machine import machine_info
from suite.store.records import AblationEntry, AblationStatus, RunResults
from suite.store.results import WORKERS_DIR
from suite.store.run_records import VariantRecord
from suite.store.stops import utc_now as now


class RunSession(Ending):
    def __init__(
        self,
        *,
        profile: Profile,
        device: str,
        seeds: int,
        base_seed: int,
        data_dir: str | None,
        run_dir: Path,
        command: list[str],
        progress: Progress | None = None,
        worker_id: str | None = None,
        fresh_folder: bool = False,
    ):
        self.profile = profile
        self.worker_id = worker_id  # a pytest-xdist worker writes workers/<id>.json, merged at the end
        self.device = device
        self.seeds = seeds_for(base_seed, seeds)
        self.data_dir = data_dir
        self.run_dir = run_dir
        self.fresh_folder = fresh_folder  # no run id: run_dir is the wished name, claimed with -2, -3... if taken
        self.progress = progress
        self._bench = None
        self._lock: RunFolderLock | None = None  # held by the process that owns run_dir (not a worker)
        self.internal_error: str | None = None  # pytest's INTERNALERROR, as the run's one-line reason
        self.write_error: str | None = None  # the first failed write of the results: the plugin stops the run
        self._sampled: set[str] = set()  # ablations whose opening load sample this process took
        self.stop_signal: str | None = None  # the signal that stopped the run ("SIGTERM"), noted by its handler
        self.training: Training | None = None  # what trains now, for the stop record; None between variants
        self.resuming = False  # --ablation-resume: results come from the folder's stored run
        self.earlier: set[tuple[str, str]] = set()  # (ablation, variant) stored before a resume
        self.results = RunResults.new(
            run_dir.name, command, now(), profile, device, self.seeds, base_seed=base_seed, worker_id=worker_id
        )

    @classmethod
    def from_config(cls, config: pytest.Config) -> RunSession:
        """The session of this pytest process, from its own ``--ablation-*`` options."""
        worker = getattr(config, "workerinput", None)  # set by pytest-xdist on its workers
        stored = None if worker else stored_run(config)  # --ablation-resume: the stored run's settings
        chosen = chosen_settings(config) if stored is None else settings(stored[1])
        if worker:  # every worker writes into its controller's run folder
            run_dir = Path(worker["ablation_run_dir"])
            chosen["device"] = _pin_worker(chosen["device"], worker["workerid"])
        else:
            root = Path(config.getoption("ablation_out"))
            run_dir = stored[0] if stored else new_run_dir(root, config.getoption("ablation_run_id"))
        mode = config.getoption("ablation_progress")
        terminal = sys.stdout.isatty() and not os.environ.get("CI")
        show = mode == "on" or (mode == "auto" and terminal)
        session = cls(
            **chosen,
            data_dir=config.getoption("ablation_data_dir"),
            run_dir=run_dir,
            command=["pytest", *config.invocation_params.args],
            worker_id=worker["workerid"] if worker else None,
            fresh_folder=not worker and not stored and not config.getoption("ablation_run_id"),
            progress=Progress(config, show=show, rewrite=terminal),
        )
        if stored:
            session.results, session.earlier = stored[1], continue_run(stored[1], stored[0])
            session.resuming = True
        return session

    # -- training -------------------------------------------------------------------------------
    @property
    def workbench(self):
        if self._bench is None:
            from suite.engine.workbench import Workbench  # torch is imported only when something trains

            self._bench = Workbench(self.profile, self.device, self.data_dir)
            if self._bench.max_stack > 1:  # stacks span ablations: store each variant as its runs end
                self._bench.on_run_done = self._store_finished
            self.results.device = str(self._bench.device)
            self.results.machine = machine_info(str(self._bench.device))
        return self._bench

    def prepare(self) -> None:
        """Resolve the device and load the data now, so that bad input stops the run up front; tell
        the workbench which ablations this run selected, so that each distinct run trains once,
        as long as the longest selected request needs and no longer."""
        self.workbench.splits  # noqa: B018 - loads and caches
        self.workbench.expect([name for name in self.results.ablations if name in ABLATIONS], self.seeds)
        if self.progress is not None:  # the run's size and estimated duration, before it trains
            from suite.engine.pace import plan_of

            self.progress.plan(*plan_of(self.workbench), str(self.workbench.device))

    def expect(self, names: list[str]) -> None:
        """Register the selected ablations as 'not run', so an interrupted run still lists them."""
        for name in names:
            self._entry(name)
        self.save()

    def _entry(self, name: str) -> AblationEntry:
        if name not in self.results.ablations:
            self.results.ablations[name] = AblationEntry.planned(name, self.profile.name)
        return self.results.ablations[name]

    def variant(
        self, name: str, variant: str, timer: Callable[[Callable], VariantRecord] | None = None
    ) -> VariantRecord:
        """The record of one variant over all seeds, trained now unless this run already has it.

        ``timer(fn)`` runs the training (pytest-benchmark's pedantic mode, from the test).
        """
        entry = self._entry(name)
        if variant in entry.variants:
            return entry.variants[variant]
        ablation = ABLATIONS[name]
        if entry.status != AblationStatus.RUNNING:
            entry.status = AblationStatus.RUNNING
            if entry.load_start is None:  # the report flags an ablation that ran on a loaded machine
                entry.load_start = LoadSample.now()
                self._sampled.add(name)
            self.save()  # a run killed while this trains shows the ablation as started, not as "not run"
        self.training = Training(name, variant)

        def on_epoch(trained: str, seed: int, epoch: int, row: dict) -> None:
            # TRAINED: a variant of this ablation, or "ablation/variant" of a stack-mate's (CUDA)
            other, _, trained = trained.rpartition("/")
            self.training = Training(other or name, trained, seed, epoch)
            if self.progress:
                self.progress.epoch(other or name, trained, seed, epoch, row)

        def work() -> VariantRecord:
            return self.workbench.run_variant(ablation, variant, self.seeds, on_epoch)

        start = time.perf_counter()
        record = timer(work) if timer else work()
        # stored the moment its runs ended (_store_finished): that record was charged for the training
        record = entry.variants.get(variant, record)
        record.duration_s = time.perf_counter() - start
        self.training = None
        entry.variants[variant] = record
        entry.duration_s += record.duration_s
        self._judge_if_complete(name)
        self.save()
        return record

    def _store_finished(self) -> None:
        """Where one stack holds runs of several ablations (CUDA), store every selected variant whose
        runs have all ended, the moment the last one does, and judge its ablation if complete: a
        stop then keeps everything finished, and no ablation waits for its own tests to be judged.
        Its test later finds it stored (its time is its runs' share of the stack, not a test's)."""
        stored = False
        for name, entry in self.results.ablations.items():
            if name not in ABLATIONS or entry.verdicts or entry.status == AblationStatus.ERROR:
                continue
            for spec in ABLATIONS[name].variants:
                record = (
                    None
                    if spec.name in entry.variants
                    else self.workbench.finished(ABLATIONS[name], spec.name, self.seeds)
                )
                if record is not None:
                    entry.variants[spec.name] = record
                    entry.status, stored = AblationStatus.RUNNING, True
            self._judge_if_complete(name)
        if stored:
            self.save()

    # -- verdicts -------------------------------------------------------------------------------
    def judge(self, name: str) -> list[Verdict]:
        """The ablation's verdicts, training whatever variant this run does not have yet."""
        for variant in ABLATIONS[name].variants:
            self.variant(name, variant.name)
        entry = self._entry(name)
        if not entry.verdicts:  # e.g. the variants were merged in from elsewhere
            self._judge_if_complete(name)
            self.save()
        return [v.to_verdict() for v in entry.verdicts]

    def _judge_if_complete(self, name: str) -> None:
        # Judged the moment the last variant is stored, whatever order the cases ran in: an
        # interrupt after that point never leaves a finished ablation without its verdicts.
        entry = self._entry(name)
        verdicts = ABLATIONS[name].judge(entry.runs_by_variant(), profile=self.profile.name)
        if verdicts is not None:
            entry.record_verdicts(verdicts)
            self._sample_end(name)

    def mark_error(self, name: str, message: str) -> None:
        entry = self._entry(name)
        entry.status, entry.error = AblationStatus.ERROR, first_line(message)
        self._sample_end(name)
        self.save()

    def _sample_end(self, name: str) -> None:
        """The ablation's closing load sample, where this process took its opening one: the
        samples count this process's threads, so a worker's start and the controller's end
        would compare two processes."""
        if name in self._sampled and self.results.ablations[name].load_end is None:
            self.results.ablations[name].load_end = LoadSample.now()

    def record_extra(self, key: str, value: dict) -> None:
        self.results.extras[key] = value
        self.save()

    # -- storage --------------------------------------------------------------------------------
    @property
    def path(self) -> Path:
        if self.worker_id is None:
            return self.run_dir / RESULTS_FILE
        return self.run_dir / WORKERS_DIR / f"{self.worker_id}.json"

    def claim_folder(self) -> None:
        """Take run_dir for this process: RunFolderError if another run holds or already filled it."""
        if self.worker_id is not None or self._lock is not None:
            return
        if self.resuming:  # its own folder, stopped: no live writer
            self._lock = RunFolderLock.reopen(self.run_dir)
            return
        if not self.fresh_folder:  # an explicit run id: that folder or none
            self._lock = RunFolderLock.acquire(self.run_dir)
            return
        self._lock = RunFolderLock.claim_new(self.run_dir)
        self.run_dir = self._lock.run_dir
        self.results.run_id = self.run_dir.name

    def release_folder(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    @property
    def owns_folder(self) -> bool:
        """Whether this process may write results: the folder's lock holder, or one of its workers."""
        return self.worker_id is not None or self._lock is not None

    def save(self) -> None:
        """Write the results file. A failed write (a full disk) leaves the last good file, which the
        write replaces atomically, and is remembered as the run's error: the plugin stops the run."""
        if not self.owns_folder:
            return
        try:
            atomic_write_json(self.path, self.results.to_json())
        except OSError as exc:
            self.write_error = self.write_error or write_failure(self.path, exc)


def _pin_worker(device: str, worker_id: str) -> str:
    """One worker per visible GPU: worker gwN trains on cuda:(N mod the number of GPUs)."""
    if device != "cuda":
        return device
    import torch

    return f"cuda:{int(worker_id.removeprefix('gw')) % max(torch.cuda.device_count(), 1)}"
