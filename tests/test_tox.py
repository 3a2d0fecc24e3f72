"""tox.ini: every env runs the venv's own pytest; the lint env installs no torch.

    pytest tests/test_tox.py

The gpu env reuses the runner's CUDA torch (system_site_packages), so pip finds pytest already
installed there and puts no ``pytest`` script in the venv; a bare ``pytest`` command then fails
with "pytest is not allowed" before the suite starts. ``python -m pytest`` always runs in the venv.
"""

from __future__ import annotations

import configparser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def tox_ini() -> configparser.ConfigParser:
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(ROOT / "tox.ini")
    return tox


def lines(section, key: str) -> list[str]:
    return [line.strip() for line in section.get(key, "").splitlines() if line.strip()]


def test_every_tox_command_runs_pytest_as_a_module():
    tox = tox_ini()
    envs = [s for s in tox.sections() if s.startswith("testenv")]
    assert {"testenv", "testenv:gpu", "testenv:nightly", "testenv:lint"} <= set(envs)
    for env in envs:
        commands = lines(tox[env], "commands")
        assert commands, env
        for command in commands:
            if "pytest" in command:
                assert command.startswith("python -m pytest "), f"[{env}] {command}"


def test_lint_runs_ruff_and_mypy_without_installing_the_package():
    lint = tox_ini()["testenv:lint"]
    assert lint.get("skip_install") == "true", "installing the package would install torch"
    assert lines(lint, "commands") == ["ruff check .", "ruff format --check .", "mypy"]
    assert not any(dep.startswith(("torch", "chapter3")) for dep in lines(lint, "deps"))


def test_ci_lints_before_anything_else():
    steps = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line.startswith("tox ")]
    assert steps == ["tox -e lint", "tox -e py"]
