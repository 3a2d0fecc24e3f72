"""The package as pip installs it: the wheel carries the report's templates, and renders with them.

    pytest tests/test_packaging.py -q          # builds one wheel (about 10 s; no torch needed)

A source checkout finds templates/ whatever the packaging says, so these tests build the wheel from
a copy of the sources and render from the installed copy alone, run outside the repository.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.helpers import REPO, SAMPLE

pytestmark = [pytest.mark.slow, pytest.mark.subprocess]

# What setuptools reads to build the wheel; copied so that the build leaves nothing in the checkout.
SOURCES = ["pyproject.toml", "README.md", "suite", "templates"]
WHEEL_TEMPLATES = "suite/report/templates/"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            # symlinks=True: suite/report/templates stays the link to ../../templates it is in git.
            shutil.copytree(path, src / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(path, src / name)
    dist = tmp_path_factory.mktemp("dist")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(src)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (built,) = dist.glob("*.whl")
    return built


def test_the_wheel_holds_every_template_as_in_the_repository(wheel):
    expected = {p.name: p.read_bytes() for p in (REPO / "templates").iterdir() if p.is_file()}
    assert "report.html.j2" in expected and "report.css" in expected
    with zipfile.ZipFile(wheel) as archive:
        shipped = {
            name.removeprefix(WHEEL_TEMPLATES): archive.read(name)
            for name in archive.namelist()
            if name.startswith(WHEEL_TEMPLATES)
        }
    assert sorted(shipped) == sorted(expected)
    for name, content in expected.items():
        assert shipped[name] == content, f"{name} differs in the wheel"


def test_the_installed_wheel_renders_the_sample_from_its_own_templates(wheel, tmp_path):
    site = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    run = tmp_path / "run"
    shutil.copytree(SAMPLE, run)
    elsewhere = tmp_path / "elsewhere"  # the working folder: no suite/ or templates/ to fall back on
    elsewhere.mkdir()
    # The installed copy comes first on the path, ahead of any editable install of the checkout.
    env = dict(os.environ, PYTHONPATH=str(site))
    probe = "import suite.report.document as d; print(d.__file__); print(d.TEMPLATES)"
    where = subprocess.run([sys.executable, "-c", probe], cwd=elsewhere, env=env, capture_output=True, text=True)
    assert where.returncode == 0, where.stderr
    module, templates = where.stdout.split()
    assert Path(module).is_relative_to(site) and Path(templates).is_relative_to(site), where.stdout
    proc = subprocess.run(
        [sys.executable, "-m", "suite.report", str(run)],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (run / "report.pdf").read_bytes()[:5] == b"%PDF-"
