"""The stacked model's building blocks: a GEMM-faithful batched linear layer, the dropout hash, per-run tensors.

    from suite.engine.stack_ops import Linear, mix, per_run, bcast
    h = Linear.apply(x, weight, bias)     # [K,B,in] x [K,out,in] + [K,1,out] -> [K,B,out]

Used by ``suite.engine.stack``; kept apart so that the Stack's module holds the model and its step.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

M32 = 0xFFFF_FFFF


def mix(x: Tensor) -> Tensor:
    """A 32-bit integer hash (lowbias32-style) on int64 tensors; constants < 2**31: no overflow.

    In place on one new tensor (integer results do not depend on it): fewer [K, B, width]
    tensors to allocate per dropout layer and step, ~20% of the mask's time on the CPU.
    """
    x = x & M32
    x ^= x >> 16
    x.mul_(0x7FEB352D).bitwise_and_(M32)
    x ^= x >> 15
    x.mul_(0x2C1B3C6D).bitwise_and_(M32)
    x ^= x >> 16
    return x


class Linear(torch.autograd.Function):
    """baddbmm(bias, x, weight^T) whose backward runs the GEMMs of nn.Linear's backward.

    Autograd's own baddbmm backward computes the weight gradient as (x^T g)^T, which rounds
    differently from nn.Linear's g^T x for narrow layers: this keeps a stack of one on the CPU
    bitwise equal to the one-model trainer it replaced.
    """

    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:  # [K,B,in], [K,out,in], [K,1,out]
        ctx.save_for_backward(x, weight)
        return torch.baddbmm(bias, x, weight.transpose(1, 2))

    @staticmethod
    def backward(ctx, grad: Tensor):
        x, weight = ctx.saved_tensors
        grad_x = torch.bmm(grad, weight) if ctx.needs_input_grad[0] else None
        return grad_x, torch.bmm(grad.transpose(1, 2), x), grad.sum(1, keepdim=True)


def per_run(values: Sequence[float], device, dtype=torch.float32) -> Tensor:
    return torch.tensor(list(values), dtype=dtype, device=device)


def bcast(t: Tensor, like: Tensor) -> Tensor:
    """A [K] tensor shaped to broadcast against a [K, ...] one."""
    return t.view(-1, *[1] * (like.dim() - 1))
