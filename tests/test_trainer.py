"""The trainer on a tiny slice: it learns, records, diverges gracefully, is reproducible, and
without dropout equals the plain torch training loop bitwise on the CPU."""

import math

import pytest
import torch

from suite.engine.model import build_model
from suite.engine.trainer import HISTORY_KEYS, train
from suite.spec.config import TrainConfig

# One thread: on a busy 2-core machine two threads for these tiny matmuls spin-wait (10x slower).
pytestmark = pytest.mark.usefixtures("one_thread")


def test_loss_falls_and_every_epoch_is_recorded(tiny):
    result = train(TrainConfig(optimizer="adam", lr=1e-3, epochs=3), seed=0, train=tiny[0], val=tiny[1])
    history = result.history
    assert set(history) == set(HISTORY_KEYS) and all(len(v) == 3 for v in history.values())
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert history["val_acc"][-1] > 0.5  # 10 classes: chance is 0.1
    assert result.diverged_epoch is None


def test_divergence_is_recorded_not_raised(tiny):
    # Inputs near float32's limit: the first forward pass overflows and the loss is NaN.
    cfg = TrainConfig(input_scale=1e36, optimizer="sgd", lr=1e-2, epochs=4)
    result = train(cfg, seed=0, train=tiny[0], val=tiny[1])
    assert result.diverged and result.diverged_epoch == len(result.history["train_loss"]) < 4
    assert not math.isfinite(result.history["train_loss"][-1])


def test_a_run_is_a_pure_function_of_config_seed_and_data(tiny):
    cfg = TrainConfig(optimizer="adam", lr=1e-3, epochs=1, dropout=0.25)
    first, second = (train(cfg, seed=7, train=tiny[0], val=tiny[1]) for _ in range(2))
    assert {k: v for k, v in first.history.items() if k != "wall_s"} == {
        k: v for k, v in second.history.items() if k != "wall_s"
    }
    other = train(cfg, seed=8, train=tiny[0], val=tiny[1])
    assert other.history["train_loss"] != first.history["train_loss"]


def test_plateau_cuts_the_learning_rate(tiny):
    cfg = TrainConfig(optimizer="adam", lr=1e-3, epochs=6, plateau_factor=0.5, plateau_threshold=10.0)
    lrs = train(cfg, seed=0, train=tiny[0], val=tiny[1]).history["lr"]
    # With a threshold of 10 only the first epoch improves (on an infinite best): from then on the
    # rate halves after every epoch, and the rate recorded is the one an epoch trained with.
    assert lrs == pytest.approx([1e-3, 1e-3, 5e-4, 2.5e-4, 1.25e-4, 6.25e-5])


def test_book_eval_mode_slip_freezes_batch_norm_after_epoch_one(tiny):
    cfg = TrainConfig(optimizer="adam", lr=1e-3, epochs=1, batch_norm=True, eval_mode_slip=True)
    one = train(cfg, seed=0, train=tiny[0], val=tiny[1]).model[1]
    three = train(TrainConfig(**{**cfg.as_dict(), "epochs": 3}), seed=0, train=tiny[0], val=tiny[1]).model[1]
    assert isinstance(one, torch.nn.BatchNorm1d)
    assert torch.equal(one.running_mean, three.running_mean)  # never updated after epoch 1
    honest = train(
        TrainConfig(**{**cfg.as_dict(), "epochs": 3, "eval_mode_slip": False}), seed=0, train=tiny[0], val=tiny[1]
    ).model[1]
    assert not torch.equal(one.running_mean, honest.running_mean)


