"""Where and with what a run ran: Python, CPU, device, git commit, package versions.

    from suite.store.machine import machine_info

No torch import of its own: torch is described only if the caller already imported it.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

from suite.store.load import LoadSample


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], capture_output=True, text=True, timeout=10, cwd=Path(__file__).resolve().parent
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_sample() -> dict:
    """How busy the machine is now, as stored (``suite.store.load.LoadSample``)."""
    return LoadSample.now().to_json()


def machine_info(device: str) -> dict:
    """Where and with what a run ran. torch is imported here only if the caller already has it."""
    info: dict[str, Any] = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu": _cpu_name(),
        "cpu_count": os.cpu_count(),
        "device": device,
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "load_start": load_sample(),  # load_end: set as the run finishes (suite.harness.run)
    }
    torch = sys.modules.get("torch")
    if torch is not None:
        info.update(torch=torch.__version__, cuda=torch.version.cuda, torch_threads=torch.get_num_threads())
        if device.startswith("cuda") and torch.cuda.is_available():
            index = torch.device(device).index or 0
            info.update(
                gpu=torch.cuda.get_device_name(index), cudnn=torch.backends.cudnn.version(), driver=_nvidia_driver()
            )
    try:
        from importlib.metadata import version

        info["packages"] = {
            name: version(name)
            for name in (
                "torchvision",
                "pytest",
                "pytest-benchmark",
                "numpy",
                "jinja2",
                "weasyprint",
                "seaborn",
                "matplotlib",
            )
            if _installed(name)
        }
    except Exception:  # metadata is informative only
        pass
    return info


def _installed(name: str) -> bool:
    from importlib.metadata import PackageNotFoundError, version

    try:
        version(name)
        return True
    except PackageNotFoundError:
        return False


def _nvidia_driver() -> str | None:
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        return out.stdout.strip().splitlines()[0] if out.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired, IndexError):
        return None
