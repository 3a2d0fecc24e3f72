"""The fused stack update (suite.engine.fused) against torch.optim on each run alone, on the CPU.

    pytest tests/test_fused.py -q

fp32 tolerance, not bitwise: the fused expression may round in another order than torch's Adam.
The CPU's training keeps ``Stack._update`` (bitwise), so these tests are what vouches for the
path CUDA uses; tests/test_cuda.py runs the compiled one on a GPU.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from suite.engine.fused import FusedUpdate, default_mode, flat_zeros
from suite.engine.trainer import train, train_stack
from suite.spec.config import TrainConfig
from tests.helpers import SMALL

pytestmark = pytest.mark.usefixtures("one_thread")

SHAPES = [(16, 8), (1, 16), (4, 16), (1, 4)]  # weight, bias, weight, bias: [K, ...] each
STACKS = {
    "sgd": [("sgd", 0.1), ("sgd", 0.01), ("sgd", 0.5)],
    "adam": [("adam", 1e-3), ("adam", 1e-2), ("adam", 3e-4)],
    "mixed": [("sgd", 0.1), ("adam", 1e-3), ("sgd", 0.01), ("adam", 1e-2)],
}


@pytest.mark.parametrize("name", STACKS)
def test_the_fused_update_equals_torch_optim_on_each_run_alone(name):
    runs = STACKS[name]
    k = len(runs)
    generator = torch.Generator().manual_seed(3)
    params = [torch.randn(k, *shape, generator=generator) for shape in SHAPES]
    alone = [[p[r].clone().requires_grad_() for p in params] for r in range(k)]
    optimizers = [
        (torch.optim.Adam if opt == "adam" else torch.optim.SGD)(alone[r], lr=lr) for r, (opt, lr) in enumerate(runs)
    ]
    firsts, seconds = flat_zeros(params), flat_zeros(params)
    lr = torch.tensor([lr for _, lr in runs], dtype=torch.float64)
    is_adam = torch.tensor([opt == "adam" for opt, _ in runs])
    steps = torch.zeros((), dtype=torch.long)
    fused = FusedUpdate("eager")
    for _ in range(5):
        grads = [torch.randn(p.shape, generator=generator) for p in params]
        steps += 1
        fused(params, grads, firsts, seconds, lr, is_adam, steps)
        for r, optimizer in enumerate(optimizers):
            for p, g in zip(alone[r], grads):
                p.grad = g[r].clone()
            optimizer.step()
    for r in range(k):
        for mine, theirs in zip(params, alone[r]):
            torch.testing.assert_close(mine[r], theirs.detach(), rtol=1e-6, atol=1e-7)


def test_state_buffers_are_views_of_one_buffer():
    params = [torch.ones(2, 3), torch.ones(2, 1, 5)]
    views = flat_zeros(params)
    assert [v.shape for v in views] == [p.shape for p in params] and all(v.is_contiguous() for v in views)
    assert views[0].untyped_storage().data_ptr() == views[1].untyped_storage().data_ptr()


def test_a_stack_trained_with_the_fused_update_matches_each_run_alone(tiny):
    """Mixed SGD/Adam runs of different lengths with the eager fused update: each run's curves as
    the run alone with the CPU's own update, to fp32 rounding (it leaves the stack in between)."""
    adam = TrainConfig(optimizer="adam", lr=1e-3, **SMALL)
    runs = [(adam, 0), (replace(adam, optimizer="sgd", lr=1e-2, epochs=1), 1), (replace(adam, lr=1e-2), 2)]
    for (cfg, seed), result in zip(runs, train_stack(runs, train=tiny[0], val=tiny[1], fused="eager")):
        reference = train(cfg, seed=seed, train=tiny[0], val=tiny[1])
        for key in ("train_loss", "val_loss", "val_acc"):
            assert result.history[key] == pytest.approx(reference.history[key], rel=1e-4, abs=1e-6), (cfg, key)


def test_the_cpu_keeps_its_own_update_unless_asked(monkeypatch):
    monkeypatch.delenv("ABLATION_FUSED_UPDATE", raising=False)
    assert default_mode(torch.device("cpu")) == "off" and default_mode(torch.device("cuda")) == "compile"
    monkeypatch.setenv("ABLATION_FUSED_UPDATE", "eager")
    assert default_mode(torch.device("cpu")) == "eager"
    monkeypatch.setenv("ABLATION_FUSED_UPDATE", "fast")
    with pytest.raises(ValueError, match="fast"):
        default_mode(torch.device("cpu"))
