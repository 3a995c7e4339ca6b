"""Definitions cache refresh: reading the stored bundle back, as every Lambda does per version.

Run: ``.venv/bin/python -m bench.definitions_refresh``. Compares a full validation
(``Bundle.model_validate``, what the Lambdas did before: every cross-reference check and a
Jinja2 compile of every template) with ``load_stored`` (shape only), on the demo bundle:
warm (in-process, median of many) and first in a fresh interpreter (imports included).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 7

_FIRST = (
    "import json, os, sys, time\n"
    "data = json.loads(open(os.environ['BENCH_STORED_BUNDLE']).read())\n"
    "import leadflow.definitions as d\n"
    "t = time.perf_counter()\n"
    "{call}\n"
    "print((time.perf_counter() - t) * 1000, 'jinja2' in sys.modules)\n"
)
_CALLS = {"model_validate": "d.Bundle.model_validate(data)", "load_stored": "d.load_stored(data)"}


def _first_ms(call: str, path: str) -> tuple[float, bool]:
    code = _FIRST.format(call=call)
    env = {**os.environ, "BENCH_STORED_BUNDLE": path}
    samples, jinja = [], False
    for _ in range(RUNS):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env, cwd=ROOT
        ).stdout.split()
        samples.append(float(out[0]))
        jinja = out[1] == "True"
    return statistics.median(samples), jinja


def main() -> None:
    from leadflow.definitions import Bundle, load_stored, parse_bundle

    stored = parse_bundle((ROOT / "examples" / "demo.yaml").read_text()).to_json_dict()
    print("Definitions refresh (examples/demo.yaml as stored)")
    print(f"{'path':<16} {'warm ms':>8} {'first ms':>9}  imports jinja2")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(stored, handle)
    try:
        for name, load in (("model_validate", Bundle.model_validate), ("load_stored", load_stored)):
            timer = timeit.Timer(lambda load=load: load(stored))
            warm = statistics.median(t / 50 for t in timer.repeat(repeat=RUNS, number=50)) * 1000
            first, jinja = _first_ms(_CALLS[name], handle.name)
            print(f"{name:<16} {warm:>8.2f} {first:>9.1f}  {'yes' if jinja else 'no'}")
    finally:
        Path(handle.name).unlink()


if __name__ == "__main__":
    main()
