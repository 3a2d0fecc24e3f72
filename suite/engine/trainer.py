"""The one trainer: K runs of the book's MLP trained together as a stack, on any device.

    from suite.engine.trainer import train, train_stack
    from suite.spec.config import TrainConfig
    result = train(TrainConfig(optimizer="adam", lr=1e-3, epochs=5), seed=0, train=..., val=...)
    results = train_stack([(cfg_a, 0), (cfg_b, 0)], train=..., val=...)   # list[RunResult]

A run is (TrainConfig, seed) and a pure function of them and the data: whether it trains alone
(``train``, a stack of one, the reference) or with others changes its numbers by rounding at
most. The trainer knows nothing of experiments; it records, per epoch, the curves the book plots.
A loss that turns NaN or infinite ends that run (``diverged_epoch``), never raises, and leaves
the other runs of its stack untouched. CPU and CUDA run the same code; on CUDA the steps of a
stack replay one captured CUDA graph (``suite.engine.stack``).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from suite.engine.data import Split
from suite.engine.fused import default_mode
from suite.engine.stack import EVAL_CHUNK, Stack
from suite.spec.config import TrainConfig

OnEpoch = Callable[[int, int, dict], None]  # (index of the run in the stack, epoch, row)
OnDone = Callable[[int, "RunResult"], None]  # (index of the run in the stack, its result), as it ends
GRAPH_WARMUP = 3  # eager steps before a CUDA graph capture (lazy cuBLAS handles, allocator)


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) over a whole split, in whatever mode the model is in."""
    loss = torch.zeros((), device=x.device)
    correct = torch.zeros((), device=x.device, dtype=torch.long)
    for start in range(0, len(y), EVAL_CHUNK):
        logits = model(x[start : start + EVAL_CHUNK])
        target = y[start : start + EVAL_CHUNK]
        loss += nn.functional.cross_entropy(logits, target, reduction="sum")
        correct += (logits.argmax(1) == target).sum()
    return loss.item() / len(y), correct.item() / len(y)


@dataclass
class RunResult:
    """What one (config, seed) run produced. ``model`` is the trained module, not serialized."""

    seed: int
    history: dict[str, list[float]]  # per-epoch curves, see HISTORY_KEYS
    diverged_epoch: int | None  # 1-based epoch whose training loss was NaN/inf, else None
    wall_s: float  # the stack's clock (training + per-epoch evaluation) when this run ended
    model: nn.Module = field(repr=False)
    snapshots: dict[int, nn.Module] = field(default_factory=dict, repr=False)  # epoch -> model then
    share_s: float = 0.0  # its share of its stack's time: each epoch's seconds split among the runs in it

    @property
    def diverged(self) -> bool:
        return self.diverged_epoch is not None


HISTORY_KEYS = ("train_loss", "train_eval_loss", "train_acc", "val_loss", "val_acc", "lr", "wall_s")


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _plateau(cfg: TrainConfig) -> torch.optim.lr_scheduler.ReduceLROnPlateau | None:
    """torch's own scheduler on a stand-in optimizer: its lr is this run's lr."""
    if not cfg.plateau_factor:
        return None
    stand_in = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=cfg.lr)
    return torch.optim.lr_scheduler.ReduceLROnPlateau(
        stand_in,
        factor=cfg.plateau_factor,
        patience=cfg.plateau_patience,
        threshold=cfg.plateau_threshold,
        threshold_mode="abs",
        min_lr=cfg.plateau_min_lr,
    )


