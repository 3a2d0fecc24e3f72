# Registers the suite's pytest plugin when pytest runs from a checkout. An installed package
# registers the same module through its pytest11 entry point, named "suite.harness.plugin" so that pytest
# sees one plugin, not two.
pytest_plugins = ["suite.harness.plugin"]
