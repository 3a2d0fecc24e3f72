"""A stack of runs against the same runs trained alone (a stack of one), on a tiny CPU problem.

    pytest tests/test_stack.py -q

512 training and 256 validation images (the ``tiny`` fixture), hidden layers narrowed to 64
units, 2 epochs. On the CPU the comparison is exact: a run's slice of the stack runs the same
kernels on the same numbers as the run alone, dropout included (masks hash the run's own seed).
"""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch

import suite.engine.trainer
from suite.engine.model import build_model
from suite.engine.run_record import activation_record, serialize
from suite.engine.stack import Stack
from suite.engine.trainer import Stepper, train, train_stack
from suite.spec.chapter3 import ABLATIONS_LIST
from suite.spec.config import TrainConfig
from suite.spec.profiles import PROFILES
from tests.helpers import GROUPS, SMALL

# One thread: on a busy 2-core machine two threads for these tiny matmuls spin-wait (10x slower).
pytestmark = pytest.mark.usefixtures("one_thread")


def _same(stacked, alone, what: str = "") -> None:
    assert stacked.seed == alone.seed and stacked.diverged_epoch == alone.diverged_epoch, what
    for key, values in alone.history.items():
        if key != "wall_s":  # NaN == NaN here: a diverged run must diverge alike
            assert torch.equal(
                torch.tensor(stacked.history[key], dtype=torch.float64).nan_to_num(7.0),
                torch.tensor(values, dtype=torch.float64).nan_to_num(7.0),
            ), (what, key)
    for (name, mine), theirs in zip(stacked.model.state_dict().items(), alone.model.state_dict().values()):
        assert torch.equal(mine.nan_to_num(7.0), theirs.nan_to_num(7.0)), name


@pytest.mark.parametrize("key", GROUPS, ids=str)
def test_a_stack_of_every_ablation_config_equals_each_run_alone(key, tiny):
    names, cfgs = zip(*GROUPS[key])
    runs = [(cfg, 5 + i) for i, cfg in enumerate(cfgs)]  # distinct seeds: distinct inits and orders
    for name, (cfg, seed), result in zip(names, runs, train_stack(runs, train=tiny[0], val=tiny[1])):
        _same(result, train(cfg, seed=seed, train=tiny[0], val=tiny[1]), name)


def test_every_ablation_config_was_compared():
    """The stack test's groups against the catalogue, read here on its own: every variant of every
    ablation exactly once, with its ci config but for narrowed widths and 2 epochs, in the group
    of its own shape and batch (the stack it is compared in)."""
    catalogue = {f"{a.name}/{v.name}": a.config(v.name, PROFILES["ci"]) for a in ABLATIONS_LIST for v in a.variants}
    compared = [(name, key, cfg) for key, group in GROUPS.items() for name, cfg in group]
    assert sorted(name for name, _, _ in compared) == sorted(catalogue)
    for name, key, cfg in compared:
        book = catalogue[name]
        assert replace(cfg, hidden=book.hidden, epochs=book.epochs) == book, name  # nothing else changed
        assert cfg.hidden == (64,) * len(book.hidden) and cfg.epochs == 2, name
        assert key == (cfg.hidden, cfg.batch_norm, min(cfg.batch_size, 512)), name
    assert {(hidden, bn) for hidden, bn, _ in GROUPS} >= {((64,), True), ((), False), ((64, 64), False)}


def test_dropout_masks_do_not_depend_on_the_stack_mates(tiny):
    cfg = TrainConfig(optimizer="adam", lr=1e-3, dropout=0.25, **SMALL)
    alone = train(cfg, seed=3, train=tiny[0], val=tiny[1])
    for mates in ([(cfg, 4)], [(replace(cfg, dropout=0.5), 3), (replace(cfg, dropout=0.0), 9)]):
        _same(train_stack([*mates, (cfg, 3)], train=tiny[0], val=tiny[1])[-1], alone)
    other = train(cfg, seed=4, train=tiny[0], val=tiny[1])
    assert other.history["train_loss"] != alone.history["train_loss"]
    plain = train(replace(cfg, dropout=0.0), seed=3, train=tiny[0], val=tiny[1])
    assert plain.history["train_loss"] != alone.history["train_loss"]  # the masks do drop units