class Stepper:
    """Calls ``Stack.step``; on CUDA full-size steps replay one captured graph per stack."""

    def __init__(self, stack: Stack, pixels: Tensor, labels: Tensor, batch: int, graph: bool):
        self.stack, self.pixels, self.labels = stack, pixels, labels
        self.graph = graph and pixels.device.type == "cuda"
        self.idx = torch.zeros(len(stack.cfgs), batch, dtype=torch.long, device=pixels.device)
        self.captured: torch.cuda.CUDAGraph | None = None
        self.warm = 0

    def reset(self) -> None:
        """The stack shrank: its tensors are new, so the next full-size step captures a new graph."""
        self.idx = self.idx.new_zeros(len(self.stack.cfgs), self.idx.shape[1])
        self.captured, self.warm = None, 0

    def __call__(self, idx: Tensor) -> None:
        if not self.graph or idx.shape != self.idx.shape:  # the short last batch runs eagerly
            return self.stack.step(idx, self.pixels, self.labels)
        if self.captured is None:
            if self.warm < GRAPH_WARMUP:  # on a side stream, as torch's capture recipe asks
                self.warm += 1
                side = torch.cuda.Stream()
                side.wait_stream(torch.cuda.current_stream())
                with torch.cuda.stream(side):
                    self.stack.step(idx, self.pixels, self.labels)
                return torch.cuda.current_stream().wait_stream(side)
            self._capture()
            if self.captured is None:
                return self.stack.step(idx, self.pixels, self.labels)
        self.idx.copy_(idx)
        self.captured.replay()

    def _capture(self) -> None:
        graph = torch.cuda.CUDAGraph()
        try:
            with torch.cuda.graph(graph):
                self.stack.step(self.idx, self.pixels, self.labels)
        except RuntimeError as exc:  # an op that cannot be captured: train on, eagerly
            warnings.warn(f"CUDA graph capture failed, training eagerly: {exc}", stacklevel=3)
            self.graph = False
            return
        self.captured = graph


