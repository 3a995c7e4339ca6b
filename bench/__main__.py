"""``python -m bench``: every benchmark recorded in docs/BENCHMARKS.md that runs in-process, one
after the other (the local stack's have their own commands there).

Powertools metrics are switched off first: the handlers would print an EMF JSON line per
invocation between the tables (and warn when one records none). Product code is untouched;
this is the harness's environment.
"""

import os
import sys
import warnings

os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
# Powertools warns, once per invocation that records no metric, on stderr between the tables.
warnings.filterwarnings("ignore", message="No application metrics to publish")

from bench import batching, capture, cold_start, compose, processing, sync_rules  # noqa: E402  (after the environment)

capture.main()
print()
processing.main()
print()
compose.main()
print()
batching.main([])
print()
sync_rules.main([])
print()
sys.exit(cold_start.main(sys.argv[1:]))
