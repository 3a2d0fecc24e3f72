"""One update for a whole stack: SGD or Adam per run as data, optimizer state in flat buffers.

    from suite.engine.fused import FusedUpdate, flat_zeros
    firsts, seconds = flat_zeros(params), flat_zeros(params)   # views of one buffer each
    update = FusedUpdate("compile")                            # or "eager"
    update(params, grads, firsts, seconds, lr, is_adam, steps) # in place, no host sync

Why: on CUDA a step of a small stack is bound by its number of kernels, not its bytes (docs/gpu.md:
3 Adam runs cost about 290 us a step for 30 us of memory traffic). ``Stack._update`` runs about
ten elementwise kernels per parameter (moments, bias corrections, the per-run selection between
SGD and Adam); here each parameter's moments, step and selection are one expression that
``torch.compile`` turns into one kernel per parameter (``combo_kernels`` may join them further).
The arithmetic is torch's Adam and SGD (``torch.optim``, not capturable: bias corrections in
double precision) with the learning rate and the optimizer per run ([K] tensors), so plateau
cuts and mixed stacks need no recompilation. fp32 throughout; rounding may differ from
``Stack._update`` by the order of operations a fused kernel picks, so the CPU, whose numbers are
promised bitwise, keeps ``Stack._update``; this path is for CUDA (or where asked for).
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable, Sequence

import torch
from torch import Tensor

BETAS, ADAM_EPS = (0.9, 0.999), 1e-8  # torch.optim.Adam's defaults, as the book uses them
MODES = ("off", "eager", "compile")
ENV_VAR = "ABLATION_FUSED_UPDATE"  # off | eager | compile: overrides the device's default (a benchmark's switch)


def default_mode(device: torch.device) -> str:
    """CUDA: compiled; the CPU: off (``Stack._update``, whose numbers the suite promises bitwise)."""
    mode = os.environ.get(ENV_VAR) or ("compile" if device.type == "cuda" else "off")
    if mode not in MODES:
        raise ValueError(f"{ENV_VAR}={mode!r}: expected one of {MODES}")
    return mode


def flat_zeros(like: Sequence[Tensor]) -> list[Tensor]:
    """Zeros shaped like each of LIKE, as contiguous views of one buffer (one allocation, one
    memory region for the state of every parameter)."""
    buffer = torch.zeros(sum(t.numel() for t in like), dtype=like[0].dtype, device=like[0].device)
    views, start = [], 0
    for t in like:
        views.append(buffer[start : start + t.numel()].view(t.shape))
        start += t.numel()
    return views


def _per_run(t: Tensor, like: Tensor) -> Tensor:
    return t.view(-1, *[1] * (like.dim() - 1))


def update(
    params: list[Tensor],
    grads: list[Tensor],
    firsts: list[Tensor],
    seconds: list[Tensor],
    lr: Tensor,
    is_adam: Tensor,
    steps: Tensor,
) -> None:
    """Each run's SGD or Adam step (IS_ADAM [K]) with its learning rate (LR [K], double), in place.

    STEPS is the optimizer steps taken, this one included. SGD runs leave their moments unused.
    """
    count = steps.double()
    step_size = (lr / (1 - BETAS[0] ** count)).float()
    root = ((1 - BETAS[1] ** count) ** 0.5).float()
    lr32 = lr.float()
    for p, g, m, v in zip(params, grads, firsts, seconds):
        m.lerp_(g, 1 - BETAS[0])
        v.mul_(BETAS[1]).addcmul_(g, g, value=1 - BETAS[1])
        denom = v.sqrt() / root + ADAM_EPS
        adam = p - _per_run(step_size, p) * m / denom
        sgd = p - _per_run(lr32, p) * g
        p.copy_(torch.where(_per_run(is_adam, p), adam, sgd))


class FusedUpdate:
    """``update``, eager or compiled once (compile seconds in ``compile_s``, counted in the step
    time of the first call). A compiled function that fails on its first call falls back to eager."""

    def __init__(self, mode: str = "compile"):
        if mode not in MODES[1:]:
            raise ValueError(f"fused update mode {mode!r}: expected one of {MODES[1:]}")
        self.mode = mode
        self.compile_s: float | None = None
        self._fn: Callable[..., None] = update
        if mode == "compile":  # shapes may change (a stack shrinks): dynamic after the first change
            self._fn = torch.compile(update, fullgraph=True)

    def __call__(self, *args: object) -> None:
        if self.mode != "compile" or self.compile_s is not None:
            return self._fn(*args)
        start = time.perf_counter()
        try:
            self._fn(*args)
        except Exception as exc:  # noqa: BLE001 - any compiler failure: train on, eagerly
            warnings.warn(f"torch.compile of the fused update failed, running it eagerly: {exc}", stacklevel=2)
            self.mode, self._fn = "eager", update
            return update(*args)
        self.compile_s = time.perf_counter() - start


_SHARED: dict[str, FusedUpdate] = {}


def shared(mode: str) -> FusedUpdate | None:
    """One FusedUpdate per mode for the process, so that every stack reuses the compiled code."""
    if mode == "off":
        return None
    return _SHARED.setdefault(mode, FusedUpdate(mode))
