"""``python -m bench``: every benchmark recorded in docs/BENCHMARKS.md that runs in-process, one
after the other (the local stack's have their own commands there).

Powertools metrics are switched off first: the handlers would print an EMF JSON line per
invocation between the tables. Product code is untouched; this is the harness's environment.
"""

import os
import sys

os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"

from bench import batching, capture, cold_start, processing  # after the environment is set

capture.main()
print()
processing.main()
print()
batching.main([])
print()
sys.exit(cold_start.main(sys.argv[1:]))