@pytest.mark.parametrize(
    ("cfg", "layers"),
    [
        (TrainConfig(), ["Linear", "ReLU", "Linear"]),
        (TrainConfig(hidden=()), ["Linear"]),
        (TrainConfig(hidden=(1000, 1000)), ["Linear", "ReLU", "Linear", "ReLU", "Linear"]),
        (TrainConfig(batch_norm=True), ["Linear", "BatchNorm1d", "ReLU", "Linear"]),
        (TrainConfig(dropout=0.25), ["Dropout", "Linear", "ReLU", "Dropout", "Linear"]),
    ],
)
def test_models_are_the_books(cfg, layers):
    assert [type(m).__name__ for m in build_model(cfg)] == layers


def test_l1_and_l2_penalties_raise_the_training_loss(tiny):
    plain, l1, l2 = (
        train(TrainConfig(optimizer="adam", lr=1e-3, epochs=1, **extra), seed=0, train=tiny[0], val=tiny[1]).history[
            "train_loss"
        ][0]
        for extra in ({}, {"l1": 1e-4}, {"l2": 1e-2})
    )
    assert l1 > plain + 0.5 and l2 > plain + 0.1  # sum |w| ~ 10^4 for this model; sum ||w||_2 ~ 20


def _plain_torch_loop(cfg: TrainConfig, seed: int, train_split, val_split) -> list[float]:
    """The former one-model trainer, reduced: nn.Sequential, torch.optim, global RNG. Val losses."""
    torch.manual_seed(seed)
    x, x_val = train_split.pixels.float() * cfg.input_scale, val_split.pixels.float() * cfg.input_scale
    model = build_model(cfg)
    opt = (torch.optim.Adam if cfg.optimizer == "adam" else torch.optim.SGD)(model.parameters(), lr=cfg.lr)
    losses = []
    for epoch in range(1, cfg.epochs + 1):
        model.train(not (cfg.eval_mode_slip and epoch > 1))
        order = torch.randperm(len(x))
        for first in range(0, len(x), cfg.batch_size):
            idx = order[first : first + cfg.batch_size]
            loss = torch.nn.functional.cross_entropy(model(x[idx]), train_split.labels[idx])
            if cfg.l1:
                loss = loss + cfg.l1 * sum(p.abs().sum() for p in model.parameters())
            if cfg.l2:
                loss = loss + cfg.l2 * sum(p.norm(2) for p in model.parameters())
            opt.zero_grad()
            loss.backward()
            opt.step()
        if cfg.eval_mode_slip and epoch == 1:  # the notebook's accuracy pass, still in train mode
            with torch.no_grad():
                for first in range(0, len(x), cfg.batch_size):
                    model(x[order[first : first + cfg.batch_size]])
                model(x_val)
        model.eval()
        with torch.no_grad():
            losses.append(
                torch.nn.functional.cross_entropy(model(x_val), val_split.labels, reduction="sum").item()
                / len(val_split)
            )
    return losses


@pytest.mark.parametrize(
    "cfg",
    [
        TrainConfig(hidden=(64,), epochs=2),
        TrainConfig(optimizer="adam", lr=1e-3, l1=1e-4, l2=1e-2, hidden=(64, 64), epochs=2),
        TrainConfig(optimizer="adam", lr=1e-3, batch_norm=True, l1=1e-4, hidden=(64,), epochs=2),
        TrainConfig(optimizer="adam", lr=1e-3, batch_norm=True, eval_mode_slip=True, hidden=(64,), epochs=2),
        TrainConfig(hidden=(), batch_size=100, epochs=2),
    ],
    ids=["sgd", "adam_l1_l2_deep", "bn_l1", "bn_slip", "logistic_short_batch"],
)
def test_a_stack_of_one_is_the_plain_torch_loop_bitwise_on_cpu(cfg, tiny):
    """Without dropout the trainer is the textbook loop, to the last bit: same init, shuffle,
    GEMMs, batch norm and optimizer arithmetic (tests/test_stack.py compares stacks with it)."""
    expected = _plain_torch_loop(cfg, 3, *tiny)  # one thread (fixture): MKL's split depends on it
    assert train(cfg, seed=3, train=tiny[0], val=tiny[1]).history["val_loss"] == expected
