"""The results file as types: the run, its ablation entries and their verdicts, checked on loading.

    from suite.store.records import RunResults
    run = RunResults.from_json(read_json(path), path)      # ResultsError: "malformed results file PATH: PLACE: ..."
    run.ablations["scaling"].status                        # AblationStatus.PASSED
    atomic_write_json(path, run.to_json())                 # the same keys and values as read

Each type has one builder (``RunResults.new``, ``AblationEntry.planned``, ``VerdictRecord.of``;
variants and runs: ``suite.store.run_records``), one ``to_json`` and one ``from_json`` that checks
what it reads, so that every reader of a results file (the report, the nightly comparison, the
merge of pytest-xdist workers' files) gets the same checks and no reader renders or compares what
another would refuse. No torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from suite.spec.chapter3 import ABLATIONS
from suite.spec.claims import Verdict
from suite.spec.profiles import Profile
from suite.store.files import ResultsError
from suite.store.load import LoadSample
from suite.store.run_records import VariantRecord
from suite.store.stops import ResumeRecord, StopRecord, read_resumes, read_stop
from suite.store.stored_claims import check_claim
from suite.store.validation import Bad, Choice, Record, expect, measured, number, optional, whole

SCHEMA = 1
REQUIRED = ("schema", "run_id", "profile", "seeds", "machine", "ablations")


class RunStatus(Choice):
    RUNNING = "running"
    COMPLETE = "complete"
    INTERRUPTED = "interrupted"
    ERROR = "error"


class AblationStatus(Choice):
    NOT_RUN = "not run"
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    INTERRUPTED = "interrupted"


class Outcome(Choice):
    PASS = "PASS"  # asserted claims
    FAIL = "FAIL"
    REPRODUCED = "REPRODUCED"  # reported claims, which never fail
    NOT_REPRODUCED = "NOT REPRODUCED"
    INCONCLUSIVE = "INCONCLUSIVE"  # the seeds support neither side (suite.spec.claims.reported_outcome)


@dataclass
class VerdictRecord(Record):
    """A claim's verdict as a results file stores it (``suite.spec.claims.Verdict``, checked)."""

    claim: str
    outcome: Outcome
    per_seed: list[float]
    mean: float
    spread: float
    seeds: list[int]
    asserted: bool | None = None
    statistic: str | None = None
    bound: str | None = None
    why: str | None = None

    ORDER = ("claim", "asserted", "outcome", "statistic", "bound", "per_seed", "mean", "spread", "seeds", "why")
    KNOWN_ONLY = True  # a verdict is a Verdict (to_verdict): a key it does not have cannot be one

    @classmethod
    def of(cls, verdict: Verdict) -> VerdictRecord:
        return cls(**{**verdict.as_dict(), "outcome": Outcome(verdict.outcome)})

    def to_verdict(self) -> Verdict:
        return Verdict(**self.to_json())

    def to_json(self) -> dict:
        values = {key: getattr(self, key) for key in self.ORDER}
        values["outcome"] = self.outcome.value
        return self.stored(values)

    @classmethod
    def from_json(cls, data, place: str) -> VerdictRecord:
        expect(data, dict, place, "a verdict object")
        for key in ("claim", "outcome", "per_seed", "mean", "spread", "seeds"):
            if key not in data:
                raise Bad(place, f"missing {key!r}")
        expect(data["claim"], str, f"{place}.claim", "a claim's text")
        outcome = Outcome.read(data["outcome"], f"{place}.outcome", "outcome")
        asserted = optional(data.get("asserted"), bool, f"{place}.asserted", "true or false")
        if asserted is not None and (outcome in (Outcome.PASS, Outcome.FAIL)) != asserted:
            raise Bad(f"{place}.outcome", f"{outcome.value!r} for {'an asserted' if asserted else 'a reported'} claim")
        for key in ("statistic", "bound", "why"):
            optional(data.get(key), str, f"{place}.{key}", "text")
        per_seed = expect(data["per_seed"], list, f"{place}.per_seed", "a list of per-seed values")
        seeds = expect(data["seeds"], list, f"{place}.seeds", "a list of seeds")
        if len(per_seed) != len(seeds) or not seeds:
            raise Bad(place, f"{len(per_seed)} per-seed values for {len(seeds)} seeds")
        for i, seed in enumerate(seeds):
            expect(seed, int, f"{place}.seeds[{i}]", "an integer seed")
        for i, value in enumerate(per_seed):  # NaN or infinite where a seed's run diverged
            number(value, f"{place}.per_seed[{i}]")
        number(data["mean"], f"{place}.mean")
        measured(data["spread"], f"{place}.spread")  # a standard deviation of the finite values
        values = {key: data.get(key) for key in cls.keys()}
        return cls(**{**values, "outcome": outcome}, **cls.unread(data, place))


