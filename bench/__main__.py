"""``python -m bench``: every benchmark recorded in docs/BENCHMARKS.md, one after the other."""

from bench import capture, compose, processing

capture.main()
print()
processing.main()
print()
compose.main()
