"""Per-step time of one stack with each update path: the stack's own (off), fused eager, fused compiled.

    python benchmarks/step_time.py --device cuda --data-dir .data          # the book's batch-norm stack
    python benchmarks/step_time.py --device cpu --steps 20 --modes off,eager   # a CPU dry run

The stack is the book profile's batch-norm ablation with batch norm on (bn and bn_book_slip,
``--seeds`` seeds each: 6 runs for 3 seeds, Adam, batch 32, 1000 hidden units), stepped with
``suite.engine.trainer.Stepper`` (a CUDA graph on CUDA) on the training split. Per mode: the
first call's seconds (warm-up, graph capture and, compiled, the compile), then the best of
``--repeats`` timings of ``--steps`` steps, in microseconds per step and per run-step.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from suite.engine.data import load_split, resolve_root  # noqa: E402
from suite.engine.stack import Stack  # noqa: E402
from suite.engine.trainer import Stepper  # noqa: E402
from suite.spec.chapter3 import ABLATIONS  # noqa: E402
from suite.spec.profiles import PROFILES  # noqa: E402


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--modes", default="off,eager,compile", help="update paths, comma-separated")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    ablation, profile = ABLATIONS["batch_norm"], PROFILES["book"]
    runs = [(ablation.config(v, profile), seed) for v in ("bn", "bn_book_slip") for seed in range(args.seeds)]
    train = load_split(resolve_root(args.data_dir), train=True, device=str(device), limit=profile.train_size)
    pixels, batch = train.pixels.float(), runs[0][0].batch_size
    print(f"{len(runs)} runs (batch norm, Adam, batch {batch}) on {device}, {args.steps} steps per timing")
    for mode in args.modes.split(","):
        stack = Stack(runs, pixels.shape[1], device, mode)
        stepper = Stepper(stack, pixels, train.labels, batch, graph=device.type == "cuda")
        idx = torch.randint(len(train), (len(runs), batch), device=device)
        start = time.perf_counter()
        for _ in range(5):  # warm-up, capture, compile
            stepper(idx)
        sync(device)
        first = time.perf_counter() - start
        best = float("inf")
        for _ in range(args.repeats):
            start = time.perf_counter()
            for _ in range(args.steps):
                stepper(idx)
            sync(device)
            best = min(best, time.perf_counter() - start)
        per_step = best / args.steps * 1e6
        compile_s = stack.fused.compile_s if stack.fused is not None else None
        print(
            f"{mode:8} first 5 steps {first:7.2f} s (compile {compile_s if compile_s is not None else '-'}) "
            f"{per_step:9.1f} us/step {per_step / len(runs):8.1f} us/run-step"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
