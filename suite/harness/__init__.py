"""The pytest integration: the plugin's options and hooks, the run session that owns one run's
results and writes them as they come, and what happens as a run ends (benchmark file, nightly
comparison, report)."""
