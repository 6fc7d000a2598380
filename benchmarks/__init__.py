"""Benchmarks run by ``python -m benchmarks NAME`` (``make bench`` runs them all).

Each module has ``run(**options) -> dict``: the figure and the baselines it is
compared with, measured in the same run. The command prints the dict as the
last line, in JSON. They are not tests: they measure, they do not pass/fail.
"""
