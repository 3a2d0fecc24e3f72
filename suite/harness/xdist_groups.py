"""Each ablation's cases in one pytest-xdist worker, whichever attribute pytest reads a node id from.

An ablation's claims are judged from the variants its worker trained, so its cases must share a
worker, or a variant trains twice (once in a worker that runs it, once in the worker judging).
pytest-xdist's ``loadgroup`` does this by appending the xdist_group name to each node id on the
worker (``item._nodeid = "...@group"``); pytest 9.2 reads node ids from another attribute, so with
pytest-xdist 3.8 the suffix never reaches the controller and every case is its own group. This
scheduler reads the group from the node id's parameter instead (``test_variant[scaling-raw]``,
``test_claims[scaling]``), and defers to ``loadgroup``'s own rule for every other node id.
"""

from __future__ import annotations

import re

import pytest

from suite.spec.chapter3 import ABLATIONS

_CASE = re.compile(r"::test_(?:variant|claims)\[(?P<param>[^\]]+)\]")
_LONGEST_FIRST = sorted(ABLATIONS, key=len, reverse=True)  # "lr_scaled" before a shorter name it starts with


def ablation_of(nodeid: str) -> str | None:
    """The ablation of a suite case's node id, or None for any other test."""
    found = _CASE.search(nodeid)
    if found is None:
        return None
    param = found["param"]
    return next((name for name in _LONGEST_FIRST if param == name or param.startswith(name + "-")), None)


def make_scheduler(config: pytest.Config, log):
    from xdist.scheduler import LoadGroupScheduling  # only under pytest-xdist, which calls this

    class AblationGroups(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            name = ablation_of(nodeid)
            return f"ablation:{name}" if name is not None else super()._split_scope(nodeid)

    return AblationGroups(config, log)
