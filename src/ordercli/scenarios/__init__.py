"""Scenario files: the runner (load, run through a given command runner, report) and the pytest plugin."""
