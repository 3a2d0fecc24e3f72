"""All seeds of one variant trained together, as one stacked model: S seeds cost about one run.

    from suite.batched import train_seeds
    results = train_seeds(cfg, [0, 1, 2], train=train_split, val=val_split)   # list[RunResult]
    results = train_seeds(cfg, [0, 1, 2], train=..., val=..., cuda_graph=True)  # CUDA: replay steps

Same semantics and history as ``suite.trainer.train`` once per seed. Each seed has its own slice
of every parameter ([S, in, out] weights, batched matmuls), its own initialisation (the trainer's,
copied in), shuffle order (the trainer's on CPU and CUDA), dropout masks, batch-norm statistics,
penalties, learning rate (a per-seed ReduceLROnPlateau) and divergence. SGD and Adam act
elementwise and the loss is the sum of the per-seed losses, so one optimizer over the stack is S
independent optimizers. Dropout masks come from one generator seeded by the list of seeds, so
with dropout a seed's run depends on which seeds share its batch.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass
from typing import Callable

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from suite.data import Split
from suite.trainer import EVAL_CHUNK, HISTORY_KEYS, RunResult, TrainConfig, _optimizer, _sync, build_model
from suite.trainer import train as train_one

OnEpoch = Callable[[int, int, dict], None]  # (seed, epoch, row)
GRAPH_WARMUP = 3  # eager steps before a capture: lazy optimizer state and cuBLAS handles first


@dataclass
class _Linear:
    weight: Tensor  # [S, in, out]: nn.Linear's weight transposed, so that baddbmm needs no copy
    bias: Tensor  # [S, 1, out]


@dataclass
class _Norm:
    weight: Tensor  # [S, 1, H], as are bias and the running statistics mean and var
    bias: Tensor
    mean: Tensor
    var: Tensor
    count: Tensor  # [S] num_batches_tracked
    momentum: float
    eps: float


Layer = _Linear | _Norm | str  # "relu" and "dropout" carry no state


def supports_batching(cfg: TrainConfig) -> bool:
    """Whether train_batched implements CFG: every field is, for the trainer's two optimizers."""
    return cfg.optimizer in ("sgd", "adam")


def train_seeds(cfg: TrainConfig, seeds: list[int], *, train: Split, val: Split,
                on_epoch: OnEpoch | None = None, batched: bool = True,
                cuda_graph: bool = False) -> list[RunResult]:
    """Batched when asked for and possible, else the exact unbatched trainer once per seed."""
    if batched and len(seeds) > 1 and supports_batching(cfg):
        return train_batched(cfg, seeds=seeds, train=train, val=val, on_epoch=on_epoch, cuda_graph=cuda_graph)
    return [train_one(cfg, seed=seed, train=train, val=val,
                      on_epoch=(lambda e, row, s=seed: on_epoch(s, e, row)) if on_epoch else None)
            for seed in seeds]


def _param(tensors: list[Tensor], grad: bool = True) -> Tensor:
    return torch.stack([t.detach() for t in tensors]).contiguous().requires_grad_(grad)


def _stack(models: list[nn.Sequential]) -> list[Layer]:
    layers: list[Layer] = []
    for modules in zip(*models):
        first = modules[0]
        if isinstance(first, nn.Linear):
            weights, biases = [m.weight.T for m in modules], [m.bias[None] for m in modules]
            layers.append(_Linear(_param(weights), _param(biases)))
        elif isinstance(first, nn.BatchNorm1d):
            weight, bias, mean, var = ([getattr(m, name)[None] for m in modules]
                                       for name in ("weight", "bias", "running_mean", "running_var"))
            counts = [m.num_batches_tracked for m in modules]
            layers.append(_Norm(_param(weight), _param(bias), _param(mean, False), _param(var, False),
                                _param(counts, False), first.momentum, first.eps))
        elif isinstance(first, (nn.ReLU, nn.Dropout)):
            layers.append("relu" if isinstance(first, nn.ReLU) else "dropout")
        else:
            raise TypeError(f"train_batched cannot stack {type(first).__name__}")
    return layers


def _params(layers: list[Layer]) -> list[Tensor]:
    return [t for layer in layers if not isinstance(layer, str) for t in (layer.weight, layer.bias)]


@torch.no_grad()
def _unstack(layers: list[Layer], model: nn.Sequential, s: int) -> None:
    for module, layer in zip(model, layers):
        if isinstance(layer, str):
            continue
        module.weight.copy_(layer.weight[s].T if isinstance(layer, _Linear) else layer.weight[s, 0])
        module.bias.copy_(layer.bias[s, 0])
        if isinstance(layer, _Norm):
            module.running_mean.copy_(layer.mean[s, 0])
            module.running_var.copy_(layer.var[s, 0])
            module.num_batches_tracked.copy_(layer.count[s])