def train_stack(
    runs: Sequence[tuple[TrainConfig, int]],
    *,
    train: Split,
    val: Split,
    on_epoch: OnEpoch | None = None,
    snapshots: Sequence[Sequence[int]] = (),
    graph: bool | None = None,
    on_done: OnDone | None = None,
    fused: str | None = None,
) -> list[RunResult]:
    """Train RUNS, (config, seed) pairs sharing hidden widths, batch norm and batch size, at once.

    ``on_epoch(k, epoch, row)`` reports run K's epochs (progress display). ``snapshots[k]`` lists
    epochs of run K whose model to keep too (a shorter run served as a prefix needs its model).
    ``graph``: replay steps as a CUDA graph; default on CUDA. ``fused``: the update
    (``suite.engine.fused``: "off", "eager", "compile"); default compiled on CUDA. Runs may differ in epochs: a run
    that is done (or diverged) leaves the stack at the end of its last epoch, ``on_done(k, result)``
    gets its result at once, and the others train on in a smaller stack.
    """
    device, n = train.pixels.device, len(train)
    cfgs = [cfg for cfg, _ in runs]
    batch = min(cfgs[0].batch_size, n)
    if any(min(c.batch_size, n) != batch for c in cfgs):
        raise ValueError("a stack's runs must share the batch size")
    clock = time.perf_counter()  # each run's share of the stack's time: every epoch split among its runs
    pixels, val_pixels = train.pixels.float(), val.pixels.float()  # scaled per run, per batch
    stack = Stack(runs, pixels.shape[1], device, fused or default_mode(device))
    stepper = Stepper(stack, pixels, train.labels, batch, device.type == "cuda" if graph is None else graph)
    plateaus = [_plateau(cfg) for cfg in cfgs]
    keep = [set(snapshots[k]) if k < len(snapshots) else set() for k in range(len(runs))]
    histories = [{key: [] for key in HISTORY_KEYS} for _ in runs]
    kept: list[dict[int, nn.Module]] = [{} for _ in runs]
    results: list[RunResult | None] = [None] * len(runs)
    shares = [0.0] * len(runs)
    slots = list(range(len(runs)))  # the run of each slice of the stack, as runs leave it

    def leave(k: int, slot: int, diverged_epoch: int | None, wall: float) -> None:
        result = RunResult(runs[k][1], histories[k], diverged_epoch, wall, stack.unstack(slot), kept[k], shares[k])
        results[k] = result
        if on_done:
            on_done(k, result)

    def shrink(leaving: list[int]) -> None:
        nonlocal slots
        if leaving:
            remaining = [slot for slot in range(len(slots)) if slot not in leaving]
            slots = [slots[slot] for slot in remaining]
            if slots:
                stack.keep(remaining)
                stepper.reset()

    empty = [slot for slot, k in enumerate(slots) if cfgs[k].epochs <= 0]  # nothing to train: the initial model
    for slot in empty:
        leave(slots[slot], slot, None, 0.0)
    shrink(empty)
    steps = -(-n // batch)
    _sync(device)
    start = time.perf_counter()
    for epoch in range(1, max((c.epochs for c in cfgs), default=0) + 1):
        if not slots:
            break
        live = [cfgs[k] for k in slots]
        stack.training.copy_(torch.tensor([not (c.eval_mode_slip and epoch > 1) for c in live], device=device))
        stack.loss_sum.zero_()
        order = torch.stack([torch.randperm(n, device=device, generator=g) for g in stack.shufflers])
        for first in range(0, n, batch):
            stepper(order[:, first : first + batch])
        # The slip's epoch-1 accuracies, measured as the book's notebook did; before evaluating,
        # because that pass updates the running statistics the evaluation then uses.
        slip_starts = [c.eval_mode_slip and epoch == 1 for c in live]
        book = torch.tensor(slip_starts, device=device) if any(slip_starts) else None
        if book is not None:
            book_counts = stack.train_mode_accuracy(book, pixels, train.labels, order, batch, val_pixels, val.labels)
        train_loss, train_correct = stack.evaluate(pixels, train.labels)
        val_loss, val_correct = stack.evaluate(val_pixels, val.labels)
        if book is not None:
            train_correct, val_correct = (
                torch.where(book, counted, evaluated)
                for counted, evaluated in zip(book_counts, (train_correct, val_correct))
            )
        curves = torch.stack(
            [t.double() for t in (train_loss, train_correct, val_loss, val_correct, stack.loss_sum)]
        ).tolist()  # one sync
        now = time.perf_counter() - start
        lap, clock = time.perf_counter() - clock, time.perf_counter()
        leaving = []
        for slot, k in enumerate(slots):
            shares[k] += lap / len(slots)
            row = dict(
                train_loss=curves[4][slot] / steps,
                train_eval_loss=curves[0][slot] / n,
                train_acc=curves[1][slot] / n,
                val_loss=curves[2][slot] / len(val),
                val_acc=curves[3][slot] / len(val),
                lr=plateaus[k].optimizer.param_groups[0]["lr"] if plateaus[k] else cfgs[k].lr,
                wall_s=now,
            )
            for key, value in row.items():
                histories[k][key].append(value)
            if on_epoch:
                on_epoch(k, epoch, row)
            diverged = not math.isfinite(row["train_loss"])
            if diverged or epoch == cfgs[k].epochs:
                leave(k, slot, epoch if diverged else None, now)
                leaving.append(slot)
                continue
            if epoch in keep[k]:
                kept[k][epoch] = stack.unstack(slot)
            if plateaus[k]:
                plateaus[k].step(row["val_loss"])
                stack.lr[slot] = plateaus[k].optimizer.param_groups[0]["lr"]
        shrink(leaving)
    _sync(device)
    assert all(result is not None for result in results), "every run leaves at its last epoch"
    return results  # type: ignore[return-value]


def train(
    cfg: TrainConfig,
    *,
    seed: int,
    train: Split,
    val: Split,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
) -> RunResult:
    """Train one run: a stack of one, the reference the stacked runs are compared against."""
    report = (lambda _, epoch, row: on_epoch(epoch, row)) if on_epoch else None
    return train_stack([(cfg, seed)], train=train, val=val, on_epoch=report)[0]
