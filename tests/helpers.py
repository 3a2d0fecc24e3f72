"""What several test modules share: paths, the report's text helpers, the stack tests' configs.

Plain constants and functions; fixtures live in tests/conftest.py. No test module imports another
(tests/test_layout.py checks it), so what two of them need is here.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import pytest

from suite.spec.chapter3 import ABLATIONS, ABLATIONS_LIST
from suite.spec.claims import judge
from suite.spec.config import TrainConfig
from suite.spec.profiles import PROFILES

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "tests" / "data" / "ci-sample"  # a real ci run, 2 seeds: the report's test input

# --- the report, read back from its PDF -----------------------------------------------------------

SECTIONS = [
    "1 Summary",
    "2 The ablations, in the book's order",
    "3 Sigmoid saturation and train/eval mode",
    "4 Timings",
    "A Appendix: environment, command, seeds",
]
RENDER_AND_CHECK_TORCH = (
    "import sys; from suite.report.__main__ import main; rc = main(sys.argv[1:]); "
    "print('torch imported' if 'torch' in sys.modules else 'torch not imported'); sys.exit(rc)"
)


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def body(text: str) -> str:
    """The PDF's text after the title page (whose contents list names every section too)."""
    return squash("".join(text.split("\f")[1:]))


def pdf_text(pdf: Path) -> str:
    if shutil.which("pdftotext"):
        # -raw keeps the drawing order, so a wrapped table cell stays in one piece.
        return subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pypdf = pytest.importorskip("pypdf", reason="needs pdftotext (poppler-utils) or pypdf")
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(pdf).pages)


