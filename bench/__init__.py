"""Benchmarks: every figure in docs/BENCHMARKS.md comes from a module here (`python -m bench`)."""
