"""tox.ini: every env runs the venv's own pytest.

    pytest tests/test_tox.py

The gpu env reuses the runner's CUDA torch (system_site_packages), so pip finds pytest already
installed there and puts no ``pytest`` script in the venv; a bare ``pytest`` command then fails
with "pytest is not allowed" before the suite starts. ``python -m pytest`` always runs in the venv.
"""

from __future__ import annotations

import configparser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_tox_command_runs_pytest_as_a_module():
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(ROOT / "tox.ini")
    envs = [s for s in tox.sections() if s.startswith("testenv")]
    assert {"testenv", "testenv:gpu", "testenv:nightly"} <= set(envs)
    for env in envs:
        commands = [c.strip() for c in tox[env].get("commands", "").splitlines() if c.strip()]
        assert commands, env
        for command in commands:
            assert command.startswith("python -m pytest "), f"[{env}] {command}"