def _batch_norm(h: Tensor, bn: _Norm, training: bool) -> Tensor:
    if training:  # BatchNorm1d: biased variance normalizes, unbiased variance is remembered
        mean, var = h.mean(1, keepdim=True), h.var(1, keepdim=True, correction=0)
        with torch.no_grad():
            n = h.shape[1]
            bn.mean.mul_(1 - bn.momentum).add_(mean, alpha=bn.momentum)
            bn.var.mul_(1 - bn.momentum).add_(var * (n / (n - 1)), alpha=bn.momentum)
            bn.count.add_(1)
    else:
        mean, var = bn.mean, bn.var
    return (h - mean) * torch.rsqrt(var + bn.eps) * bn.weight + bn.bias


def _forward(layers: list[Layer], h: Tensor, training: bool, p: float) -> Tensor:
    for layer in layers:
        if isinstance(layer, _Linear):
            h = torch.baddbmm(layer.bias, h, layer.weight)
        elif isinstance(layer, _Norm):
            h = _batch_norm(h, layer, training)
        elif layer == "relu":
            h = h.relu()
        else:
            h = F.dropout(h, p, training)
    return h


def _penalty(cfg: TrainConfig, params: list[Tensor]) -> Tensor | float:
    """Per seed [S]: the trainer's L1 and (unsquared) L2 norms over each seed's slice."""
    penalty: Tensor | float = 0.0
    if cfg.l1:
        penalty = penalty + cfg.l1 * sum(p.abs().sum((1, 2)) for p in params)
    if cfg.l2:
        penalty = penalty + cfg.l2 * sum(torch.linalg.vector_norm(p, dim=(1, 2)) for p in params)
    return penalty


def _cross_entropy(logits: Tensor, target: Tensor) -> Tensor:
    """[S, B] losses of [S, B, classes] logits."""
    return F.cross_entropy(logits.flatten(0, 1), target.flatten(), reduction="none").view(target.shape)


@torch.no_grad()
def _evaluate(layers: list[Layer], x: Tensor, y: Tensor, seeds: int) -> tuple[Tensor, Tensor]:
    """Summed cross-entropy and correct count per seed [S], on device: no sync here."""
    loss = torch.zeros(seeds, device=x.device)
    correct = torch.zeros(seeds, device=x.device, dtype=torch.long)
    for start in range(0, len(y), EVAL_CHUNK):
        logits = _forward(layers, x[start : start + EVAL_CHUNK].expand(seeds, -1, -1), False, 0.0)
        target = y[start : start + EVAL_CHUNK].expand(seeds, -1)
        loss += _cross_entropy(logits, target).sum(1)
        correct += (logits.argmax(2) == target).sum(1)
    return loss, correct


class _Stepper:
    """One optimizer step for all seeds; on CUDA with ``graph`` full-size steps replay a capture."""

    def __init__(self, cfg: TrainConfig, layers: list[Layer], x: Tensor, y: Tensor, batch: int,
                 graph: bool):
        self.cfg, self.layers, self.x, self.y = cfg, layers, x, y
        self.params = _params(layers)
        seeds = self.params[0].shape[0]
        self.graph = graph and x.device.type == "cuda"
        capturable = self.graph and cfg.optimizer == "adam"  # Adam keeps its step count on the device
        self.opt = (torch.optim.Adam(self.params, lr=cfg.lr, capturable=True) if capturable
                    else _optimizer(cfg, self.params))
        self.active = torch.ones(seeds, dtype=torch.bool, device=x.device)  # False: diverged, frozen
        self.lr_scale = torch.ones(seeds, 1, 1, device=x.device)  # per-seed lr / cfg.lr
        self.loss_sum = torch.zeros(seeds, device=x.device)
        self.graphs: dict[bool, torch.cuda.CUDAGraph] = {}
        self.warm = {True: 0, False: 0}
        self.idx = torch.zeros(seeds, batch, dtype=torch.long, device=x.device)  # the captures' input

    def eager(self, idx: Tensor, training: bool) -> None:
        logits = _forward(self.layers, self.x[idx], training, self.cfg.dropout)
        target = self.y[idx]
        loss = _cross_entropy(logits, target).mean(1)
        loss = torch.where(self.active, loss + _penalty(self.cfg, self.params), 0.0)
        self.opt.zero_grad(set_to_none=True)
        loss.sum().backward()
        # torch's optimizers take one lr: with a per-seed plateau each seed's update is rescaled.
        before = [p.detach().clone() for p in self.params] if self.cfg.plateau_factor else []
        self.opt.step()
        with torch.no_grad():
            for p, old in zip(self.params, before):
                p.sub_(old).mul_(self.lr_scale).add_(old)
        self.loss_sum += loss.detach()

    def __call__(self, idx: Tensor, training: bool) -> None:
        if not self.graph or idx.shape != self.idx.shape:  # the short last batch runs eagerly
            return self.eager(idx, training)
        if training not in self.graphs:
            if self.warm[training] < GRAPH_WARMUP:  # on a side stream, as torch's capture recipe asks
                self.warm[training] += 1
                side = torch.cuda.Stream()
                side.wait_stream(torch.cuda.current_stream())
                with torch.cuda.stream(side):
                    self.eager(idx, training)
                return torch.cuda.current_stream().wait_stream(side)
            self._capture(training)
            if not self.graph:
                return self.eager(idx, training)
        self.idx.copy_(idx)
        self.graphs[training].replay()

    def _capture(self, training: bool) -> None:
        graph = torch.cuda.CUDAGraph()
        try:
            with torch.cuda.graph(graph):
                self.eager(self.idx, training)
        except RuntimeError as exc:  # an op that cannot be captured: train on, eagerly
            warnings.warn(f"CUDA graph capture failed, training eagerly: {exc}", stacklevel=3)
            self.graph = False
            return
        self.graphs[training] = graph

    @torch.no_grad()
    def freeze(self, s: int) -> None:
        """Zero a diverged seed's slice and optimizer state: masked, it then stays finite and still."""
        self.active[s] = False
        for p in self.params:
            p[s] = 0
            for state in self.opt.state.get(p, {}).values():
                if torch.is_tensor(state) and state.shape == p.shape:
                    state[s] = 0
        for bn in self.layers:
            if isinstance(bn, _Norm):
                bn.mean[s], bn.var[s] = 0, 1


