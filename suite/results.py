"""The results folder of a run: atomic writes, loading with clear errors, machine info.

    from suite.results import load_results
    results = load_results("reports/20261126-221500")     # -> dict, or ResultsError

A run writes ``reports/<run-id>/results.json`` (rewritten atomically after each case, so a
killed run leaves the last complete version) and pytest-benchmark's ``benchmark.json`` beside
it. No torch here: the report reads results with this module alone.
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Iterator

from suite.validation import check_results

SCHEMA = 1
RESULTS_FILE = "results.json"
REQUIRED = ("schema", "run_id", "profile", "seeds", "machine", "ablations")


class ResultsError(RuntimeError):
    """A missing or malformed results file, described in one line."""


class RunFolderError(ResultsError):
    """A results folder this run may not write into (already used, or in use), in one line."""


LOCK_FILE = ".lock"
BENCHMARK_FILE = "benchmark.json"


def new_run_dir(root: Path, run_id: str | None) -> Path:
    """ROOT/RUN_ID, or ROOT/<timestamp> (with -2, -3... if a run of the same second exists)."""
    if run_id:
        return root / run_id
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    candidate, n = root / stamp, 1
    while candidate.exists():
        n += 1
        candidate = root / f"{stamp}-{n}"
    return candidate


class RunFolderLock:
    """One process writes one results folder: an advisory lock on RUN_DIR/.lock, then a check
    that the folder holds no earlier run.

    The lock is ``flock``-based, so the operating system drops it on every exit path, a kill -9
    included; ``release`` also removes the file. Taking the lock before looking for results.json
    means two runs started at once with one run id cannot both pass the check.
    """

    def __init__(self, run_dir: Path, fd: int):
        self.run_dir, self._fd = run_dir, fd

    @classmethod
    def acquire(cls, run_dir: str | os.PathLike) -> RunFolderLock:
        import fcntl

        run_dir = Path(run_dir)
        try:
            run_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(run_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise RunFolderError(f"cannot create the results folder {run_dir}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise RunFolderError(f"another pytest process is writing into {run_dir} (it holds {LOCK_FILE}); "
                                 "wait for it or pick another --ablation-run-id") from None
        lock = cls(run_dir, fd)
        earlier = [name for name in (RESULTS_FILE, BENCHMARK_FILE) if (run_dir / name).exists()]
        if earlier:
            lock.release()
            raise RunFolderError(f"{run_dir} already holds an earlier run ({', '.join(earlier)}); pick another "
                                 "--ablation-run-id, or remove the folder to run again under this id")
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        return lock

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            (self.run_dir / LOCK_FILE).unlink(missing_ok=True)
        finally:
            os.close(self._fd)  # closing drops the flock
            self._fd = None
        try:
            self.run_dir.rmdir()  # a run that wrote nothing leaves no empty folder behind
        except OSError:
            pass


def _json_safe(value):
    """NaN and infinities become strings: JSON has no literal for them, and a diverged run has them."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def _restore(value):
    if value in ("nan", "inf", "-inf"):
        return float(value)
    if isinstance(value, dict):
        return {k: _restore(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_restore(v) for v in value]
    return value


def umask() -> int:
    mask = os.umask(0)  # the only way to read it is to set it: put it straight back
    os.umask(mask)
    return mask


@contextmanager
def atomic_writer(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """A binary stream into a temporary file in PATH's folder; on success fsync, then rename over PATH.

    A reader never sees a half-written file, and a killed or failed writer leaves the previous
    version. The file gets the permissions an ordinary ``open`` would (0666 less the umask), not
    mkstemp's private 0600: results are read by other accounts (a CI user, a report job).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~umask())
        with os.fdopen(fd, "wb") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def atomic_write(path: str | os.PathLike, data: bytes) -> None:
    with atomic_writer(path) as stream:
        stream.write(data)


def atomic_write_json(path: str | os.PathLike, data) -> None:
    atomic_write(path, json.dumps(_json_safe(data), indent=1, allow_nan=False).encode("utf-8"))


def read_json(path: str | os.PathLike):
    path = Path(path)
    try:
        return _restore(json.loads(path.read_text()))
    except FileNotFoundError:
        raise ResultsError(f"no results file at {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultsError(f"cannot read results file {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ResultsError(f"malformed results file {path}: {exc}") from None


def read_benchmark(folder: str | os.PathLike) -> dict | None:
    """{(ablation, variant): mean seconds} from the run's pytest-benchmark file; None if it has none.

    The plugin sets each benchmark's group to the ablation and ``extra_info.variant``; benchmarks
    without a variant are not the suite's and are skipped.
    """
    path = Path(folder) / BENCHMARK_FILE
    if not path.exists():
        return None
    data = read_json(path)
    try:
        times = {}
        for bench in data["benchmarks"]:
            params = bench.get("params") or {}
            ablation = params.get("ablation") or bench.get("group")
            variant = params.get("variant") or (bench.get("extra_info") or {}).get("variant")
            if ablation and variant:
                times[(ablation, variant)] = float(bench["stats"]["mean"])
        return times
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ResultsError(f"malformed benchmark file {path}: {type(exc).__name__}: {exc}") from None


def load_results(folder: str | os.PathLike) -> dict:
    """Load and check a run's results.json; FOLDER may also be the file itself."""
    path = Path(folder)
    if path.is_dir():
        path = path / RESULTS_FILE
    data = read_json(path)
    if not isinstance(data, dict):
        raise ResultsError(f"malformed results file {path}: top level: expected a JSON object")
    missing = [key for key in REQUIRED if key not in data]
    if missing:
        raise ResultsError(f"malformed results file {path}: missing {', '.join(missing)}")
    if data["schema"] != SCHEMA:
        raise ResultsError(f"results file {path} has schema {data['schema']}, this version reads {SCHEMA}")
    check_results(data, path)
    return data


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], capture_output=True, text=True, timeout=10,
                             cwd=Path(__file__).resolve().parent)
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


def machine_info(device: str) -> dict:
    """Where and with what a run ran. torch is imported here only if the caller already has it."""
    info = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu": _cpu_name(),
        "cpu_count": os.cpu_count(),
        "device": device,
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
    }
    torch = sys.modules.get("torch")
    if torch is not None:
        info.update(torch=torch.__version__, cuda=torch.version.cuda, torch_threads=torch.get_num_threads())
        if device.startswith("cuda") and torch.cuda.is_available():
            index = torch.device(device).index or 0
            info.update(gpu=torch.cuda.get_device_name(index),
                        cudnn=torch.backends.cudnn.version(),
                        driver=_nvidia_driver())
    try:
        from importlib.metadata import version

        info["packages"] = {name: version(name) for name in
                            ("torchvision", "pytest", "pytest-benchmark", "numpy", "jinja2",
                             "weasyprint", "seaborn", "matplotlib") if _installed(name)}
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
        out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=10)
        return out.stdout.strip().splitlines()[0] if out.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired, IndexError):
        return None
