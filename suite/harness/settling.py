"""How a run session ends: the workers merged, its status settled, its stop recorded, then the
nightly comparison and the report.

    class RunSession(Ending): ...        # suite.harness.run

A mixin of ``RunSession``, apart so that the session's module keeps to training, verdicts and
storage; its methods read and write the session's state (``results``, ``worker_id``, ``training``,
``stop_signal``, ``write_error``...) and call its ``save`` and ``_judge_if_complete``.
"""

from __future__ import annotations

import pytest

from suite.harness.ending import compare, render_report
from suite.harness.stopping import stop_record
from suite.spec.chapter3 import ABLATIONS
from suite.store.files import ResultsError, first_line
from suite.store.machine import load_sample
from suite.store.records import AblationStatus, RunStatus
from suite.store.results import WORKERS_DIR, load_run, merge_workers
from suite.store.stops import StopCause
from suite.store.stops import utc_now as now


class Ending:
    def merge_workers(self) -> None:
        """Fold the pytest-xdist workers' files into this (controller's) results."""
        merge_workers(self.results, [load_run(path) for path in sorted((self.run_dir / WORKERS_DIR).glob("*.json"))])
        for name, entry in self.results.ablations.items():  # a worker stopped between its last variant and judging
            if name in ABLATIONS and not entry.verdicts:
                self._judge_if_complete(name)

    def measured_nothing(self) -> str | None:
        """Why this run has nothing to show (no verdict, no trained variant, no extra), or None."""
        entries = self.results.ablations
        if self.results.extras or any(e.verdicts or e.variants for e in entries.values()):
            return None
        errors = [f"{name}: {e.error}" for name, e in entries.items() if e.error]
        return "no ablation was judged" + (f" ({'; '.join(errors)})" if errors else "")

    # -- the end of the run ---------------------------------------------------------------------
    def settle(self, exitstatus: int) -> bool:
        """Record how the run ended, before any other plugin's session end can fail; False when
        there is nothing to record (this process is not writing a run, or no suite case ran)."""
        if not self.owns_folder or self.results.status != RunStatus.RUNNING:
            return False
        reason = None
        if self.worker_id is None:
            try:
                self.merge_workers()
            except ResultsError as exc:
                reason = f"cannot merge the workers' results: {exc}"
        if not self.results.ablations and not self.results.extras and reason is None:
            return False
        if self.write_error:  # the file holds what was written before; the run is not complete
            self.finish(RunStatus.ERROR, self.write_error, StopCause.WRITE_ERROR)
            return True
        if exitstatus == pytest.ExitCode.INTERRUPTED:
            self.finish(RunStatus.INTERRUPTED)
            return True
        if exitstatus == pytest.ExitCode.INTERNAL_ERROR:
            reason = reason or self.internal_error or "pytest stopped with an internal error"
        elif exitstatus == pytest.ExitCode.USAGE_ERROR:
            reason = reason or "pytest stopped with a usage error"
        reason = reason or self.measured_nothing()
        self.finish(RunStatus.ERROR if reason else RunStatus.COMPLETE, reason)
        return True

    def end(self, session: pytest.Session) -> None:
        """After every plugin's session end (benchmark.json is written): comparison and report."""
        if self.worker_id is not None:
            return
        if session.config.getoption("ablation_compare"):
            compare(session, self.run_dir)
        if session.config.getoption("ablation_report"):
            render_report(session, self.run_dir)

    def finish(self, status: RunStatus | str, reason: str | None = None, cause: StopCause | None = None) -> None:
        """End the run with STATUS (REASON: an error's one line), its stop recorded unless complete."""
        status = RunStatus(status)
        reason = first_line(reason) if reason else reason
        self.results.stop = stop_record(self.results, status, reason, cause, self.stop_signal, self.training)
        self.results.finished = now()
        self.results.status = status
        self.results.error = reason if status == RunStatus.ERROR else None
        if self.results.machine and not self.results.workers:  # this process trained: how busy the machine
            # was, for the nightly's time (a controller's workers trained: merge_workers summed theirs)
            self.results.machine["load_end"] = load_sample()
        interrupted = status == RunStatus.INTERRUPTED
        for name, entry in self.results.ablations.items():
            if entry.status == AblationStatus.RUNNING:  # stopped between training and judging
                self._sample_end(name)
                entry.status = AblationStatus.INTERRUPTED if interrupted else AblationStatus.NOT_RUN
        self.save()