def test_dropout_drops_the_expected_share_and_rescales(tiny):
    stack = Stack(
        [(TrainConfig(dropout=0.25, **SMALL), 0), (TrainConfig(dropout=0.5, **SMALL), 1)], 784, torch.device("cpu")
    )
    out = stack._drop(torch.ones(2, 256, 784), 0)
    assert out[0].eq(0).float().mean().item() == pytest.approx(0.25, abs=0.01)
    assert out[1].eq(0).float().mean().item() == pytest.approx(0.5, abs=0.01)
    assert out[0].unique().tolist() == pytest.approx([0.0, 1 / 0.75])
    stack.steps += 1  # a new step draws new masks
    assert not torch.equal(stack._drop(torch.ones(2, 256, 784), 0), out)


def test_one_diverged_run_does_not_disturb_the_others(tiny):
    fine = TrainConfig(optimizer="adam", lr=1e-3, **SMALL)
    broken = TrainConfig(input_scale=1e36, **SMALL)  # inputs near float32's limit: NaN at once
    results = train_stack([(fine, 0), (broken, 1), (replace(fine, lr=1e-2), 2)], train=tiny[0], val=tiny[1])
    assert [r.diverged_epoch for r in results] == [None, 1, None]
    assert len(results[1].history["val_acc"]) == 1 and math.isnan(results[1].history["train_loss"][0])
    _same(results[1], train(broken, seed=1, train=tiny[0], val=tiny[1]))
    for result, cfg in ((results[0], fine), (results[2], replace(fine, lr=1e-2))):
        _same(result, train(cfg, seed=result.seed, train=tiny[0], val=tiny[1]))


def test_runs_of_different_lengths_and_snapshots(tiny):
    cfg = TrainConfig(optimizer="adam", lr=1e-3, batch_norm=True, hidden=(64,), epochs=3)
    short, long = train_stack(
        [(replace(cfg, epochs=1), 0), (cfg, 0)], train=tiny[0], val=tiny[1], snapshots=[[], [1, 2]]
    )
    assert len(short.history["val_acc"]) == 1 and len(long.history["val_acc"]) == 3
    assert short.history["val_acc"] == long.history["val_acc"][:1]  # a prefix, exactly
    assert sorted(long.snapshots) == [1, 2]
    for (name, mine), theirs in zip(long.snapshots[1].state_dict().items(), short.model.state_dict().values()):
        assert torch.equal(mine, theirs), name
    two = train(replace(cfg, epochs=2), seed=0, train=tiny[0], val=tiny[1])
    assert two.history["val_loss"] == long.history["val_loss"][:2]
    assert torch.equal(two.model[0].weight, long.snapshots[2][0].weight)


def test_eval_mode_slip_freezes_running_stats_after_epoch_1(tiny):
    steps = math.ceil(len(tiny[0]) / 32)
    slip = TrainConfig(batch_norm=True, eval_mode_slip=True, hidden=(64,), epochs=3)
    first, last, honest = train_stack(
        [(replace(slip, epochs=1), 0), (slip, 0), (replace(slip, eval_mode_slip=False), 0)], train=tiny[0], val=tiny[1]
    )
    # epoch 1: its training steps, the book's train-mode accuracy pass over the same batches, and
    # the validation split as one batch; nothing after
    assert last.model[1].num_batches_tracked.item() == 2 * steps + 1
    assert torch.equal(first.model[1].running_mean, last.model[1].running_mean)
    assert honest.model[1].num_batches_tracked.item() == 3 * steps
    assert not torch.equal(honest.model[1].running_mean, last.model[1].running_mean)


