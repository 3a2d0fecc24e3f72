"""The suite's command-line options (``--ablation-*``): their parsing, and the device check.

The plugin (``suite.harness.plugin``) registers them through its ``pytest_addoption`` hook.
"""

from __future__ import annotations

import argparse
import re

import pytest

from suite.spec.profiles import PROFILES

# Defaults of the options a resumed run takes from its results file instead: the parser's default
# is None, so that a resume can tell an option given (and compare it with the run's) from one left out.
DEFAULTS = {"ablation_profile": "ci", "ablation_device": "cpu", "ablation_base_seed": 0}


def option(config: pytest.Config, name: str):
    """The value of --ablation-* option NAME (``ablation_profile``), its default where not given."""
    value = config.getoption(name)
    return DEFAULTS.get(name) if value is None else value


def _device_option(text: str) -> str:
    if text in ("auto", "cpu", "cuda") or re.fullmatch(r"cuda:\d+", text):
        return text
    raise argparse.ArgumentTypeError(f"invalid value {text!r}: expected auto, cpu, cuda or cuda:N")


def _count_option(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"invalid value {text!r}: expected an integer >= {minimum}")
        return value

    return parse


def chosen_settings(config: pytest.Config) -> dict:
    """A new run's profile, device, seed count and base seed, as the run session takes them."""
    profile = PROFILES[option(config, "ablation_profile")]
    return {
        "profile": profile,
        "device": option(config, "ablation_device"),
        "seeds": config.getoption("ablation_seeds") or profile.seeds,
        "base_seed": option(config, "ablation_base_seed"),
    }


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("ablation", "chapter-3 ablation suite")
    group.addoption(
        "--ablation-profile",
        choices=sorted(PROFILES),
        default=None,
        help="book: the book's protocol; ci: shrunk for a 2-core CPU (default: ci)",
    )
    group.addoption(
        "--ablation-device",
        default=None,
        metavar="DEVICE",
        type=_device_option,
        help="auto, cpu, cuda or cuda:N; cuda fails at once without CUDA (default: cpu)",
    )
    group.addoption(
        "--ablation-seeds", type=_count_option(1), metavar="N", help="seeds per variant, >= 1 (default: the profile's)"
    )
    group.addoption(
        "--ablation-base-seed",
        type=_count_option(0),
        default=None,
        metavar="B",
        help="seeds are B*1000, B*1000+1, ... (default: 0)",
    )
    group.addoption("--ablation-data-dir", metavar="DIR", help="folder with the FashionMNIST files")
    group.addoption("--ablation-out", default="reports", metavar="DIR", help="results root (default: reports)")
    group.addoption("--ablation-run-id", metavar="ID", help="results folder name (default: a timestamp)")
    group.addoption(
        "--ablation-resume",
        metavar="ID",
        help="finish the interrupted run in OUT/ID: train only what it lacks, with its profile, seeds and device",
    )
    group.addoption(
        "--ablation-progress",
        choices=("auto", "on", "off"),
        default="auto",
        help="per-epoch progress; auto: on a terminal, off under CI (default: auto)",
    )
    group.addoption(
        "--ablation-report",
        action="store_true",
        help="render report.html and report.pdf into the results folder at the end",
    )
    group.addoption(
        "--ablation-compare",
        metavar="DIR",
        help="at the end, compare with the earlier runs in DIR (docs/nightly.md); a regression fails the run",
    )
    group.addoption("--ablation-store", action="store_true", help="with --ablation-compare: then store this run in DIR")
    group.addoption(
        "--ablation-accept",
        metavar="REASON",
        help="with --ablation-compare: the changes are intended; pass, store as the baseline, REASON recorded",
    )


def check_device(device: str) -> None:
    """A CUDA device that is not there stops the run before anything is collected, in one line."""
    if device.startswith("cuda"):  # only then import torch (and the runner) this early
        from suite.engine.workbench import DeviceUnavailable, resolve_device

        try:
            resolve_device(device)
        except DeviceUnavailable as exc:
            raise pytest.UsageError(str(exc)) from None
