"""The batched trainer against the unbatched one, on a tiny CPU problem.

    pytest tests/test_batched.py -q

512 training and 256 validation images (the ``tiny`` fixture). Without
dropout both paths see the same initialisation and shuffle order, so their histories agree to
rounding; with dropout only the statistics over seeds can agree.
"""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch

import suite.batched
from suite.batched import train_batched, train_seeds
from suite.runner import activation_record, serialize
from suite.trainer import TrainConfig, build_model, train

SMALL = dict(hidden=(64,), epochs=2)


@pytest.fixture(autouse=True)
def one_thread():
    """On a busy 2-core machine two threads for these tiny matmuls spin-wait: 10x slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def data(tiny):
    return tiny


def _close(batched, unbatched, val_size: int) -> None:
    assert batched.seed == unbatched.seed
    assert batched.diverged_epoch == unbatched.diverged_epoch
    for key, values in unbatched.history.items():
        got = batched.history[key]
        assert len(got) == len(values), key
        if key == "lr":
            assert got == values
        elif key.endswith("acc"):  # an argmax may flip on a rounding-level tie
            assert got == pytest.approx(values, abs=2 / val_size), key
        elif key != "wall_s":
            assert got == pytest.approx(values, rel=1e-4, abs=1e-5), key
    for (name, mine), theirs in zip(batched.model.state_dict().items(), unbatched.model.state_dict().values()):
        diff = (mine.float() - theirs.float()).abs()
        # Adam turns rounding noise in a zero-crossing L1 gradient into a full step for a few weights.
        assert diff.mean() < 1e-6 and diff.max() < 1e-3, name


CONFIGS = {
    "book_sgd": TrainConfig(epochs=2),
    "adam_l1_l2_deep": TrainConfig(optimizer="adam", lr=1e-3, l1=1e-4, l2=1e-2, hidden=(64, 64), epochs=2),
    # SGD: with Adam the pre-BN bias, whose true gradient is 0, follows normalized rounding noise.
    "batch_norm": TrainConfig(batch_norm=True, **SMALL),
    "bn_eval_mode_slip": TrainConfig(batch_norm=True, eval_mode_slip=True, hidden=(64,), epochs=3),
    "plateau": TrainConfig(optimizer="adam", lr=1e-3, plateau_factor=0.5, plateau_threshold=0.2,
                           hidden=(64,), epochs=5),
    "logistic_short_last_batch": TrainConfig(hidden=(), batch_size=100, epochs=2),
}


@pytest.mark.parametrize("name", CONFIGS)
def test_matches_unbatched_without_dropout(name, data):
    train_split, val_split = data
    cfg = CONFIGS[name]
    seeds = [0, 1, 2]
    batched = train_batched(cfg, seeds=seeds, train=train_split, val=val_split)
    for result, seed in zip(batched, seeds):
        _close(result, train(cfg, seed=seed, train=train_split, val=val_split), len(val_split))
    if cfg.plateau_factor:  # the comparison must have covered per-seed learning-rate cuts
        assert any(min(r.history["lr"]) < cfg.lr for r in batched)


def test_eval_mode_slip_freezes_running_stats_after_epoch_1(data):
    train_split, val_split = data
    steps = math.ceil(len(train_split) / 32)
    slip = TrainConfig(batch_norm=True, eval_mode_slip=True, hidden=(64,), epochs=3)
    one_epoch, three_epochs = (train_batched(replace(slip, epochs=e), seeds=[0, 1], train=train_split,
                                             val=val_split) for e in (1, 3))
    normal = train_batched(replace(slip, eval_mode_slip=False), seeds=[0, 1], train=train_split, val=val_split)
    for first, last, trained in zip(one_epoch, three_epochs, normal):
        assert last.model[1].num_batches_tracked.item() == steps
        assert torch.equal(first.model[1].running_mean, last.model[1].running_mean)
        assert trained.model[1].num_batches_tracked.item() == 3 * steps
    # Distinct seeds keep distinct statistics.
    assert not torch.equal(three_epochs[0].model[1].running_var, three_epochs[1].model[1].running_var)


def test_one_diverged_seed_does_not_poison_the_others(data, monkeypatch):
    train_split, val_split = data
    cfg = TrainConfig(optimizer="adam", lr=1e-3, **SMALL)

    def poisoned_build(cfg, *args):  # seed 1 starts with a NaN bias: its first loss is NaN
        model = build_model(cfg, *args)
        if torch.initial_seed() == 1:
            model[-1].bias.data[0] = float("nan")
        return model

    monkeypatch.setattr(suite.batched, "build_model", poisoned_build)
    results = train_batched(cfg, seeds=[0, 1, 2], train=train_split, val=val_split)
    assert [r.diverged_epoch for r in results] == [None, 1, None]
    assert len(results[1].history["val_acc"]) == 1
    assert math.isnan(results[1].history["train_loss"][0])
    for result in (results[0], results[2]):
        _close(result, train(cfg, seed=result.seed, train=train_split, val=val_split), len(val_split))


def test_divergence_is_recorded_like_the_trainer(data):
    train_split, val_split = data
    cfg = TrainConfig(input_scale=1.0, lr=1e8, **SMALL)  # raw pixels, absurd rate: inf at once
    batched = train_batched(cfg, seeds=[0, 1], train=train_split, val=val_split)
    for result in batched:
        unbatched = train(cfg, seed=result.seed, train=train_split, val=val_split)
        assert result.diverged_epoch == unbatched.diverged_epoch == 1
        assert len(result.history["val_acc"]) == 1


def test_seeds_own_their_dropout_masks_and_shuffle(data):
    train_split, val_split = data
    plain = train_batched(TrainConfig(**SMALL), seeds=[5, 5], train=train_split, val=val_split)
    assert plain[0].history["train_loss"] == plain[1].history["train_loss"]  # order follows the seed
    dropped = train_batched(TrainConfig(dropout=0.25, **SMALL), seeds=[5, 5], train=train_split, val=val_split)
    assert dropped[0].history["train_loss"] != dropped[1].history["train_loss"]


def test_dropout_statistics_agree_over_seeds(data):
    train_split, val_split = data
    cfg = TrainConfig(optimizer="adam", lr=1e-3, dropout=0.25, hidden=(256,), epochs=2)
    seeds = [10, 11, 12, 13]
    batched = [r.history["val_acc"][-1] for r in train_batched(cfg, seeds=seeds, train=train_split, val=val_split)]
    unbatched = [train(cfg, seed=s, train=train_split, val=val_split).history["val_acc"][-1] for s in seeds]
    assert min(batched) > 0.5  # it learned
    assert sum(batched) / len(seeds) == pytest.approx(sum(unbatched) / len(seeds), abs=0.04)


def test_returned_models_are_the_trained_ones(data):
    train_split, val_split = data
    cfg = TrainConfig(batch_norm=True, dropout=0.25, **SMALL)
    x_val = val_split.pixels.float() * cfg.input_scale
    for result in train_batched(cfg, seeds=[0, 1], train=train_split, val=val_split):
        result.model.eval()
        with torch.no_grad():
            acc = (result.model(x_val).argmax(1) == val_split.labels).float().mean().item()
        assert acc == pytest.approx(result.history["val_acc"][-1], abs=1 / len(val_split))
        record = serialize(result, activations=activation_record(result.model, x_val))
        assert record["parameters"]["layer1"]["weight"]["nonfinite"] == 0


def test_train_seeds_dispatch(data):
    train_split, val_split = data
    cfg = TrainConfig(dropout=0.25, **SMALL)
    calls = []
    exact = train_seeds(cfg, [3, 4], train=train_split, val=val_split, batched=False,
                        on_epoch=lambda seed, epoch, row: calls.append((seed, epoch)))
    assert calls == [(3, 1), (3, 2), (4, 1), (4, 2)]
    assert exact[1].history["val_loss"] == train(cfg, seed=4, train=train_split, val=val_split).history["val_loss"]
    calls.clear()
    train_seeds(cfg, [3, 4], train=train_split, val=val_split, on_epoch=lambda s, e, row: calls.append((s, e)))
    assert calls == [(3, 1), (4, 1), (3, 2), (4, 2)]


def test_cuda_graph_flag_is_ignored_on_cpu(data):
    train_split, val_split = data
    cfg = TrainConfig(optimizer="adam", lr=1e-3, **SMALL)
    graph, eager = (train_batched(cfg, seeds=[0, 1], train=train_split, val=val_split, cuda_graph=flag)
                    for flag in (True, False))
    assert [r.history["val_loss"] for r in graph] == [r.history["val_loss"] for r in eager]