@dataclass
class AblationEntry(Record):
    """One ablation of a run: what it asks, its variants' records, its claims and their verdicts."""

    status: AblationStatus
    title: str | None = None
    question: str | None = None
    book_note: str | None = None
    order: int | None = None  # its place in the book's order (``suite.spec.chapter3``)
    error: str | None = None  # the one-line reason when status is "error"
    variants: dict[str, VariantRecord] = field(default_factory=dict)
    claims: list[dict[str, Any]] = field(default_factory=list)  # Claim.as_dict() of each, as judged
    verdicts: list[VerdictRecord] = field(default_factory=list)
    duration_s: float | None = None
    # How busy the machine was as the ablation started and as it was judged or stopped (the
    # report flags a loaded one, suite.store.load); absent in files written before them.
    load_start: LoadSample | None = None
    load_end: LoadSample | None = None

    ORDER: ClassVar[tuple[str, ...]] = (
        *("title", "question", "book_note", "order", "status", "error", "variants", "claims", "verdicts"),
        *("duration_s", "load_start", "load_end"),
    )
    OPTIONAL = frozenset({"load_start", "load_end"})
    KNOWN_ONLY = True  # its keys are read by name: a misspelt "verdicts" would hide what was judged

    @classmethod
    def planned(cls, name: str, profile: str) -> AblationEntry:
        """The entry of an ablation of ``suite.spec.chapter3`` that has not run yet."""
        spec = ABLATIONS[name]
        return cls(
            title=spec.title,
            question=spec.question,
            book_note=spec.book_note_for(profile),
            order=list(ABLATIONS).index(name),  # by name: a test may swap the spec in ABLATIONS
            status=AblationStatus.NOT_RUN,
            error=None,
            claims=[c.as_dict() for c in spec.claims_for(profile)],
            duration_s=0.0,
        )

    def runs_by_variant(self) -> dict[str, list[dict]]:
        """{variant: its runs as stored}: what claims are judged from."""
        return {name: record.runs_json() for name, record in self.variants.items()}

    @staticmethod
    def outcome_status(verdicts: list[VerdictRecord] | list[Verdict]) -> AblationStatus:
        """The one rule: an ablation fails when any asserted claim FAILs (reported claims never do)."""
        return AblationStatus.FAILED if any(v.outcome == Outcome.FAIL for v in verdicts) else AblationStatus.PASSED

    def record_verdicts(self, verdicts: list[Verdict]) -> None:
        """Store the ablation's verdicts; its status follows from them unless an error stopped it."""
        self.verdicts = [VerdictRecord.of(v) for v in verdicts]
        if self.status != AblationStatus.ERROR:
            self.status = self.outcome_status(self.verdicts)

    def to_json(self) -> dict:
        values = {key: getattr(self, key) for key in self.ORDER}
        values["status"] = self.status.value
        values["variants"] = {name: record.to_json() for name, record in self.variants.items()}
        values["verdicts"] = [verdict.to_json() for verdict in self.verdicts]
        for key in ("load_start", "load_end"):
            sample = getattr(self, key)
            values[key] = None if sample is None else sample.to_json()
        return self.stored(values)

    @classmethod
    def from_json(cls, data, place: str) -> AblationEntry:
        expect(data, dict, place, "an ablation object")
        status = AblationStatus.read(data.get("status"), f"{place}.status", "status")
        stored = expect(data.get("variants", {}), dict, f"{place}.variants", "an object of variants")
        variants = {
            name: VariantRecord.from_json(record, f"{place}.variants.{name}") for name, record in stored.items()
        }
        claims = expect(data.get("claims", []), list, f"{place}.claims", "a list of claims")
        for i, claim in enumerate(claims):
            check_claim(claim, variants, f"{place}.claims[{i}]")
        for key in ("title", "question", "book_note", "error"):
            optional(data.get(key), str, f"{place}.{key}", "text")
        if data.get("order") is not None:
            whole(data["order"], f"{place}.order", low=0)
        if data.get("duration_s") is not None:
            measured(data["duration_s"], f"{place}.duration_s")
        stored = expect(data.get("verdicts", []), list, f"{place}.verdicts", "a list of verdicts")
        verdicts = []
        for i, verdict in enumerate(stored):
            verdicts.append(VerdictRecord.from_json(verdict, f"{place}.verdicts[{i}]"))
            _check_rests_on_runs(verdicts[-1], claims, variants, f"{place}.verdicts[{i}]")
        if status in (AblationStatus.PASSED, AblationStatus.FAILED) and not verdicts:
            raise Bad(f"{place}.status", f"{status.value!r} without any verdict")
        values = {key: data.get(key) for key in cls.keys()}
        for key in ("load_start", "load_end"):
            if data.get(key) is not None:
                values[key] = LoadSample.from_json(data[key], f"{place}.{key}")
        return cls(
            **{**values, "status": status, "variants": variants, "claims": claims, "verdicts": verdicts},
            **cls.unread(data, place),
        )


