"""FashionMNIST, found on disk, verified, and held on the training device as tensors.

    from suite.engine.data import resolve_root, load_split
    root = resolve_root()                       # finds + verifies the four files
    train = load_split(root, train=True, device="cpu", limit=6000)

Where the files come from, in order: an explicit folder (``--ablation-data-dir`` or the
``ABLATION_DATA_DIR`` environment variable), the user's cache folder, Debian's package
``dataset-fashion-mnist``, and last torchvision's own download. Every file is checked
against the MD5 of its *decompressed* content (the Debian package recompresses the
archives, so the archive checksums torchvision knows do not apply). Any problem raises
:class:`DataError`, whose message is one line meant for the user.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from suite.store.files import atomic_writer

if TYPE_CHECKING:  # the resolver itself runs without importing torch
    import torch

# MD5 of each decompressed IDX file of the original Zalando release.
FILES = {
    "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
    "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
    "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
    "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
}
ENV_VAR = "ABLATION_DATA_DIR"
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
HOW_TO_GET = (
    "install it with `apt-get install dataset-fashion-mnist`, or put the four FashionMNIST "
    f"files (.gz or decompressed) in a folder and pass --ablation-data-dir DIR (or set {ENV_VAR})"
)


class DataError(RuntimeError):
    """A problem with the dataset, described in one line for the user."""


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "chapter3-ablations"


def _raw(root: Path) -> Path:
    """The folder torchvision reads: ROOT/FashionMNIST/raw."""
    return root / "FashionMNIST" / "raw"


def _md5(data_stream) -> str:
    digest = hashlib.md5()
    for chunk in iter(lambda: data_stream.read(1 << 20), b""):
        digest.update(chunk)
    return digest.hexdigest()


def _find(folder: Path) -> dict[str, Path]:
    """The dataset files present in FOLDER (flat, or in torchvision's layout)."""
    found: dict[str, Path] = {}
    for where in (folder, _raw(folder), folder / "raw"):
        for name in FILES:
            for candidate in (where / name, where / f"{name}.gz"):
                if name not in found and candidate.is_file():
                    found[name] = candidate
    return found


def _decompressed_md5(path: Path) -> str:
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as stream:
            return _md5(stream)
    except PermissionError:  # a sound file this account may not read is not "corrupt"
        raise DataError(
            f"cannot read dataset file {path}: permission denied; make it readable "
            f"(chmod a+r) or pass another folder with --ablation-data-dir"
        ) from None
    except (OSError, EOFError, gzip.BadGzipFile) as exc:  # truncated or not gzip at all
        raise DataError(f"corrupt dataset file {path}: {exc}; delete or replace it ({HOW_TO_GET})") from None


def _verify(path: Path, name: str) -> None:
    if _decompressed_md5(path) != FILES[name]:
        raise DataError(
            f"corrupt dataset file {path}: its content does not match FashionMNIST's checksum "
            f"(truncated or altered); delete or replace it ({HOW_TO_GET})"
        )


def _materialize(found: dict[str, Path], root: Path) -> Path:
    """Lay verified, decompressed copies out under ROOT the way torchvision expects."""
    raw = _raw(root)
    raw.mkdir(parents=True, exist_ok=True)
    for name, source in found.items():
        target = raw / name
        if target == source:
            continue
        opener = gzip.open if source.suffix == ".gz" else open
        with opener(source, "rb") as src, atomic_writer(target) as dst:  # a killed copy never looks complete
            shutil.copyfileobj(src, dst, 1 << 20)
    return root


def _use(folder: Path, found: dict[str, Path]) -> Path:
    missing = sorted(set(FILES) - set(found))
    if missing:
        raise DataError(f"dataset folder {folder} lacks {', '.join(missing)}; {HOW_TO_GET}")
    for name, path in found.items():
        _verify(path, name)
    if all(path == _raw(folder) / name for name, path in found.items()):
        return folder
    return _materialize(found, cache_dir())


def _readable(folder: Path) -> bool:
    try:
        folder.is_dir() and list(folder.iterdir())
    except OSError as exc:
        raise DataError(f"cannot read dataset folder {folder}: {exc.strerror}") from None
    return folder.is_dir()


def _download(root: Path) -> Path:
    from torchvision.datasets import FashionMNIST

    try:
        for train in (True, False):
            FashionMNIST(str(root), train=train, download=True)
    except Exception as exc:  # torchvision raises plain RuntimeError/URLError when offline
        raise DataError(
            f"FashionMNIST was not found on this machine and downloading it failed ({type(exc).__name__}); {HOW_TO_GET}"
        ) from None
    return _use(root, _find(root))


def resolve_root(data_dir: str | os.PathLike | None = None, *, download: bool = True) -> Path:
    """Return a folder ROOT with verified files in ROOT/FashionMNIST/raw.

    An explicitly named folder must hold the data: it is never silently skipped.
    """
    explicit = data_dir or os.environ.get(ENV_VAR)
    if explicit:
        folder = Path(explicit).expanduser()
        if not _readable(folder):
            raise DataError(f"dataset folder {folder} does not exist; {HOW_TO_GET}")
        return _use(folder, _find(folder))
    cache = cache_dir()
    for folder in (cache, DEBIAN_DIR):
        found = _find(folder) if _readable(folder) else {}
        # A cache that an interrupted copy left incomplete is refilled from the next source.
        if len(found) == len(FILES) or (found and folder != cache):
            return _use(folder, found)
    if not download:
        raise DataError(f"FashionMNIST was not found on this machine; {HOW_TO_GET}")
    return _download(cache_dir())


@dataclass(frozen=True)
class Split:
    """One split as raw uint8 pixels (N, 784) and int64 labels, on one device."""

    pixels: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return len(self.labels)


def load_split(root: Path, *, train: bool, device: str = "cpu", limit: int | None = None) -> Split:
    """Read a split with torchvision and move it to DEVICE; LIMIT keeps a fixed random subset.

    The subset is drawn with its own fixed seed, so every run and profile sees the same images.
    """
    import torch
    from torchvision.datasets import FashionMNIST

    dataset = FashionMNIST(str(root), train=train, download=False)
    pixels, labels = dataset.data.reshape(len(dataset.data), -1), dataset.targets
    if limit is not None and limit < len(labels):
        keep = torch.randperm(len(labels), generator=torch.Generator().manual_seed(1234))[:limit]
        pixels, labels = pixels[keep], labels[keep]
    return Split(pixels.to(device).contiguous(), labels.to(device).contiguous())
