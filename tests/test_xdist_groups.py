"""The pytest-xdist scheduler's grouping: every suite case's node id names its ablation."""

from suite.harness.xdist_groups import ablation_of
from suite.spec.chapter3 import ABLATIONS_LIST

CASES = "suite/cases/test_chapter3.py"


def test_every_case_id_maps_to_its_ablation_with_or_without_the_group_suffix():
    for ablation in ABLATIONS_LIST:
        ids = [f"{CASES}::test_variant[{ablation.name}-{v.name}]" for v in ablation.variants]
        ids.append(f"{CASES}::test_claims[{ablation.name}]")
        for nodeid in ids:
            assert ablation_of(nodeid) == ablation.name, nodeid
            assert ablation_of(f"{nodeid}@{ablation.name}") == ablation.name, nodeid


def test_other_tests_are_left_to_loadgroup():
    assert ablation_of("tests/test_x.py::test_y[scaling-raw]") is None
    assert ablation_of(f"{CASES}::test_variant[no_such_ablation-raw]") is None
    assert ablation_of("suite/cases/test_book_facts.py::test_sigmoid_saturation") is None
