"""Files of a results folder: their names, atomic writes, JSON reading with one-line errors.

    from suite.store.files import atomic_write_json, read_json

A reader never sees a half-written file: every write goes to a temporary file that is renamed
over the old one. NaN and infinities (a diverged run has them) are stored as strings. No torch.
"""

from __future__ import annotations

import json
import math
import os
import signal
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

RESULTS_FILE = "results.json"
BENCHMARK_FILE = "benchmark.json"


class ResultsError(RuntimeError):
    """A missing or malformed results file, described in one line."""


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
    tmp = None
    try:
        with signals_held():  # the temporary file exists only once its name is known here
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.fchmod(fd, 0o666 & ~umask())
        with os.fdopen(fd, "wb") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    finally:
        with signals_held():
            if tmp is not None and os.path.exists(tmp):
                os.unlink(tmp)


@contextmanager
def signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM wait until the block has run, then reach their handlers.

    Their handlers raise KeyboardInterrupt (Python's for Ctrl-C, the plugin's and the report's for
    SIGTERM): raised between creating a temporary file and recording its name, or in the middle
    of removing it, it would leave the file behind for good. The handlers are swapped for ones
    that only note the signal, which is raised again after the block. (Blocking the signal with
    pthread_sigmask would not do: it holds one thread, and torch's threads would still take it.)
    Python runs signal handlers in the main thread only: elsewhere the block runs as it is.
    """
    held = (signal.SIGINT, signal.SIGTERM)
    if threading.current_thread() is not threading.main_thread() or None in map(signal.getsignal, held):
        yield  # a handler installed outside Python cannot be put back
        return
    pending: list[int] = []

    def note(number: int, frame) -> None:
        pending.append(number)

    previous = {signum: signal.signal(signum, note) for signum in held}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for number in pending:
            signal.raise_signal(number)


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
