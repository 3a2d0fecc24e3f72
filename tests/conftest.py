"""Shared fixtures of the self-tests: the real dataset files and a tiny slice of them, one torch thread.

Tests are marked by what they need, so that a quick loop can leave the slow ones out:

    pytest tests -m "not dataset and not subprocess"     # no data, no child process: seconds

``dataset`` (the real FashionMNIST) is added here to every test that uses a dataset fixture;
``subprocess`` and ``slow`` are set by the modules themselves (markers: pyproject.toml).
"""

import shutil
from pathlib import Path

import pytest

from suite.engine.data import DEBIAN_DIR, FILES, resolve_root

pytest_plugins = ["pytester"]
DATASET_FIXTURES = {"data_root", "gz_copy", "tiny"}


def pytest_collection_modifyitems(items) -> None:
    tests = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(tests) and DATASET_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.dataset)


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


@pytest.fixture
def one_thread():
    """One torch thread, for modules that train tiny models (``pytestmark = usefixtures("one_thread")``):
    on a busy 2-core machine two threads for these tiny matmuls spin-wait, 10x slower."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
