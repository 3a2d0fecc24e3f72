"""What several test modules share: paths, the report's text helpers, the stack tests' configs.

Plain constants and functions; fixtures live in tests/conftest.py. No test module imports another
(tests/test_layout.py checks it), so what two of them need is here.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import pytest

from suite.spec.chapter3 import ABLATIONS_LIST
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


# --- a run of the suite in seconds: random images in place of FashionMNIST ------------------------

# A conftest.py for pytester (``pytester.makeconftest(FAST_WORKBENCH)``): the Workbench trains on
# a few hundred random images with one torch thread, so a subprocess run of an ablation takes
# seconds and needs no dataset. Verdicts are meaningless; the run's files, folders and endings are real.
FAST_WORKBENCH = """
import torch
import suite.engine.workbench
from suite.engine.data import Split

torch.set_num_threads(1)


def _random_splits(self):
    if self._splits is None:
        generator = torch.Generator().manual_seed(0)

        def split(n):
            pixels = torch.randint(0, 256, (n, 784), generator=generator, dtype=torch.uint8)
            return Split(pixels, torch.randint(0, 10, (n,), generator=generator))

        self._splits = (split(256), split(128))
    return self._splits


suite.engine.workbench.Workbench.splits = property(_random_splits)
"""
