"""One trainer for every ablation: the book's MLP on device tensors, configured by a dataclass.

    from suite.trainer import TrainConfig, train
    result = train(TrainConfig(optimizer="adam", lr=1e-3, epochs=5), seed=0, train=..., val=...)
    result.history["val_acc"][-1]

The trainer knows nothing of experiments: it trains one model for one seed and records, per
epoch, the curves the book plots. A run is a pure function of (config, seed, data). A loss that
turns NaN or infinite ends the run early and is recorded (``diverged_epoch``), never raised.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

import torch
from torch import nn

from suite.data import Split

EVAL_CHUNK = 10_000  # rows per forward pass when evaluating a whole split


@dataclass(frozen=True)
class TrainConfig:
    """Defaults are the book's baseline model of chapter 3."""

    input_scale: float = 1 / 255  # multiplies raw 0..255 pixels; 1.0 trains on raw pixels
    hidden: tuple[int, ...] = (1000,)  # widths of the hidden layers; () is logistic regression
    batch_norm: bool = False  # BatchNorm1d between each hidden Linear and its ReLU
    dropout: float = 0.0  # probability; Dropout before the first Linear and after each ReLU
    optimizer: str = "sgd"  # "sgd" (plain, no momentum) or "adam", both torch defaults otherwise
    lr: float = 1e-2  # initial learning rate
    batch_size: int = 32  # images per step; capped at the training-set size
    epochs: int = 5  # full passes over the training split, reshuffled each time
    l1: float = 0.0  # adds l1 * sum_p ||p||_1 over all parameters to the loss (book, L1 section)
    l2: float = 0.0  # adds l2 * sum_p ||p||_2 (norms, not squared: the book's L2 section)
    plateau_factor: float = 0.0  # >0 enables ReduceLROnPlateau on validation loss with this factor
    plateau_patience: int = 0  # epochs without improvement before a cut
    plateau_threshold: float = 1e-3  # absolute improvement in validation loss that counts
    plateau_min_lr: float = 1e-5  # the learning rate is never cut below this
    eval_mode_slip: bool = False  # reproduce the book's BN notebook: after epoch 1 train in eval mode

    def as_dict(self) -> dict:
        return asdict(self)


def build_model(cfg: TrainConfig, in_features: int = 784, classes: int = 10) -> nn.Sequential:
    layers: list[nn.Module] = []
    width = in_features
    for hidden in cfg.hidden:
        if cfg.dropout:
            layers.append(nn.Dropout(cfg.dropout))
        layers.append(nn.Linear(width, hidden))
        if cfg.batch_norm:
            layers.append(nn.BatchNorm1d(hidden))
        layers.append(nn.ReLU())
        width = hidden
    if cfg.dropout and cfg.hidden:
        layers.append(nn.Dropout(cfg.dropout))
    layers.append(nn.Linear(width, classes))
    return nn.Sequential(*layers)


def _optimizer(cfg: TrainConfig, params) -> torch.optim.Optimizer:
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr)
    raise ValueError(f"unknown optimizer {cfg.optimizer!r} (expected 'sgd' or 'adam')")


def _penalty(cfg: TrainConfig, model: nn.Module) -> torch.Tensor | float:
    penalty: torch.Tensor | float = 0.0
    if cfg.l1:
        penalty = penalty + cfg.l1 * sum(p.abs().sum() for p in model.parameters())
    if cfg.l2:
        penalty = penalty + cfg.l2 * sum(p.norm(2) for p in model.parameters())
    return penalty


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
    wall_s: float  # training + per-epoch evaluation, synchronized
    model: nn.Module = field(repr=False)

    @property
    def diverged(self) -> bool:
        return self.diverged_epoch is not None


HISTORY_KEYS = ("train_loss", "train_eval_loss", "train_acc", "val_loss", "val_acc", "lr", "wall_s")


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def train(
    cfg: TrainConfig,
    *,
    seed: int,
    train: Split,
    val: Split,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
) -> RunResult:
    """Train one model; ``on_epoch(epoch, row)`` is called after each epoch (progress display)."""
    device = train.pixels.device
    torch.manual_seed(seed)  # initialisation, shuffling and dropout masks all follow the seed
    x_train = train.pixels.float() * cfg.input_scale
    x_val = val.pixels.float() * cfg.input_scale
    model = build_model(cfg, x_train.shape[1]).to(device)
    opt = _optimizer(cfg, model.parameters())
    plateau = None
    if cfg.plateau_factor:
        plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(
            opt, factor=cfg.plateau_factor, patience=cfg.plateau_patience,
            threshold=cfg.plateau_threshold, threshold_mode="abs", min_lr=cfg.plateau_min_lr,
        )
    n = len(train)
    batch = min(cfg.batch_size, n)
    history: dict[str, list[float]] = {key: [] for key in HISTORY_KEYS}
    diverged_epoch = None
    _sync(device)
    start = time.perf_counter()
    for epoch in range(1, cfg.epochs + 1):
        model.train(not (cfg.eval_mode_slip and epoch > 1))
        order = torch.randperm(n, device=device)
        loss_sum = torch.zeros((), device=device)  # summed on device: no host sync per step
        steps = 0
        for first in range(0, n, batch):
            idx = order[first : first + batch]
            loss = nn.functional.cross_entropy(model(x_train[idx]), train.labels[idx]) + _penalty(cfg, model)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.detach()
            steps += 1
        model.eval()
        train_eval_loss, train_acc = evaluate(model, x_train, train.labels)
        val_loss, val_acc = evaluate(model, x_val, val.labels)
        train_loss = loss_sum.item() / steps
        row = dict(
            train_loss=train_loss, train_eval_loss=train_eval_loss, train_acc=train_acc,
            val_loss=val_loss, val_acc=val_acc, lr=opt.param_groups[0]["lr"],
            wall_s=time.perf_counter() - start,
        )
        for key, value in row.items():
            history[key].append(value)
        if on_epoch:
            on_epoch(epoch, row)
        if not math.isfinite(train_loss):
            diverged_epoch = epoch
            break
        if plateau is not None:
            plateau.step(val_loss)
    _sync(device)
    return RunResult(seed, history, diverged_epoch, time.perf_counter() - start, model)
