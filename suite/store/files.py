"""Files of a results folder: their names, atomic writes, JSON reading with one-line errors.

    from suite.store.files import atomic_write_json, read_json

A reader never sees a half-written file: every write goes to a temporary file that is renamed
over the old one. NaN and infinities (a diverged run has them) are stored as strings. No torch.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

RESULTS_FILE = "results.json"
BENCHMARK_FILE = "benchmark.json"


class ResultsError(RuntimeError):
    """A missing or malformed results file, described in one line: whatever the message quotes
    from the file (a key with a line break in it) is shown escaped."""

    def __init__(self, message: str):
        super().__init__(one_line(message))


def first_line(text: str) -> str:
    """An error's message as a run stores and prints it: its first non-empty line (an assertion
    rewritten by pytest adds lines of explanation below it)."""
    return next((line.strip() for line in text.splitlines() if line.strip()), text.strip())


def one_line(text: str) -> str:
    """TEXT with every unprintable character (a line break) escaped, as repr() writes it."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def write_failure(path: str | os.PathLike, exc: OSError) -> str:
    """One line saying why writing PATH failed: "no space left on device writing reports/r1/results.json"."""
    why = exc.strerror or str(exc) or type(exc).__name__
    return f"{why[:1].lower()}{why[1:]} writing {path}"


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


class atomic_writer:  # noqa: N801 - used as a function: ``with atomic_writer(path) as stream``
    """A binary stream into a temporary file in PATH's folder; on success fsync, then rename over PATH.

    A reader never sees a half-written file, and a killed or failed writer leaves the previous
    version. The file gets the permissions an ordinary ``open`` would (0666 less the umask), not
    mkstemp's private 0600: results are read by other accounts (a CI user, a report job).

    A class, not a generator: a signal's KeyboardInterrupt can arrive between any two bytecodes.
    The temporary name is chosen before the file exists, and everything from its creation to the
    ``return`` of ``__enter__`` is covered, so no interrupt leaves a temporary file behind (a
    generator's cleanup would wait for its garbage collection, and mkstemp's name is known only
    after it returns).
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._tmp = self.path.parent / f".{self.path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        self._stream: BinaryIO | None = None

    def __enter__(self) -> BinaryIO:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self._tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies
            self._stream = os.fdopen(fd, "wb")
            return self._stream
        except BaseException:
            self._discard()
            raise

    def __exit__(self, exc_type, exc, traceback) -> None:
        try:
            if exc_type is None and self._stream is not None:
                self._stream.flush()
                os.fsync(self._stream.fileno())
                self._stream.close()
                os.replace(self._tmp, self.path)
        finally:
            self._discard()

    def _discard(self) -> None:
        if self._stream is not None:
            self._stream.close()
        with signals_held():  # an interrupt in the middle of the removal would keep the file
            self._tmp.unlink(missing_ok=True)


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
