"""The run's session object: it owns the results of one pytest run and writes them as they come.

Created by the plugin (``suite.plugin``) and handed to the test cases through fixtures. It trains
each (ablation, variant) at most once, judges claims from what it holds, and rewrites
``reports/<run-id>/results.json`` atomically after every change, so an interrupted run still
leaves a complete, renderable file.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from suite.ablations import ABLATIONS, Profile, seeds_for
from suite.claims import Verdict, judge
from suite.results import RESULTS_FILE, SCHEMA, atomic_write_json, machine_info, read_json


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class AblationSession:
    def __init__(self, *, profile: Profile, device: str, seeds: int, base_seed: int, data_dir: str | None,
                 run_dir: Path, command: list[str], progress: Callable[[str], None] | None = None,
                 worker_id: str | None = None):
        self.profile = profile
        self.worker_id = worker_id  # a pytest-xdist worker writes workers/<id>.json, merged at the end
        self.device = device
        self.seeds = seeds_for(base_seed, seeds)
        self.data_dir = data_dir
        self.run_dir = run_dir
        self.progress = progress
        self._bench = None
        self.results: dict = {
            "schema": SCHEMA,
            "run_id": run_dir.name,
            "command": command,
            "started": now(),
            "finished": None,
            "status": "running",
            "profile": {"name": profile.name, "train_size": profile.train_size,
                        "val_size": profile.val_size, "description": profile.description},
            "device": device,
            "seeds": self.seeds,
            "base_seed": base_seed,
            "machine": {},
            "ablations": {},
            "extras": {},
            "worker_id": worker_id,
        }

    # -- training -------------------------------------------------------------------------------
    @property
    def workbench(self):
        if self._bench is None:
            from suite.runner import Workbench  # torch is imported only when something trains

            self._bench = Workbench(self.profile, self.device, self.data_dir)
            self.results["device"] = str(self._bench.device)
            self.results["machine"] = machine_info(str(self._bench.device))
        return self._bench

    def prepare(self) -> None:
        """Resolve the device and load the data now, so that bad input stops the run up front."""
        self.workbench.splits  # noqa: B018 - loads and caches

    def expect(self, names: list[str]) -> None:
        """Register the selected ablations as 'not run', so an interrupted run still lists them."""
        for name in names:
            self._entry(name)
        self.save()

    def _entry(self, name: str) -> dict:
        if name not in self.results["ablations"]:
            spec = ABLATIONS[name]
            self.results["ablations"][name] = {
                "title": spec.title, "question": spec.question, "book_note": spec.book_note,
                "order": list(ABLATIONS).index(name), "status": "not run", "error": None,
                "variants": {}, "claims": [c.as_dict() for c in spec.claims], "verdicts": [],
                "duration_s": 0.0,
            }
        return self.results["ablations"][name]

    def variant(self, name: str, variant: str, timer: Callable[[Callable], dict] | None = None) -> dict:
        """The record of one variant over all seeds, trained now unless this run already has it.

        ``timer(fn)`` runs the training (pytest-benchmark's pedantic mode, from the test).
        """
        entry = self._entry(name)
        if variant in entry["variants"]:
            return entry["variants"][variant]
        ablation = ABLATIONS[name]
        entry["status"] = "running"

        def on_epoch(seed: int, epoch: int, row: dict) -> None:
            if self.progress:
                self.progress(f"{name}/{variant} seed {seed} epoch {epoch}: train acc {row['train_acc']:.3f}"
                              f" val acc {row['val_acc']:.3f} val loss {row['val_loss']:.3f}")

        def work() -> dict:
            return self.workbench.run_variant(ablation, variant, self.seeds, on_epoch)

        start = time.perf_counter()
        record = timer(work) if timer else work()
        record["duration_s"] = time.perf_counter() - start
        entry["variants"][variant] = record
        entry["duration_s"] += record["duration_s"]
        self.save()
        return record

    # -- verdicts -------------------------------------------------------------------------------
    def judge(self, name: str) -> list[Verdict]:
        ablation = ABLATIONS[name]
        entry = self._entry(name)
        for variant in ablation.variants:
            self.variant(name, variant.name)
        runs = {v: record["runs"] for v, record in entry["variants"].items()}
        verdicts = [judge(claim, runs) for claim in ablation.claims]
        entry["verdicts"] = [v.as_dict() for v in verdicts]
        entry["status"] = "failed" if any(v.outcome == "FAIL" for v in verdicts) else "passed"
        self.save()
        return verdicts

    def mark_error(self, name: str, message: str) -> None:
        entry = self._entry(name)
        entry["status"], entry["error"] = "error", message
        self.save()

    def record_extra(self, key: str, value: dict) -> None:
        self.results["extras"][key] = value
        self.save()

    # -- storage --------------------------------------------------------------------------------
    @property
    def path(self) -> Path:
        if self.worker_id is None:
            return self.run_dir / RESULTS_FILE
        return self.run_dir / "workers" / f"{self.worker_id}.json"

    def save(self) -> None:
        atomic_write_json(self.path, self.results)

    def merge_workers(self) -> None:
        """Fold the pytest-xdist workers' files into this (controller's) results."""
        parts = sorted((self.run_dir / "workers").glob("*.json"))
        for part in map(read_json, parts):
            for name, entry in part["ablations"].items():
                mine = self.results["ablations"].get(name)
                if mine is None or mine["status"] == "not run" or entry["status"] != "not run":
                    self.results["ablations"][name] = entry
            self.results["extras"].update(part["extras"])
            if not self.results["machine"]:  # the controller trained nothing itself
                self.results["machine"], self.results["device"] = part["machine"], part["device"]
            self.results.setdefault("workers", {})[part["worker_id"]] = part["device"]

    def finish(self, status: str) -> None:
        self.results["finished"] = now()
        self.results["status"] = status
        for entry in self.results["ablations"].values():
            if entry["status"] == "running":  # stopped between training and judging
                entry["status"] = "interrupted" if status == "interrupted" else "not run"
        self.save()
