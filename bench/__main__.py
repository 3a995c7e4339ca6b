"""``python -m bench``: every benchmark recorded in docs/BENCHMARKS.md, one after the other."""

from bench import capture, processing

capture.main()
print()
processing.main()