def _plateau(cfg: TrainConfig) -> torch.optim.lr_scheduler.ReduceLROnPlateau:
    """torch's own scheduler on a stand-in optimizer: its lr is one seed's lr."""
    stand_in = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=cfg.lr)
    return torch.optim.lr_scheduler.ReduceLROnPlateau(
        stand_in, factor=cfg.plateau_factor, patience=cfg.plateau_patience,
        threshold=cfg.plateau_threshold, threshold_mode="abs", min_lr=cfg.plateau_min_lr)


def _init(cfg: TrainConfig, seeds: list[int], features: int, device: torch.device):
    """The trainer's initial models, and per seed the generator its randperm would use."""
    models, shufflers = [], []
    for seed in seeds:
        torch.manual_seed(seed)
        models.append(build_model(cfg, features).to(device))
        shuffler = torch.Generator(device=device)
        if device.type == "cpu":  # the trainer shuffles with the CPU stream that init advanced
            shuffler.set_state(torch.get_rng_state())
        else:  # init ran on the CPU: the trainer's device stream is still fresh
            shuffler.manual_seed(seed)
        shufflers.append(shuffler)
    return models, shufflers


def train_batched(cfg: TrainConfig, *, seeds: list[int], train: Split, val: Split,
                  on_epoch: OnEpoch | None = None, cuda_graph: bool = False) -> list[RunResult]:
    """Train one model per seed at once; ``on_epoch(seed, epoch, row)`` reports progress.

    ``wall_s`` is the batch's clock: seeds trained together share it.
    """
    device, n = train.pixels.device, len(train)
    x_train, x_val = train.pixels.float() * cfg.input_scale, val.pixels.float() * cfg.input_scale
    models, shufflers = _init(cfg, seeds, x_train.shape[1], device)
    layers, live = _stack(models), list(range(len(seeds)))
    torch.manual_seed(hash(tuple(seeds)) & 0x7FFF_FFFF)  # dropout masks: a pure function of the seeds
    batch = min(cfg.batch_size, n)
    step = _Stepper(cfg, layers, x_train, train.labels, batch, cuda_graph)
    plateaus = [_plateau(cfg) for _ in seeds] if cfg.plateau_factor else []
    steps = math.ceil(n / batch)
    histories = [{key: [] for key in HISTORY_KEYS} for _ in seeds]
    diverged: list[int | None] = [None] * len(seeds)
    _sync(device)
    start = time.perf_counter()
    for epoch in range(1, cfg.epochs + 1):
        training = not (cfg.eval_mode_slip and epoch > 1)
        order = torch.stack([torch.randperm(n, device=device, generator=g) for g in shufflers])
        step.loss_sum.zero_()
        for first in range(0, n, batch):
            step(order[:, first : first + batch], training)
        curves = torch.stack([*_evaluate(layers, x_train, train.labels, len(seeds)),
                              *_evaluate(layers, x_val, val.labels, len(seeds)), step.loss_sum]).tolist()
        now = time.perf_counter() - start
        for s in list(live):
            row = dict(train_loss=curves[4][s] / steps, train_eval_loss=curves[0][s] / n,
                       train_acc=curves[1][s] / n, val_loss=curves[2][s] / len(val),
                       val_acc=curves[3][s] / len(val),
                       lr=plateaus[s].optimizer.param_groups[0]["lr"] if plateaus else cfg.lr, wall_s=now)
            for key, value in row.items():
                histories[s][key].append(value)
            if on_epoch:
                on_epoch(seeds[s], epoch, row)
            if not math.isfinite(row["train_loss"]):
                diverged[s] = epoch
                _unstack(layers, models[s], s)  # the trainer returns the model as it diverged
                step.freeze(s)
                live.remove(s)
            elif plateaus:
                plateaus[s].step(row["val_loss"])
                step.lr_scale[s] = plateaus[s].optimizer.param_groups[0]["lr"] / cfg.lr
        if not live:
            break
    for s in live:
        _unstack(layers, models[s], s)
    _sync(device)
    wall = time.perf_counter() - start
    return [RunResult(seed, histories[s], diverged[s], histories[s]["wall_s"][-1] if diverged[s] else wall,
                      models[s]) for s, seed in enumerate(seeds)]
