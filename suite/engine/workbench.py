"""Runs the variants of an ablation over seeds and turns the results into the stored records.

    from suite.engine.workbench import Workbench
    bench = Workbench(profile=PROFILES["ci"], device="cpu")
    record = bench.run_variant(ABLATIONS["scaling"], "scaled", seeds=[0, 1, 2])   # a VariantRecord
    records = bench.run_ablation(ABLATIONS["dropout"], seeds=[0, 1, 2])   # {variant: VariantRecord}

This is the glue between the experiment specs (``suite.spec.chapter3``) and the trainer, used by the
pytest plugin and by the flake-rate script alike. The Workbench trains each distinct run once
(``suite.engine.planner``): identical runs of other ablations and shorter prefixes of a longer run are
served from its cache of finished runs, and runs are packed into stacks sized for the device.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from itertools import count

import torch

from suite.engine.data import Split, load_split, resolve_root
from suite.engine.planner import PlannedRun, Request, requests_for, run_key
from suite.engine.run_record import activation_record, serialize
from suite.engine.schedule import Schedule, Trained, TrainedStack
from suite.engine.trainer import RunResult, train_stack
from suite.spec.ablation import Ablation
from suite.spec.chapter3 import ABLATIONS, ABLATIONS_LIST
from suite.spec.config import TrainConfig
from suite.spec.profiles import Profile
from suite.store.run_records import Served, StackRecord, VariantRecord

# Runs per stack. CPU: one at a time; for one ci baseline epoch of 3 seeds a stack of 3 tied with
# one run after another (measured in docs/gpu.md), and single runs report progress and lose less
# when interrupted. CUDA: a step costs its launches, so stack; 64 holds the book profile's runs of
# one shape for 3 seeds in one stack (a guess, to measure on a GPU: docs/gpu.md has the figures).
MAX_STACK = {"cpu": 1, "cuda": 64}


class DeviceUnavailable(RuntimeError):
    """CUDA was asked for and torch sees none; the plugin shows it as a usage error."""


def resolve_device(requested: str) -> torch.device:
    """'auto' picks CUDA when present; 'cuda' without CUDA is an error, never a silent CPU run.
    The one check of the device: the plugin calls it before the run starts."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise DeviceUnavailable(
            f"--ablation-device {requested} was asked for, but torch sees no CUDA device "
            f"(torch {torch.__version__}, CUDA build {torch.version.cuda}); use --ablation-device cpu"
        )
    return torch.device(requested)


OnVariantEpoch = Callable[[str, int, int, dict], None]  # (variant, seed, epoch, row)


