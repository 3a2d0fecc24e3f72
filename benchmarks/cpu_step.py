"""The trainer's CPU path (a stack of one) against the plain one-model loop it replaced, at ci size.

    OMP_NUM_THREADS=1 python benchmarks/cpu_step.py              # 5 repetitions, ~2 minutes idle
    OMP_NUM_THREADS=1 python benchmarks/cpu_step.py --reps 3 --configs sgd,adam

Per config (SGD, Adam, Adam + dropout, batch norm; 2 epochs of the ci profile's 6000 training
and 2000 validation images, batch 32): ``suite.engine.trainer.train`` against REFERENCE, the former
trainer's loop written out here (nn.Sequential, torch.optim, per-epoch evaluation). Both run in
this process, interleaved (reference, trainer, reference, ...), and print best and median wall
and CPU seconds: on a shared machine only interleaved numbers of one process compare. A script,
not a timed test: timings on a shared machine are too noisy to fail a build on.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from suite.engine.data import Split, load_split, resolve_root  # noqa: E402
from suite.engine.model import build_model
from suite.engine.trainer import evaluate, train
from suite.spec.config import TrainConfig  # noqa: E402

CONFIGS = {
    "sgd": TrainConfig(epochs=2),
    "adam": TrainConfig(optimizer="adam", lr=1e-3, epochs=2),
    "adam_dropout": TrainConfig(optimizer="adam", lr=1e-3, dropout=0.25, epochs=2),
    "batch_norm": TrainConfig(batch_norm=True, epochs=2),
}


def reference(cfg: TrainConfig, *, seed: int, train: Split, val: Split) -> None:
    """The former one-model trainer's loop (commit 4efe0b6), without its history and plateau."""
    torch.manual_seed(seed)
    x_train, x_val = train.pixels.float() * cfg.input_scale, val.pixels.float() * cfg.input_scale
    model = build_model(cfg, x_train.shape[1])
    opt = (torch.optim.Adam if cfg.optimizer == "adam" else torch.optim.SGD)(model.parameters(), lr=cfg.lr)
    n, batch = len(train), min(cfg.batch_size, len(train))
    for _ in range(cfg.epochs):
        model.train()
        order, loss_sum = torch.randperm(n), torch.zeros(())
        for first in range(0, n, batch):
            idx = order[first : first + batch]
            loss = nn.functional.cross_entropy(model(x_train[idx]), train.labels[idx]) + 0.0  # no penalty
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.detach()
        model.eval()
        evaluate(model, x_train, train.labels)
        evaluate(model, x_val, val.labels)
        loss_sum.item()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--configs", default=",".join(CONFIGS), help="comma-separated: " + ", ".join(CONFIGS))
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    names = args.configs.split(",")
    root = resolve_root()
    data = dict(train=load_split(root, train=True, limit=6000), val=load_split(root, train=False, limit=2000))
    versions = {"reference": reference, "trainer": train}
    times: dict[tuple[str, str], list[tuple[float, float]]] = {(c, v): [] for c in names for v in versions}
    for rep in range(args.reps + 1):  # repetition 0 warms up and is not counted
        for name in names:
            for version, run in versions.items():
                wall, cpu = time.perf_counter(), time.process_time()
                run(CONFIGS[name], seed=rep, **data)
                if rep:
                    times[name, version].append((time.perf_counter() - wall, time.process_time() - cpu))
    print(f"2 epochs of 6000 + evaluation, {args.threads} thread(s), {args.reps} interleaved repetitions")
    print(f"{'config':13} {'version':10} {'wall best':>9} {'median':>7} {'CPU best':>9} {'median':>7}")
    for (name, version), pairs in times.items():
        wall, cpu = [w for w, _ in pairs], [c for _, c in pairs]
        print(
            f"{name:13} {version:10} {min(wall):9.2f} {statistics.median(wall):7.2f} "
            f"{min(cpu):9.2f} {statistics.median(cpu):7.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