def test_the_slips_epoch_1_accuracy_is_measured_in_train_mode_as_the_book_did(tiny):
    """Same seed, same epoch-1 training: the slip run's epoch-1 validation accuracy is that of the
    correctly trained model in train mode, the whole validation split as one batch."""
    train_split, val_split = tiny
    cfg = TrainConfig(batch_norm=True, hidden=(64,), epochs=1)
    slip, honest = train_stack([(replace(cfg, eval_mode_slip=True), 0), (cfg, 0)], train=train_split, val=val_split)
    assert torch.equal(slip.model[0].weight, honest.model[0].weight)  # the pass trains nothing
    honest.model.train()
    with torch.no_grad():
        logits = honest.model(val_split.pixels.float() * cfg.input_scale)
    assert slip.history["val_acc"][0] == (logits.argmax(1) == val_split.labels).float().mean().item()
    assert slip.history["val_acc"][0] != honest.history["val_acc"][0]  # eval mode measures otherwise
    assert slip.history["train_loss"] == honest.history["train_loss"]  # the loss of training itself


def test_returned_models_are_the_trained_ones(tiny):
    train_split, val_split = tiny
    cfg = TrainConfig(batch_norm=True, dropout=0.25, **SMALL)
    x_val = val_split.pixels.float() * cfg.input_scale
    for result in train_stack([(cfg, 0), (cfg, 1)], train=train_split, val=val_split):
        result.model.eval()
        with torch.no_grad():
            acc = (result.model(x_val).argmax(1) == val_split.labels).float().mean().item()
        assert acc == result.history["val_acc"][-1]
        record = serialize(result, activations=activation_record(result.model, x_val))
        assert record.parameters["layer1"]["weight"]["nonfinite"] == 0


def test_a_stack_must_share_shape_and_batch(tiny):
    with pytest.raises(ValueError, match="hidden"):
        train_stack([(TrainConfig(**SMALL), 0), (TrainConfig(hidden=(32,), epochs=2), 0)], train=tiny[0], val=tiny[1])
    with pytest.raises(ValueError, match="batch"):
        train_stack([(TrainConfig(**SMALL), 0), (TrainConfig(batch_size=64, **SMALL), 0)], train=tiny[0], val=tiny[1])


def test_graph_flag_is_ignored_on_cpu(tiny, monkeypatch):
    """graph=True on the CPU: every step is an eager Stack.step; no CUDA stream, graph or capture
    is ever made (each raises here), not even one that fails and falls back to eager steps."""

    def forbidden(*args, **kwargs):
        raise AssertionError("the CPU path reached for a CUDA graph")

    for name in ("CUDAGraph", "graph", "Stream", "stream"):
        monkeypatch.setattr(torch.cuda, name, forbidden)
    monkeypatch.setattr(Stepper, "_capture", forbidden)
    steps, eager_step = [], Stack.step
    monkeypatch.setattr(Stack, "step", lambda self, *args: (steps.append(len(steps)), eager_step(self, *args))[1])
    cfg = TrainConfig(optimizer="adam", lr=1e-3, **SMALL)
    graph = train_stack([(cfg, 0), (cfg, 1)], train=tiny[0], val=tiny[1], graph=True)
    assert len(steps) == cfg.epochs * math.ceil(len(tiny[0]) / cfg.batch_size)  # each step ran, eagerly
    eager = train_stack([(cfg, 0), (cfg, 1)], train=tiny[0], val=tiny[1], graph=False)
    assert [r.history["val_loss"] for r in graph] == [r.history["val_loss"] for r in eager]


def test_init_is_the_books_modules(tiny, monkeypatch):
    """Each run starts from nn.Linear's own initialisation under its seed (build_model)."""
    cfg = TrainConfig(**SMALL)
    torch.manual_seed(7)
    expected = build_model(cfg)
    result = train_stack([(replace(cfg, epochs=0), 7)], train=tiny[0], val=tiny[1])[0]
    assert torch.equal(result.model[0].weight, expected[0].weight)
    assert suite.engine.trainer.HISTORY_KEYS == tuple(result.history)


