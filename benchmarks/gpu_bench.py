"""Time one epoch of the book's baseline on one GPU: the book's own loop against this suite's trainers.

    python benchmarks/gpu_bench.py                                   # CUDA, well under 4 minutes
    python benchmarks/gpu_bench.py --with-book-profile --book-limit-s 600   # + every ablation
    python benchmarks/gpu_bench.py --device cpu --quick              # smoke test, tiny subset

Baseline: the full 60k training split, MLP 784-1000-10, SGD lr 0.01, batch 32, pixels / 255.
Rows: (a) the book's notebook loop (a per-sample Dataset whose __getitem__ moves each image to
the device, DataLoader(batch_size=32, shuffle=True), loss.item() per batch); (b) suite.trainer.train,
one seed; (c) suite.batched.train_batched, all seeds at once; (c+graph) the same, steps replayed
as a CUDA graph (CUDA only); (d, optional) the whole `book` profile, every ablation and variant,
batched, stopped at the first epoch end after --book-limit-s. (b) and the (c) rows also evaluate the 60k + 10k images
once per epoch, as the suite does; (a) only trains, as the book's timed loop does.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from suite.ablations import ABLATIONS_LIST, PROFILES  # noqa: E402
from suite.data import Split, load_split, resolve_root  # noqa: E402
from suite.trainer import TrainConfig, evaluate, train, train_stack  # noqa: E402

BASELINE = TrainConfig(epochs=1)  # the defaults are the book's baseline
QUICK = (2048, 1024)  # training and validation images of --quick


class BookDataset(Dataset):
    """The book's FMNISTDataset: data on the CPU, each sample moved to the device on its own."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, device: torch.device):
        self.x, self.y, self.device = (x.float() / 255).view(-1, 28 * 28), y, device

    def __getitem__(self, ix: int):
        return self.x[ix].to(self.device), self.y[ix].to(self.device)

    def __len__(self) -> int:
        return len(self.x)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def book_epoch(train_cpu: Split, val: Split, device: torch.device) -> tuple[float, float]:
    """(seconds, validation accuracy) of one epoch of the book's loop; accuracy is not timed."""
    torch.manual_seed(0)
    loader = DataLoader(BookDataset(train_cpu.pixels, train_cpu.labels, device), batch_size=32, shuffle=True)
    model = nn.Sequential(nn.Linear(28 * 28, 1000), nn.ReLU(), nn.Linear(1000, 10)).to(device)
    loss_fn, optimizer = nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=1e-2)
    losses = []
    sync(device)
    start = time.perf_counter()
    for x, y in loader:
        model.train()
        batch_loss = loss_fn(model(x), y)
        batch_loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(batch_loss.item())  # the book's per-batch host sync
    sync(device)
    seconds = time.perf_counter() - start
    model.eval()
    return seconds, evaluate(model, val.pixels.float() / 255, val.labels)[1]


def timed(run: Callable[[], list], device: torch.device, repeats: int) -> tuple[float, list]:
    """Fastest of REPEATS runs (the machine is shared with nothing, but clocks ramp), and its results."""
    times, results = [], []
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        results = run()
        sync(device)
        times.append(time.perf_counter() - start)
    return min(times), results


def machine(device: torch.device) -> list[str]:
    lines = [f"python {platform.python_version()}, torch {torch.__version__}, device {device}"]
    if device.type == "cuda":
        try:
            driver = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                                    capture_output=True, text=True, timeout=20).stdout.strip().splitlines()[0]
        except (OSError, subprocess.SubprocessError, IndexError):
            driver = "unknown (no nvidia-smi)"
        lines.append(f"GPU {torch.cuda.get_device_name(device)}, driver {driver}, CUDA {torch.version.cuda}, "
                     f"cuDNN {torch.backends.cudnn.version()}")
    else:
        lines.append(f"CPU {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads")
    return lines


def warm_up(train_split: Split, val: Split, device: torch.device) -> None:
    """CUDA context, cuBLAS handles and the allocator's first blocks, outside every timing."""
    small = Split(train_split.pixels[:1024], train_split.labels[:1024])
    train(BASELINE, seed=0, train=small, val=val)
    train_stack([(BASELINE, 0), (BASELINE, 1)], train=small, val=val, graph=False)
    if device.type == "cuda":
        train_stack([(BASELINE, 0), (BASELINE, 1)], train=small, val=val, graph=True)


