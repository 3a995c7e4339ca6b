"""``python -m leadflow_local``: the same as ``leadflow dev``."""

import sys

from leadflow_local.cli import main

sys.exit(main(sys.argv[1:]))