@pytest.mark.parametrize("cfg", [TrainConfig(batch_norm=True, hidden=(64, 32)), TrainConfig(hidden=())])
def test_the_stack_holds_every_parameter_in_the_models_order(cfg):
    """The penalty sums the parameters in this order, as model.parameters() does."""
    stack = Stack([(cfg, 0), (cfg, 1)], 784, torch.device("cpu"))
    torch.manual_seed(1)
    model = build_model(cfg)
    mine = [p[1].reshape(-1) for p in stack.params]
    assert len(mine) == len(list(model.parameters()))
    for ours, theirs in zip(mine, model.parameters()):
        assert torch.equal(ours, theirs.detach().reshape(-1))


def test_l2_adds_the_norms_not_their_squares_and_l1_the_absolute_values():
    """The book's L2 adds sum_p ||p||_2 (about 0.21 at initialisation with coefficient 0.01), not
    classic weight decay's sum_p ||p||^2 (about 3.4): a wrong form is off by more than 10x."""
    stack = Stack([(TrainConfig(l2=0.01), 0), (TrainConfig(l1=1e-4), 1), (TrainConfig(), 2)], 784, torch.device("cpu"))
    params = [[p[k].detach() for p in stack.params] for k in range(3)]
    norms = 0.01 * sum(float(p.norm()) for p in params[0])
    squares = 0.01 * sum(float((p**2).sum()) for p in params[0])
    absolute = 1e-4 * sum(float(p.abs().sum()) for p in params[1])
    penalty = stack._penalty().detach()
    assert 0.15 < norms < 0.3 and squares > 10 * norms  # the two forms are far apart here
    assert penalty[0].item() == pytest.approx(norms, rel=1e-5)
    assert penalty[1].item() == pytest.approx(absolute, rel=1e-5)
    assert penalty[2].item() == 0.0


def test_finished_runs_leave_the_stack_and_the_rest_keep_their_numbers(tiny, monkeypatch):
    """Runs of 1, 3 and 2 epochs (SGD, Adam, and a diverging one among them): each leaves the
    stack when its last epoch ends (later steps train only the runs left, and ``on_done`` gets
    its result at once), and every run has the numbers of the run alone, bitwise."""
    adam = TrainConfig(optimizer="adam", lr=1e-3, hidden=(64,), epochs=3)
    runs = [
        (replace(adam, optimizer="sgd", lr=1e-2, epochs=1), 0),
        (adam, 1),
        (TrainConfig(input_scale=1e36, hidden=(64,), epochs=3), 2),  # diverges in epoch 1
        (replace(adam, dropout=0.25, epochs=2), 3),
    ]
    widths, eager_step = [], Stack.step
    monkeypatch.setattr(
        Stack, "step", lambda self, idx, *args: (widths.append(len(idx)), eager_step(self, idx, *args))[1]
    )
    done = []
    results = train_stack(runs, train=tiny[0], val=tiny[1], on_done=lambda k, result: done.append((k, len(widths))))
    steps = math.ceil(len(tiny[0]) / 32)
    assert widths == [4] * steps + [2] * steps + [1] * steps  # 1-epoch and diverged runs left after epoch 1
    assert done == [(0, steps), (2, steps), (3, 2 * steps), (1, 3 * steps)]
    assert [r.diverged_epoch for r in results] == [None, None, 1, None]
    for (cfg, seed), result in zip(runs, results):
        _same(result, train(cfg, seed=seed, train=tiny[0], val=tiny[1]), cfg)
    # shares split each epoch among the runs in it: runs 0 and 2 had a quarter of epoch 1 each
    assert results[0].share_s == results[2].share_s > 0
    assert results[1].share_s > results[3].share_s > results[0].share_s