def main_rows(args, train_split: Split, val: Split, device: torch.device) -> list[tuple[str, float, int, float]]:
    """(name, seconds, seeds, mean validation accuracy) per row."""
    seeds = list(range(args.seeds))
    cpu_train = Split(train_split.pixels.cpu(), train_split.labels.cpu())
    seconds, acc = book_epoch(cpu_train, val, device)
    rows = [("(a) book loop, DataLoader", seconds, 1, acc)]
    print(f"  (a) done in {seconds:.2f} s", flush=True)
    seconds, result = timed(lambda: [train(BASELINE, seed=0, train=train_split, val=val)], device, args.repeats)
    rows.append(("(b) suite.trainer.train", seconds, 1, result[0].history["val_acc"][-1]))
    unbatched_seed0 = result[0].history
    variants = [("(c) train_batched", False)] + ([("(c+graph) train_batched, CUDA graph", True)]
                                                  if device.type == "cuda" and not args.no_graph else [])
    for name, graph in variants:
        seconds, results = timed(lambda: train_stack([(BASELINE, s) for s in seeds], train=train_split, val=val,
                                                     graph=graph), device, args.repeats)
        rows.append((name, seconds, len(seeds), statistics.mean(r.history["val_acc"][-1] for r in results)))
        drift = abs(results[0].history["val_loss"][-1] - unbatched_seed0["val_loss"][-1])
        print(f"  {name}: seed 0 val_loss differs from (b) by {drift:.2e} (same init and order; "
              f"rounding only)", flush=True)
    return rows


def print_table(rows: list[tuple[str, float, int, float]]) -> None:
    reference = rows[0][1]
    print(f"\n{'row':38} {'seeds':>5} {'time s':>8} {'s/seed':>8} {'speedup':>8} {'per seed':>9} {'val_acc':>8}")
    for name, seconds, seeds, acc in rows:
        print(f"{name:38} {seeds:5d} {seconds:8.2f} {seconds / seeds:8.2f} {reference / seconds:7.1f}x "
              f"{reference * seeds / seconds:8.1f}x {acc:8.3f}")
    print("speedup: (a)'s time / the row's time; per seed: the same for the time per seed.")


class OutOfTime(Exception):
    pass


def book_profile(args, train_split: Split, val: Split) -> None:
    """Every ablation's every variant of the book profile, batched over seeds, within a time limit."""
    work = [(a, v.name, a.config(v.name, PROFILES["book"])) for a in ABLATIONS_LIST for v in a.variants]
    if args.quick:  # the smoke test visits every config for one epoch
        work = [(a, v, replace(cfg, epochs=1)) for a, v, cfg in work]
    total = sum(cfg.epochs for *_, cfg in work)
    seeds, done, start = list(range(args.seeds)), 0, time.perf_counter()
    deadline = start + args.book_limit_s
    print(f"\n(d) book profile: {len(work)} variants, {total} epochs per seed, {len(seeds)} seeds, "
          f"limit {args.book_limit_s:.0f} s", flush=True)

    def stop_when_late(seed: int, epoch: int, row: dict) -> None:
        if time.perf_counter() > deadline:
            raise OutOfTime(epoch)

    for ablation, variant, cfg in work:
        began = time.perf_counter()
        if began > deadline:
            print(f"  stopped by the limit before {ablation.name}/{variant}")
            break
        try:
            train_stack([(cfg, s) for s in seeds], train=train_split, val=val, on_epoch=stop_when_late,
                        graph=not args.no_graph)
        except OutOfTime as late:
            print(f"  stopped by the limit in {ablation.name}/{variant} at epoch {late.args[0]} of {cfg.epochs}")
            break
        done += cfg.epochs
        print(f"  {ablation.name}/{variant}: {cfg.epochs} epochs in {time.perf_counter() - began:.1f} s", flush=True)
    elapsed = time.perf_counter() - start
    print(f"(d) {done} of {total} epochs (per seed) in {elapsed:.1f} s"
          + (f"; all of them would take about {elapsed * total / done / 60:.1f} min at this rate"
             if 0 < done < total else ""))


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="cuda (default), cuda:N or cpu")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK[0]} training, {QUICK[1]} validation images")
    parser.add_argument("--seeds", type=int, default=3, help="seeds trained together in the batched rows")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of (b) and (c); the fastest counts")
    parser.add_argument("--no-graph", action="store_true", help="skip CUDA graphs")
    parser.add_argument("--with-book-profile", action="store_true", help="(d): every ablation, batched")
    parser.add_argument("--book-limit-s", type=float, default=600.0, help="stop (d) after this many seconds")
    parser.add_argument("--data-dir", help="FashionMNIST folder (default: found automatically)")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse(argv)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print(f"no CUDA device (torch {torch.__version__}); use --device cpu --quick for a smoke test")
        return 2
    for line in machine(device):
        print(line)
    root = resolve_root(args.data_dir)
    limits = QUICK if args.quick else (None, None)
    train_split = load_split(root, train=True, device=str(device), limit=limits[0])
    val = load_split(root, train=False, device=str(device), limit=limits[1])
    print(f"data: {len(train_split)} training, {len(val)} validation images; baseline {BASELINE}", flush=True)
    warm_up(train_split, val, device)
    print_table(main_rows(args, train_split, val, device))
    if args.with_book_profile:
        book_profile(args, train_split, val)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