def render_cli(run_dir: Path, out: Path) -> subprocess.CompletedProcess:
    """`python -m suite.report RUN_DIR --out OUT` in a subprocess, which also says whether torch was imported."""
    return subprocess.run(
        [sys.executable, "-c", RENDER_AND_CHECK_TORCH, str(run_dir), "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )


# --- stacks of runs on the tiny problem -----------------------------------------------------------

SMALL = dict(hidden=(64,), epochs=2)


def _every_variant() -> dict[tuple, list[tuple[str, TrainConfig]]]:
    """The ci config of every variant of every ablation, narrowed, grouped by what a stack shares."""
    groups = defaultdict(list)
    for ablation in ABLATIONS_LIST:
        for variant in ablation.variants:
            cfg = ablation.config(variant.name, PROFILES["ci"])
            cfg = replace(cfg, hidden=tuple(64 for _ in cfg.hidden), epochs=2)
            groups[(cfg.hidden, cfg.batch_norm, min(cfg.batch_size, 512))].append(
                (f"{ablation.name}/{variant.name}", cfg)
            )
    return groups


GROUPS = _every_variant()


# --- the nightly check's results folders (tests/test_regress*.py) ---------------------------------

SEEDS = [0, 1, 2]
# final values per variant; raw pixels are chaotic from seed to seed, scaled ones are not
BASE = {
    "raw": dict(val_acc=0.30, train_acc=0.31, val_loss=2.0, jitter=0.08),
    "scaled": dict(val_acc=0.80, train_acc=0.82, val_loss=0.55, jitter=0.002),
}
QUIET = {"run_s": 100.0, "wait_s": 1.0}  # schedstat at the end: the run waited 1 % of its time
BUSY = {"run_s": 100.0, "wait_s": 60.0}  # another job held the CPUs for a third of it


def make_run(
    root: Path,
    run_id: str,
    day: int,
    *,
    shift: dict | None = None,
    slow: float = 1.0,
    cpu: str = "Test CPU 8-core",
    torch: str = "2.0.0",
    profile: str = "ci",
    status: str = "complete",
    served: tuple[str, ...] = (),
    load: dict | None = None,
) -> Path:
    """A complete results folder of the 'scaling' ablation; SHIFT = {(variant, metric): delta};
    SERVED: variants whose runs came from another's training; LOAD: schedstat at the end."""
    shift = shift or {}
    variants, runs_by_variant = {}, {}
    for variant, base in BASE.items():
        runs = []
        for i, seed in enumerate(SEEDS):
            final = {
                m: base[m] + shift.get((variant, m), 0.0) + base["jitter"] * (i - 1)
                for m in ("val_acc", "train_acc", "val_loss")
            }
            history = {m: [v * 0.9, v] for m, v in final.items()}
            history.update(
                train_eval_loss=history["val_loss"], train_loss=history["val_loss"], lr=[0.01, 0.01], wall_s=[1.0, 1.0]
            )
            trained = variant not in served
            # 2 epochs of ceil(6000 / 32) = 188 steps at 1000 µs a step (times SLOW)
            stack = {"id": f"s{i}", "runs": 1, "seconds": 0.376 * slow, "share_s": 0.376 * slow if trained else 0.0}
            stack.update(served="trained" if trained else "identical", trained_by=variant, trained_epochs=2)
            runs.append({"seed": seed, "history": history, "diverged_epoch": None, "wall_s": 2.0, "stack": stack})
            runs[-1]["weight_abs_mean"] = 0.02 + shift.get((variant, "weight_abs_mean"), 0.0)
        runs_by_variant[variant] = runs
        config = {"batch_size": 32, "epochs": 2}
        variants[variant] = {"variant": variant, "label": variant, "config": config, "runs": runs, "duration_s": 10.0}
    spec = ABLATIONS["scaling"]
    verdicts = [judge(c, runs_by_variant).as_dict() for c in spec.claims]
    machine = {"cpu": cpu, "cpu_count": 8, "device": "cpu", "python": "3.11.7", "torch": torch, "torch_threads": 2}
    machine.update(load_start={"run_s": 0.0, "wait_s": 0.0}, load_end=load or QUIET)
    results = {
        "schema": 1,
        "run_id": run_id,
        "command": ["pytest"],
        "started": f"2026-11-{day:02d}T22:00:00+00:00",
        "finished": f"2026-11-{day:02d}T22:30:00+00:00",
        "status": status,
        "profile": {"name": profile, "train_size": 6000, "val_size": 2000, "description": ""},
        "device": "cpu",
        "seeds": SEEDS,
        "base_seed": 0,
        "machine": machine,
        "ablations": {
            "scaling": {
                "title": spec.title,
                "status": "passed",
                "error": None,
                "variants": variants,
                "claims": [c.as_dict() for c in spec.claims],
                "verdicts": verdicts,
                "duration_s": 20.0,
            }
        },
        "extras": {},
    }
    folder = root / run_id
    folder.mkdir(parents=True)
    (folder / "results.json").write_text(json.dumps(results))
    return folder


# --- a run of the suite in seconds: random images in place of FashionMNIST ------------------------


# A conftest.py for pytester (``pytester.makeconftest(FAST_WORKBENCH)``): the Workbench trains on
# a few hundred random images with one torch thread, so a subprocess run of an ablation takes
# seconds and needs no dataset. Verdicts are meaningless; the run's files, folders and endings are real.
def random_splits(self):
    """``Workbench.splits`` on a few hundred random images: set as the property in FAST_WORKBENCH's
    subprocess runs and by in-process tests (tests/test_session_schedule.py)."""
    import torch

    from suite.engine.data import Split

    if self._splits is None:
        generator = torch.Generator().manual_seed(0)

        def split(n):
            pixels = torch.randint(0, 256, (n, 784), generator=generator, dtype=torch.uint8)
            return Split(pixels, torch.randint(0, 10, (n,), generator=generator))

        self._splits = (split(256), split(128))
    return self._splits


# Its users put the repository on PYTHONPATH (the subprocess needs ``suite`` and ``tests`` alike).
FAST_WORKBENCH = """
import torch
import suite.engine.workbench
from tests.helpers import random_splits

torch.set_num_threads(1)
suite.engine.workbench.Workbench.splits = property(random_splits)
"""
