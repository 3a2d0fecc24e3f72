"""The run folder: its name, and the lock that lets one process write it.

    from suite.store.folder import RunFolderLock, new_run_dir

No torch.
"""

from __future__ import annotations

import itertools
import os
from datetime import datetime
from pathlib import Path

from suite.store.files import BENCHMARK_FILE, RESULTS_FILE, ResultsError

LOCK_FILE = ".lock"


class RunFolderError(ResultsError):
    """A results folder this run may not write into (already used, or in use), in one line."""


def run_stamp() -> str:
    """The default run id: the local time to the second (a test freezes it here)."""
    return datetime.now().strftime("%Y%m%d-%H%M%S")


def new_run_dir(root: Path, run_id: str | None) -> Path:
    """ROOT/RUN_ID, or ROOT/<timestamp>: the folder a run means to write. Without a run id it is only
    a wish: ``RunFolderLock.claim_new`` takes it, or the first free ``-2``, ``-3``... after it."""
    return root / (run_id or run_stamp())


def writer_alive(run_dir: str | os.PathLike) -> bool:
    """Whether a live process holds RUN_DIR's lock, that is, still writes the run there.

    The writer's ``flock`` lasts exactly as long as its process: a run killed without a word
    (SIGKILL, an out-of-memory kill, a runner's hard stop) leaves ``.lock`` behind, unlocked. A
    reader tries a shared lock without waiting and lets it go at once. Where the lock cannot be
    read (another account's folder), the run is taken to be alive: never call a live run dead.
    """
    import fcntl

    try:
        fd = os.open(Path(run_dir) / LOCK_FILE, os.O_RDONLY)
    except FileNotFoundError:
        return False  # a writer removes it when it ends; a copy of the results never had one
    except OSError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True  # held: the writer is alive
    finally:
        os.close(fd)  # closing lets go of a lock this reader took
    return False


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
        run_dir = Path(run_dir)
        try:
            run_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunFolderError(f"cannot create the results folder {run_dir}: {exc.strerror}") from None
        lock = cls._take(run_dir, "wait for it or pick another --ablation-run-id")
        earlier = [name for name in (RESULTS_FILE, BENCHMARK_FILE) if (run_dir / name).exists()]
        if earlier:
            lock.release()
            raise RunFolderError(
                f"{run_dir} already holds an earlier run ({', '.join(earlier)}); pick another "
                "--ablation-run-id, finish a stopped one with --ablation-resume, or remove the folder "
                "to run again under this id"
            )
        return lock

    @classmethod
    def reopen(cls, run_dir: str | os.PathLike) -> RunFolderLock:
        """RUN_DIR's lock, for ``--ablation-resume``: the folder must hold a run's results, and no
        live process may be writing it (RunFolderError otherwise)."""
        run_dir = Path(run_dir)
        if not (run_dir / RESULTS_FILE).is_file():
            raise RunFolderError(f"no run to resume in {run_dir}: it holds no {RESULTS_FILE}")
        return cls._take(run_dir, "the run is still going: wait for it to end")

    @classmethod
    def _take(cls, run_dir: Path, busy: str) -> RunFolderLock:
        """RUN_DIR's lock, held by this process (its pid written in it); BUSY: what to do if taken."""
        import fcntl

        try:
            fd = os.open(run_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise RunFolderError(f"cannot create the results folder {run_dir}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise RunFolderError(
                f"another pytest process is writing into {run_dir} (it holds {LOCK_FILE}); {busy}"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        return cls(run_dir, fd)

    @classmethod
    def claim_new(cls, wanted: str | os.PathLike) -> RunFolderLock:
        """A new folder for a run without a run id: WANTED, else WANTED-2, WANTED-3... locked.

        Creating the folder (``mkdir`` without exist_ok) is the claim, and the operating system
        grants it to one process only: of two runs started in one second, each gets a folder of
        its own. Looking for a free name first and creating it later would let both pick one name.
        """
        wanted = Path(wanted)
        try:
            wanted.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunFolderError(f"cannot create the results folder {wanted.parent}: {exc.strerror}") from None
        for n in itertools.count(1):
            candidate = wanted if n == 1 else wanted.with_name(f"{wanted.name}-{n}")
            try:
                candidate.mkdir()
            except FileExistsError:
                continue
            except OSError as exc:
                raise RunFolderError(f"cannot create the results folder {candidate}: {exc.strerror}") from None
            return cls.acquire(candidate)
        raise AssertionError("unreachable")  # itertools.count never ends

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
