"""Dropout in the stacked trainer against an independent plain-torch reference, bitwise on the CPU.

    pytest tests/test_dropout_reference.py -q

The reference is the textbook loop (nn.Linear layers from ``build_model`` under the run's seed,
torch.optim, the global RNG's shuffle) with the book's dropout written out by hand: the input of
every Linear layer (the images, then each ReLU's output) is multiplied by a keep mask scaled by
1/(1-p); the logits never are; evaluation applies none. The masks are recomputed here from the
stack's documented recipe, a hash (``stack_ops.mix``) of (seed, layer, step, position), not taken
from the Stack's dropout code, so that a mask put in the wrong place, scaled wrongly or left on
at evaluation makes the two differ.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from suite.engine.model import build_model
from suite.engine.stack import Stack
from suite.engine.stack_ops import mix
from suite.engine.trainer import train
from suite.spec.config import TrainConfig

# One thread: on a busy 2-core machine two threads for these tiny matmuls spin-wait (10x slower).
pytestmark = pytest.mark.usefixtures("one_thread")


def keep_mask(seed: int, layer: int, step: int, rows: int, width: int, p: float) -> torch.Tensor:
    """Run SEED's keep mask [rows, width] for the input of Linear layer LAYER at optimizer step STEP."""
    key = mix(mix(torch.tensor(seed * 1_000_003 + layer)))
    stream = mix(key ^ mix(torch.tensor(step)))
    uniform = (mix(stream + torch.arange(rows * width).view(rows, width)) >> 8).float() * 2.0**-24
    return uniform >= p


def reference_forward(linears: list[nn.Linear], x, *, seed: int, step: int | None, p: float):
    """The book's MLP: dropout before each Linear (never on the logits), ReLU after each hidden one.
    ``step=None``: evaluation, no dropout."""
    h = x
    for layer, linear in enumerate(linears):
        if step is not None and p:
            h = h * (keep_mask(seed, layer, step, *h.shape, p) / torch.tensor(1 - p))
        h = linear(h)
        if layer < len(linears) - 1:
            h = h.relu()
    return h


def reference_training(cfg: TrainConfig, seed: int, train_split, val_split) -> dict:
    """(train_loss, val_loss, val_acc per epoch; the final Linear layers) of the reference loop."""
    torch.manual_seed(seed)
    x, x_val = train_split.pixels.float() * cfg.input_scale, val_split.pixels.float() * cfg.input_scale
    linears = [m for m in build_model(cfg, x.shape[1]) if isinstance(m, nn.Linear)]
    params = [p for m in linears for p in m.parameters()]
    opt = (torch.optim.Adam if cfg.optimizer == "adam" else torch.optim.SGD)(params, lr=cfg.lr)
    out = {"train_loss": [], "val_loss": [], "val_acc": []}
    step = 0
    for _ in range(cfg.epochs):
        order, total, batches = torch.randperm(len(x)), torch.zeros(()), 0  # summed in float32, as the stack
        for first in range(0, len(x), cfg.batch_size):
            idx = order[first : first + cfg.batch_size]
            logits = reference_forward(linears, x[idx], seed=seed, step=step, p=cfg.dropout)
            loss = F.cross_entropy(logits, train_split.labels[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total, batches, step = total + loss.detach(), batches + 1, step + 1
        out["train_loss"].append(total.item() / batches)
        with torch.no_grad():
            logits = reference_forward(linears, x_val, seed=seed, step=None, p=cfg.dropout)
        out["val_loss"].append(F.cross_entropy(logits, val_split.labels, reduction="sum").item() / len(val_split))
        out["val_acc"].append((logits.argmax(1) == val_split.labels).sum().item() / len(val_split))
    out["linears"] = linears
    return out


def test_the_masks_are_the_stacks_and_drop_the_expected_share():
    """The recomputed masks are the ones the Stack draws (same hash), for every run of a stack."""
    cfgs = [(TrainConfig(dropout=0.25, hidden=(64,)), 3), (TrainConfig(dropout=0.5, hidden=(64,)), 8)]
    stack = Stack(cfgs, 784, torch.device("cpu"))
    stack.steps += 5
    for layer, width in ((0, 784), (1, 64)):
        dropped = stack._drop(torch.ones(2, 32, width), layer)
        for k, (cfg, seed) in enumerate(cfgs):
            keep = keep_mask(seed, layer, 5, 32, width, cfg.dropout)
            assert torch.equal(dropped[k] != 0, keep), (seed, layer)
            assert keep.float().mean().item() == pytest.approx(1 - cfg.dropout, abs=0.03)


@pytest.mark.parametrize(
    "cfg",
    [
        TrainConfig(optimizer="adam", lr=1e-3, dropout=0.25, hidden=(64,), epochs=2),
        TrainConfig(dropout=0.5, hidden=(64, 32), batch_size=100, epochs=2),  # SGD, deep, a short last batch
    ],
    ids=["adam_p025", "sgd_p05_deep_short_batch"],
)
def test_dropout_training_is_the_hand_written_reference_bitwise(cfg, tiny):
    """Placement (every Linear's input, never the logits), scaling (1/(1-p)) and eval mode (no
    dropout when evaluating) at once: any of them wrong changes the curves and the weights."""
    expected = reference_training(cfg, 3, *tiny)
    result = train(cfg, seed=3, train=tiny[0], val=tiny[1])
    for key in ("train_loss", "val_loss", "val_acc"):
        assert result.history[key] == expected[key], key
    mine = [m for m in result.model if isinstance(m, nn.Linear)]
    for i, (ours, theirs) in enumerate(zip(mine, expected["linears"])):
        assert torch.equal(ours.weight, theirs.weight) and torch.equal(ours.bias, theirs.bias), f"layer {i}"


def test_one_forward_pass_in_train_and_eval_mode(tiny):
    """The Stack's logits for one batch: the reference's with masks in training, without in eval."""
    cfg, seed = TrainConfig(dropout=0.25, hidden=(64, 64)), 4
    stack = Stack([(cfg, seed)], 784, torch.device("cpu"))
    stack.steps += 2
    x = tiny[0].pixels[:16].float() * cfg.input_scale
    torch.manual_seed(seed)
    linears = [m for m in build_model(cfg) if isinstance(m, nn.Linear)]
    with torch.no_grad():
        trained = stack.forward(x[None], True)[0]
        evaluated = stack.forward(x[None], False)[0]
        in_training = reference_forward(linears, x, seed=seed, step=2, p=cfg.dropout)
        in_eval = reference_forward(linears, x, seed=seed, step=None, p=cfg.dropout)
    same_in_training, same_in_eval = torch.equal(trained, in_training), torch.equal(evaluated, in_eval)
    assert same_in_training, "train-mode logits differ from the reference's (dropout placement or scaling)"
    assert same_in_eval, "eval-mode logits differ from the reference's, which has no dropout"
    assert not torch.equal(trained, evaluated)  # the masks do act in training
