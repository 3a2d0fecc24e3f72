"""The dataset resolver: where it looks, what it verifies, and one clear line for each bad input."""

import gzip
import urllib.error

import pytest

from suite.engine import data
from suite.engine.data import FILES, DataError, resolve_root


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """An empty user cache, no Debian package and no network, unless a test puts them back."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    monkeypatch.setattr(data, "DEBIAN_DIR", tmp_path / "no-debian")

    def offline(self, *args, **kwargs):
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.setattr("torchvision.datasets.FashionMNIST.download", offline)


def one_line(exc: pytest.ExceptionInfo) -> str:
    message = str(exc.value)
    assert "\n" not in message
    return message


def test_debian_package_is_laid_out_for_torchvision_in_the_cache(gz_copy, monkeypatch, tmp_path):
    monkeypatch.setattr(data, "DEBIAN_DIR", gz_copy)
    root = resolve_root()
    assert root == tmp_path / "cache" / "chapter3-ablations"
    assert sorted(p.name for p in (root / "FashionMNIST" / "raw").iterdir()) == sorted(FILES)
    (gz_copy / "train-images-idx3-ubyte.gz").unlink()  # the cache is used from now on
    assert resolve_root() == root


def test_explicit_folder_wins_and_is_verified(gz_copy, monkeypatch):
    monkeypatch.setenv(data.ENV_VAR, str(gz_copy))
    root = resolve_root()
    split = data.load_split(root, train=False, limit=100)
    assert split.pixels.shape == (100, 784) and split.labels.max() <= 9


def test_missing_explicit_folder(tmp_path):
    with pytest.raises(DataError) as exc:
        resolve_root(tmp_path / "nowhere")
    assert "does not exist" in one_line(exc) and "apt-get install dataset-fashion-mnist" in str(exc.value)


def test_folder_lacking_files_names_them(gz_copy):
    (gz_copy / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError) as exc:
        resolve_root(gz_copy)
    assert "lacks t10k-labels-idx1-ubyte" in one_line(exc)


def test_truncated_file_is_named(gz_copy):
    path = gz_copy / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:100_000])
    with pytest.raises(DataError) as exc:
        resolve_root(gz_copy)
    assert f"corrupt dataset file {path}" in one_line(exc)


def test_altered_content_is_caught_by_checksum(gz_copy):
    path = gz_copy / "t10k-labels-idx1-ubyte.gz"
    labels = bytearray(gzip.decompress(path.read_bytes()))
    labels[-1] = (labels[-1] + 1) % 10  # one label changed: still a valid gzip and IDX file
    path.write_bytes(gzip.compress(bytes(labels)))
    with pytest.raises(DataError) as exc:
        resolve_root(gz_copy)
    assert f"corrupt dataset file {path}" in one_line(exc) and "checksum" in str(exc.value)


def test_unreadable_folder(gz_copy, monkeypatch):
    real_iterdir = type(gz_copy).iterdir

    def denied(self):
        if self == gz_copy:
            raise PermissionError(13, "Permission denied", str(self))
        return real_iterdir(self)

    monkeypatch.setattr(type(gz_copy), "iterdir", denied)
    with pytest.raises(DataError) as exc:
        resolve_root(gz_copy)
    assert f"cannot read dataset folder {gz_copy}: Permission denied" == one_line(exc)


def test_unreadable_file_is_named_as_unreadable_not_corrupt(gz_copy, monkeypatch):
    path = gz_copy / "train-labels-idx1-ubyte.gz"
    real_open = gzip.open

    def denied(filename, *args, **kwargs):  # root ignores chmod, so the denial is simulated
        if str(filename) == str(path):
            raise PermissionError(13, "Permission denied", str(filename))
        return real_open(filename, *args, **kwargs)

    monkeypatch.setattr(data.gzip, "open", denied)
    with pytest.raises(DataError) as exc:
        resolve_root(gz_copy)
    message = one_line(exc)
    assert message.startswith(f"cannot read dataset file {path}: permission denied") and "corrupt" not in message


def test_nothing_anywhere_and_no_network_says_both_ways_to_get_it():
    with pytest.raises(DataError) as exc:
        resolve_root()
    message = one_line(exc)
    assert "downloading it failed" in message
    assert "apt-get install dataset-fashion-mnist" in message and "--ablation-data-dir" in message


def test_incomplete_cache_is_refilled_from_the_next_source(gz_copy, monkeypatch, tmp_path):
    raw = tmp_path / "cache" / "chapter3-ablations" / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "train-labels-idx1-ubyte").write_bytes(b"left by a killed copy")
    monkeypatch.setattr(data, "DEBIAN_DIR", gz_copy)
    root = resolve_root()
    assert len(list((root / "FashionMNIST" / "raw").iterdir())) == 4
