"""The run folder: its name, and the lock that lets one process write it.

    from suite.store.folder import RunFolderLock, new_run_dir

No torch.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from suite.store.files import BENCHMARK_FILE, RESULTS_FILE, ResultsError

LOCK_FILE = ".lock"


class RunFolderError(ResultsError):
    """A results folder this run may not write into (already used, or in use), in one line."""


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
        self.run_dir = run_dir
        self._fd: int | None = fd

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
            raise RunFolderError(
                f"another pytest process is writing into {run_dir} (it holds {LOCK_FILE}); "
                "wait for it or pick another --ablation-run-id"
            ) from None
        lock = cls(run_dir, fd)
        earlier = [name for name in (RESULTS_FILE, BENCHMARK_FILE) if (run_dir / name).exists()]
        if earlier:
            lock.release()
            raise RunFolderError(
                f"{run_dir} already holds an earlier run ({', '.join(earlier)}); pick another "
                "--ablation-run-id, or remove the folder to run again under this id"
            )
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