def _check_rests_on_runs(verdict: VerdictRecord, claims: list[dict], variants: dict, place: str) -> None:
    """A verdict's claim is one the entry lists, and its variants have runs for every seed it used."""
    for claim in claims:
        if claim.get("text") == verdict.claim:
            names = [v for v in (claim.get("variant"), claim.get("baseline")) if v]
            break
    else:
        raise Bad(place, f"verdict for a claim the entry does not list: {verdict.claim!r}")
    for name in names:
        record = variants.get(name)
        if record is None or not record.runs:
            raise Bad(place, f"the verdict on {verdict.claim!r} rests on variant {name!r}, which has no runs")
        have = {run.seed for run in record.runs}
        missing = [seed for seed in verdict.seeds if seed not in have]
        if missing:
            raise Bad(place, f"the verdict uses seeds {missing} that variant {name!r} has no runs for")


@dataclass
class RunResults(Record):
    """A run's results file: how it was run, where, how it ended, and every ablation it selected.

    Unknown top-level keys are kept (``extra``), not refused: they describe the run (a CI job may
    note its own), nothing judged or compared reads them, and a newer writer's metadata should
    not make a whole run unreadable. Everything below ``ablations`` takes known keys only.
    """

    OPTIONAL = frozenset({"workers", "stop", "resumes", "selected"})

    schema: int
    run_id: str
    profile: dict[str, Any]  # name, train_size, val_size, description
    seeds: list[int]
    machine: dict[str, Any]  # suite.store.machine.machine_info(); empty until something trains
    status: RunStatus
    ablations: dict[str, AblationEntry]
    command: list[str] | None = None
    started: str | None = None
    finished: str | None = None
    error: str | None = None  # the one-line reason when status is "error"
    device: str | None = None
    base_seed: int | None = None
    extras: dict[str, Any] = field(default_factory=dict)  # the book facts' tables (sigmoid, train/eval mode)
    worker_id: str | None = None  # a pytest-xdist worker's own file
    workers: dict[str, str] | None = None  # {worker id: device} of a run merged from workers
    stop: StopRecord | None = None  # what stopped an interrupted or errored run (suite.store.stops)
    resumes: list[ResumeRecord] | None = None  # each --ablation-resume that finished it, in order
    # The suite's test names the run collected (``test_variant[scaling-raw]``): what a resume runs again.
    selected: list[str] | None = None

    ORDER: ClassVar[tuple[str, ...]] = (
        *("schema", "run_id", "command", "started", "finished", "status", "error", "stop", "resumes", "profile"),
        *("device", "seeds", "base_seed", "machine", "ablations", "extras", "selected", "worker_id", "workers"),
    )

    @classmethod
    def new(
        cls, run_id: str, command: list[str], started: str, profile: Profile, device: str, seeds: list[int], **more
    ) -> RunResults:
        """A run starting now: MORE holds base_seed and worker_id."""
        return cls(
            schema=SCHEMA,
            run_id=run_id,
            command=command,
            started=started,
            status=RunStatus.RUNNING,
            profile={
                "name": profile.name,
                "train_size": profile.train_size,
                "val_size": profile.val_size,
                "description": profile.description,
            },
            device=device,
            seeds=seeds,
            machine={},
            ablations={},
            **more,
        )

    def to_json(self) -> dict:
        values = {key: getattr(self, key) for key in self.ORDER}
        values["status"] = self.status.value
        values["ablations"] = {name: entry.to_json() for name, entry in self.ablations.items()}
        values["stop"] = None if self.stop is None else self.stop.to_json()
        values["resumes"] = None if self.resumes is None else [resume.to_json() for resume in self.resumes]
        return self.stored(values)

    @classmethod
    def from_json(cls, data, path: str | Path) -> RunResults:
        """The run in DATA, read from PATH; ResultsError naming PATH and the first problem's place."""
        if not isinstance(data, dict):
            raise ResultsError(f"malformed results file {path}: top level: expected a JSON object")
        missing = [key for key in REQUIRED if key not in data]
        if missing:
            raise ResultsError(f"malformed results file {path}: missing {', '.join(missing)}")
        if data["schema"] != SCHEMA:
            raise ResultsError(f"results file {path} has schema {data['schema']}, this version reads {SCHEMA}")
        try:
            return cls._read(data)
        except Bad as exc:
            raise ResultsError(f"malformed results file {path}: {exc}") from None

    @classmethod
    def _read(cls, data: dict) -> RunResults:
        status = RunStatus.read(data.get("status"), "status", "run status")
        profile = expect(data["profile"], dict, "profile", "a profile object")
        expect(profile.get("name"), str, "profile.name", "a profile name")
        seeds = expect(data["seeds"], list, "seeds", "a list of seeds")
        for i, seed in enumerate(seeds):
            expect(seed, int, f"seeds[{i}]", "an integer seed")
        expect(data["machine"], dict, "machine", "an object")
        expect(data["run_id"], str, "run_id", "a run id")
        for key in ("started", "finished", "error", "device", "worker_id"):
            optional(data.get(key), str, key, "text")
        command = optional(data.get("command"), list, "command", "a list of arguments")
        for i, arg in enumerate(command or []):
            expect(arg, str, f"command[{i}]", "an argument")
        if data.get("base_seed") is not None:
            whole(data["base_seed"], "base_seed", low=0)
        workers = optional(data.get("workers"), dict, "workers", "an object of workers' devices")
        for worker, device in (workers or {}).items():
            expect(device, str, f"workers.{worker}", "a device")
        extras = expect(data.get("extras", {}), dict, "extras", "an object")
        stored = expect(data["ablations"], dict, "ablations", "an object of ablations")
        ablations = {name: AblationEntry.from_json(entry, f"ablations.{name}") for name, entry in stored.items()}
        selected = optional(data.get("selected"), list, "selected", "a list of test names")
        for i, name in enumerate(selected or []):
            expect(name, str, f"selected[{i}]", "a test name")
        values: dict[str, Any] = {key: data.get(key) for key in cls.keys()}
        stop, resumes = read_stop(data.get("stop")), data.get("resumes")
        if stop is not None and status not in (RunStatus.INTERRUPTED, RunStatus.ERROR):
            raise Bad("stop", f"a {status.value!r} run records no stop")
        values.update(status=status, extras=extras, ablations=ablations, stop=stop)
        values["resumes"] = None if resumes is None else read_resumes(resumes)
        return cls(**values, **cls.unread(data, "top level"))