class Workbench:
    """Owns the device-resident data of one profile, plans runs and serves variants from them.

    Finished runs are cached per (config minus epochs, seed) with their whole history and the
    models at the epochs where shorter expected requests end (snapshots), so an identical run or
    a prefix of a longer one is served, not retrained. Which requests to expect is every variant
    of every ablation with the seeds of the first call, unless ``expect`` says otherwise; a request
    outside them (the mode probe, other seeds) trains at its own length.
    """

    def __init__(
        self, profile: Profile, device: str = "auto", data_dir: str | None = None, max_stack: int | None = None
    ):
        self.profile = profile
        self.device = resolve_device(device)
        self.data_dir = data_dir
        self.max_stack = max_stack or MAX_STACK.get(self.device.type, 1)
        self._splits: tuple[Split, Split] | None = None
        self.expected: list[Request] | None = None  # None: every ablation, once seeds are known
        self.schedule: Schedule | None = None  # the expected runs packed into stacks, on first use
        self.cache: dict[tuple, list[Trained]] = {}
        self.stacks: list[TrainedStack] = []  # every stack trained, in order
        self._ids = count(1)
        # Called after each run ends and is cached, between epochs of its stack: the session stores
        # every variant whose runs are now all finished (a stop then keeps them; RunSession).
        self.on_run_done: Callable[[], None] | None = None

    @property
    def splits(self) -> tuple[Split, Split]:
        if self._splits is None:  # loaded on first use, once per session
            root = resolve_root(self.data_dir)
            self._splits = (
                load_split(root, train=True, device=self.device, limit=self.profile.train_size),
                load_split(root, train=False, device=self.device, limit=self.profile.val_size),
            )
        return self._splits

    def expect(self, ablations: Iterable[Ablation | str], seeds: list[int]) -> None:
        """Declare the ablations the session will run, so that each distinct run trains once."""
        specs = [ABLATIONS[a] if isinstance(a, str) else a for a in ablations]
        self.expected = requests_for(specs, self.profile, seeds)

    def run_variant(
        self, ablation: Ablation, variant: str, seeds: list[int], on_epoch: OnVariantEpoch | None = None
    ) -> VariantRecord:
        """VARIANT over SEEDS, trained unless cached; ``on_epoch(variant, seed, epoch, row)`` reports progress.

        Where the device stacks runs (``max_stack`` > 1), the first variant asked for trains every
        scheduled stack that holds a run of its ablation (``suite.engine.schedule``): the stacks
        are packed across every expected ablation, so their other runs, whatever their ablation,
        train with them and are served from the cache later. Each run's record carries only its
        own share of the stack's time. ``on_epoch`` names a run of another ablation "ablation/variant".
        """
        cfg: TrainConfig = ablation.config(variant, self.profile)
        requests = [Request(ablation.name, variant, seed, cfg) for seed in seeds]
        together = requests_for([ablation], self.profile, seeds) if self.max_stack > 1 else requests
        self._ensure(together, on_epoch)
        return self._record(ablation, variant, requests)

    def run_ablation(
        self, ablation: Ablation, seeds: list[int], on_epoch: OnVariantEpoch | None = None
    ) -> dict[str, VariantRecord]:
        """Every variant of ABLATION over SEEDS as planned stacks: {variant: record}.

        ``on_epoch(variant, seed, epoch, row)`` reports progress. Only runs this ablation needs are
        trained (at the longest length any expected request needs), in stacks of this ablation's
        runs alone, so that a caller going ablation by ablation (the flake-rate measurement) keeps
        every ablation finished before an interruption.
        """
        requests = requests_for([ablation], self.profile, seeds)
        self._ensure(requests, on_epoch, across=False)
        return {
            v.name: self._record(ablation, v.name, [r for r in requests if r.variant == v.name])
            for v in ablation.variants
        }

    def finished(self, ablation: Ablation, variant: str, seeds: list[int]) -> VariantRecord | None:
        """VARIANT's record over SEEDS if its runs have all ended, from the cache alone (never
        trains: safe between the epochs of a stack, from ``on_run_done``); else None."""
        cfg: TrainConfig = ablation.config(variant, self.profile)
        requests = [Request(ablation.name, variant, seed, cfg) for seed in seeds]
        if any(self._find(request) is None for request in requests):
            return None
        return self._record(ablation, variant, requests)

    # -- planning and training ------------------------------------------------------------------
    def _find(self, request: Request) -> tuple[Trained, RunResult] | None:
        for trained in self.cache.get(run_key(request.cfg, request.seed), []):
            result = trained.serve(request.cfg.epochs)
            if result is not None:
                return trained, result
        return None

    def _ensure(self, requests: list[Request], on_epoch: OnVariantEpoch | None, across: bool = True) -> None:
        """Train, in the schedule's stacks, every run REQUESTS need that the cache cannot serve."""
        if self.expected is None:
            self.expect(ABLATIONS_LIST, sorted({r.seed for r in requests}))
        if self.schedule is None or self.schedule.expected is not self.expected:
            self.schedule = Schedule(self.expected, max_stack=self.max_stack, train_size=len(self.splits[0]))
        missing = [r for r in requests if self._find(r) is None]
        trained = lambda run: all(self._find(r) is not None for r in run.requests)  # noqa: E731
        for runs, asked in self.schedule.due(missing, trained, across=across):
            self._train(runs, asked, requests[0].ablation if requests else "", on_epoch)

    def _train(self, runs: list[PlannedRun], asked: list[Request], ablation: str, on_epoch) -> None:
        """Train RUNS as one stack; each run is cached the moment it ends (so a stop keeps it)."""
        train_split, val_split = self.splits

        def report(k: int, epoch: int, row: dict) -> None:  # a stack-mate of another ablation is named in full
            if on_epoch:
                name = asked[k].variant if asked[k].ablation == ablation else asked[k].name
                on_epoch(name, runs[k].seed, epoch, row)

        stack = TrainedStack(
            id=f"s{next(self._ids)}",
            runs=[f"{r.name} seed {r.seed}" for r in asked],
            epochs=[run.cfg.epochs for run in runs],
            seconds=0.0,
            device=str(self.device),
        )
        self.stacks.append(stack)

        def store(k: int, result: RunResult) -> None:
            stack.seconds += result.share_s
            self.cache.setdefault(runs[k].key, []).insert(0, Trained(runs[k].cfg, result, stack, result.share_s))
            if self.on_run_done is not None:
                self.on_run_done()

        train_stack(
            [(run.cfg, run.seed) for run in runs],
            train=train_split,
            val=val_split,
            on_epoch=report,
            snapshots=[run.snapshots for run in runs],
            on_done=store,
        )

    def _record(self, ablation: Ablation, variant: str, requests: list[Request]) -> VariantRecord:
        """The stored record of VARIANT's runs (``serialize``), with the stack each came from."""
        val_split = self.splits[1]
        runs = []
        for request in requests:
            trained, result = self._find(request)
            activations = None
            if ablation.probe_activations:
                activations = activation_record(result.model, val_split.pixels.float() * request.cfg.input_scale)
            charged = trained.owner is None  # the first request served pays for the run
            trained.owner = trained.owner or request.name
            if charged:
                served = Served.TRAINED
            else:
                served = Served.IDENTICAL if request.cfg.epochs == trained.cfg.epochs else Served.PREFIX
            stack = StackRecord(
                id=trained.stack.id,
                runs=len(trained.stack.runs),
                seconds=trained.stack.seconds,
                share_s=trained.share_s if charged else 0.0,
                served=served,
                trained_by=trained.owner,
                trained_epochs=trained.cfg.epochs,
            )
            runs.append(serialize(result, activations=activations, stack=stack))
        return VariantRecord.of(variant, ablation.variant(variant).label, requests[0].cfg.as_dict(), runs)

    @torch.no_grad()
    def mode_probe(self, cfg: TrainConfig, seeds: list[int]) -> list[dict]:
        """Train a dropout model briefly, then predict the validation split twice in each mode.

        Shows what forgetting ``model.eval()`` does: train mode keeps dropout on, so predictions
        change from call to call and accuracy drops; eval mode is deterministic.
        """
        train_split, val_split = self.splits
        x, y = val_split.pixels.float() * cfg.input_scale, val_split.labels
        requests = [Request("train_eval_mode", "probe", seed, cfg) for seed in seeds]
        with torch.enable_grad():
            self._ensure(requests, None)
        rows = []
        for request in requests:
            model = copy.deepcopy(self._find(request)[1].model)  # probing must not touch the cache
            model.eval()
            first, second = model(x), model(x)
            model.train()
            torch.manual_seed(request.seed)  # nn.Dropout's masks: reproducible per seed
            noisy_first, noisy_second = model(x), model(x)
            rows.append(
                {
                    "seed": request.seed,
                    "eval_max_abs_diff": (first - second).abs().max().item(),
                    "train_max_abs_diff": (noisy_first - noisy_second).abs().max().item(),
                    "eval_acc": (first.argmax(1) == y).float().mean().item(),
                    "train_mode_acc": (noisy_first.argmax(1) == y).float().mean().item(),
                    "changed_predictions": (first.argmax(1) != noisy_first.argmax(1)).float().mean().item(),
                }
            )
        return rows
