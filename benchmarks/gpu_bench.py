"""Time the trainer on one GPU: one baseline epoch, and the whole book profile through the planner.

    python benchmarks/gpu_bench.py --with-book-profile      # one H100: well under 9 minutes
    python benchmarks/gpu_bench.py                          # the baseline epoch only, ~1 minute
    python benchmarks/gpu_bench.py --device cpu --smoke --with-book-profile   # smoke test, no GPU

Baseline: the full 60k training split, MLP 784-1000-10, SGD lr 0.01, batch 32, pixels / 255.
Rows: (a) the book's notebook loop (a per-sample Dataset whose __getitem__ moves each image to
the device, DataLoader(batch_size=32, shuffle=True), loss.item() per batch); (b) the trainer, a
stack of one run; (c) a stack of --seeds runs (CUDA graphs on CUDA). (b) and (c) also evaluate
the 60k + 10k images once per epoch, as the suite does; (a) only trains, as the book's loop does.
Then, with --with-book-profile, (d) every ablation of the `book` profile as the Workbench runs it
(planner: each distinct run once, prefixes served, stacks of up to --max-stack runs) for each of
--profile-seeds (default 3 and 10), each stopped after --book-limit-s and extrapolated by
run-steps. Every row prints run-steps per second (one optimizer step of one run) and its time
per run-step against a floor of FLOOR_US: about what one step of this model costs in memory
traffic on an H100 (weights, gradients and Adam state read and written once, ~3.2 MB x ~5).
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from suite.engine.data import Split, load_split, resolve_root  # noqa: E402
from suite.engine.planner import distinct_runs, requests_for  # noqa: E402
from suite.engine.trainer import evaluate, train_stack
from suite.engine.workbench import Workbench  # noqa: E402
from suite.spec.chapter3 import ABLATIONS_LIST  # noqa: E402
from suite.spec.config import TrainConfig  # noqa: E402
from suite.spec.profiles import PROFILES, Profile  # noqa: E402

BASELINE = TrainConfig(epochs=1)  # the defaults are the book's baseline
SMOKE = (2048, 1024)  # training and validation images of --smoke
FLOOR_US = 10.0  # microseconds per run-step: the memory-traffic floor quoted against every row


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
    """Fastest of REPEATS runs (clocks ramp; the first run also captures graphs), and its results."""
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
            driver = (
                subprocess.run(
                    ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                    capture_output=True,
                    text=True,
                    timeout=20,
                )
                .stdout.strip()
                .splitlines()[0]
            )
        except (OSError, subprocess.SubprocessError, IndexError):
            driver = "unknown (no nvidia-smi)"
        lines.append(
            f"GPU {torch.cuda.get_device_name(device)}, driver {driver}, CUDA {torch.version.cuda}, "
            f"cuDNN {torch.backends.cudnn.version()}"
        )
    else:
        lines.append(f"CPU {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads")
    return lines


def rate(seconds: float, run_steps: int) -> str:
    return (
        f"{run_steps / seconds:10.0f} run-steps/s, {seconds / run_steps * 1e6:7.1f} us/run-step "
        f"= {seconds / run_steps * 1e6 / FLOOR_US:5.1f}x the {FLOOR_US:.0f} us floor"
    )


def baseline_rows(args, train_split: Split, val: Split, device: torch.device) -> None:
    """(a), (b), (c): one epoch of the baseline."""
    steps = -(-len(train_split) // BASELINE.batch_size)
    small = Split(train_split.pixels[:1024], train_split.labels[:1024])  # warm-up: context, handles
    train_stack([(BASELINE, 0), (BASELINE, 1)], train=small, val=val)
    seconds, acc = book_epoch(Split(train_split.pixels.cpu(), train_split.labels.cpu()), val, device)
    print(f"(a) book loop, DataLoader          {seconds:7.2f} s  val_acc {acc:.3f}  {rate(seconds, steps)}", flush=True)
    reference = seconds
    one_s, one = timed(lambda: train_stack([(BASELINE, 0)], train=train_split, val=val), device, args.repeats)
    print(
        f"(b) trainer, stack of 1            {one_s:7.2f} s  val_acc {one[0].history['val_acc'][-1]:.3f}  "
        f"{rate(one_s, steps)}  ({reference / one_s:.1f}x (a))",
        flush=True,
    )
    seeds = list(range(args.seeds))
    many_s, many = timed(
        lambda: train_stack([(BASELINE, s) for s in seeds], train=train_split, val=val), device, args.repeats
    )
    drift = abs(many[0].history["val_loss"][-1] - one[0].history["val_loss"][-1])
    print(
        f"(c) trainer, stack of {len(seeds):<2d}           {many_s:7.2f} s  "
        f"val_acc {many[0].history['val_acc'][-1]:.3f}  "
        f"{rate(many_s, steps * len(seeds))}  ({reference * len(seeds) / many_s:.1f}x (a) per run)",
        flush=True,
    )
    print(f"    seed 0 of (c) differs from (b) by {drift:.1e} in validation loss (rounding only)", flush=True)


class OutOfTime(Exception):
    pass


def smoke_ablations() -> list:
    """The book's ablations with epochs cut to a tenth (at most 2), for a smoke test of the planner."""
    cut = []
    for ablation in ABLATIONS_LIST:
        short = lambda o: {**o, "epochs": max(1, min(2, o["epochs"] // 10))} if "epochs" in o else o  # noqa: E731
        cut.append(
            replace(
                ablation,
                base=short(ablation.base),
                ci={},
                variants=tuple(replace(v, overrides=short(v.overrides)) for v in ablation.variants),
            )
        )
    return cut


def book_profile(args, profile: Profile, seeds: int, ablations: list) -> None:
    """(d): every ablation as the Workbench runs it, within --book-limit-s, extrapolated by run-steps."""
    bench = Workbench(profile, args.device, args.data_dir, max_stack=args.max_stack)
    train_size = len(bench.splits[0])
    steps = lambda cfg: -(-train_size // min(cfg.batch_size, train_size))  # noqa: E731
    requests = requests_for(ablations, profile, range(seeds))
    total = sum(run.cfg.epochs * steps(run.cfg) for run in distinct_runs(requests).values())
    asked = sum(r.cfg.epochs * steps(r.cfg) for r in requests)
    bench.expect(ablations, list(range(seeds)))
    done = 0
    start = time.perf_counter()
    deadline = start + args.book_limit_s
    print(
        f"\n(d) {profile.name} profile, {seeds} seeds, stacks of up to {bench.max_stack}: {total} run-steps "
        f"to train ({asked} asked for; {1 - total / asked:.1%} served from identical runs and prefixes)",
        flush=True,
    )

    def count(variant: str, seed: int, epoch: int, row: dict) -> None:
        nonlocal done
        done += steps(ablation.config(variant, profile))
        if time.perf_counter() > deadline:
            raise OutOfTime()

    for ablation in ablations:
        began = time.perf_counter()
        try:
            bench.run_ablation(ablation, list(range(seeds)), count)
        except OutOfTime:
            print(f"    stopped by --book-limit-s in {ablation.name}")
            break
        print(f"    {ablation.name:11s} {time.perf_counter() - began:7.1f} s", flush=True)
    sync(bench.device)
    elapsed = time.perf_counter() - start
    note = "" if done >= total else f"; all {total} would take about {elapsed * total / done:.0f} s at this rate"
    print(f"(d) {done} of {total} run-steps in {elapsed:.1f} s: {rate(elapsed, max(done, 1))}{note}", flush=True)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="cuda (default), cuda:N or cpu")
    parser.add_argument(
        "--smoke",
        "--quick",
        action="store_true",
        help=f"{SMOKE[0]} training, {SMOKE[1]} validation images; profile epochs cut to <= 2",
    )
    parser.add_argument("--seeds", type=int, default=3, help="runs stacked in row (c)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of (b) and (c); the fastest counts")
    parser.add_argument("--with-book-profile", action="store_true", help="(d): every ablation through the planner")
    parser.add_argument("--profile-seeds", default="3,10", help="seed counts of (d), comma-separated")
    parser.add_argument("--max-stack", type=int, help="runs per stack in (d) (default: the Workbench's)")
    parser.add_argument("--book-limit-s", type=float, default=150.0, help="stop each (d) after this many seconds")
    parser.add_argument("--data-dir", help="FashionMNIST folder (default: found automatically)")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse(argv)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print(f"no CUDA device (torch {torch.__version__}); use --device cpu --smoke for a smoke test")
        return 2
    for line in machine(device):
        print(line)
    root = resolve_root(args.data_dir)
    limits = SMOKE if args.smoke else (None, None)
    train_split = load_split(root, train=True, device=str(device), limit=limits[0])
    val = load_split(root, train=False, device=str(device), limit=limits[1])
    print(
        f"data: {len(train_split)} training, {len(val)} validation images; baseline: SGD lr 0.01, batch 32, one epoch",
        flush=True,
    )
    baseline_rows(args, train_split, val, device)
    if args.with_book_profile:
        profile = replace(PROFILES["book"], train_size=limits[0], val_size=limits[1])
        ablations = smoke_ablations() if args.smoke else ABLATIONS_LIST
        for seeds in map(int, args.profile_seeds.split(",")):
            book_profile(args, profile, seeds, ablations)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
