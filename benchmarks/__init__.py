"""Reproducible performance scenarios; each module runs with `python -m benchmarks.<name>`."""
