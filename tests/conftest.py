"""Shared fixtures of the self-tests: the real dataset files and a tiny slice of them."""

import shutil
from pathlib import Path

import pytest

from suite.engine.data import DEBIAN_DIR, FILES, resolve_root

REPO = Path(__file__).resolve().parents[1]
pytest_plugins = ["pytester"]


@pytest.fixture(scope="session")
def data_root() -> Path:
    """A verified FashionMNIST root (CI installs Debian's dataset-fashion-mnist)."""
    return resolve_root()


@pytest.fixture
def gz_copy(tmp_path) -> Path:
    """A private copy of the four original .gz files, to damage at will."""
    if not all((DEBIAN_DIR / f"{name}.gz").is_file() for name in FILES):
        pytest.skip("needs Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist)")
    folder = tmp_path / "gz"
    folder.mkdir()
    for name in FILES:
        shutil.copy(DEBIAN_DIR / f"{name}.gz", folder)
    return folder


@pytest.fixture(scope="session")
def tiny(data_root):
    """512 training and 256 validation images on the CPU."""
    from suite.engine.data import load_split

    return (load_split(data_root, train=True, limit=512), load_split(data_root, train=False, limit=256))
