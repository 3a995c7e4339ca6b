"""Cold start of every function: import time and peak memory against a boto3 + Powertools baseline.

Run: ``.venv/bin/python -m bench.cold_start [--runs 7] [--check]``. Each sample is a fresh
interpreter (``python -c``) that imports one function's ``functions/<name>/app.py`` by file,
as the Lambda runtime does, and reports the import's wall time and the process's peak resident
memory (``ru_maxrss``). The baseline interpreter imports ``boto3`` and Powertools' Logger,
Metrics, Tracer and HTTP resolver and makes one of each: the least a Powertools handler loads.
Samples are taken in rounds (baseline, then every function, ``--runs`` times) so load on the
machine falls on all of them alike; the figure is the median. ``AWS_LAMBDA_FUNCTION_NAME`` is
set so Tracer loads the X-Ray SDK as it does in Lambda. Every folder under ``functions/`` is
measured: a new function is in the table (and under the guard) as soon as it exists.

``--check`` exits 1 when a function's import time or peak memory is above ``--limit`` (1.30)
times the baseline: the regression guard (timing belongs in a benchmark, never in a test).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 1.30

BASELINE = (
    "import boto3\n"
    "from aws_lambda_powertools import Logger, Metrics, Tracer\n"
    "from aws_lambda_powertools.event_handler import APIGatewayHttpResolver\n"
    "Logger(); Metrics(); Tracer(); APIGatewayHttpResolver()\n"
)
_FUNCTION = (
    "import importlib.util\n"
    "spec = importlib.util.spec_from_file_location('handler_app', {path!r})\n"
    "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
)
_MEASURE = (
    "import time, resource, json\n"
    "_t = time.perf_counter()\n"
    "{code}"
    "_ms = (time.perf_counter() - _t) * 1000\n"
    "print(json.dumps({{'ms': _ms, 'kb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}}))\n"
)


def functions() -> dict[str, Path]:
    """Every function's handler module, by folder name."""
    return {path.parent.name: path for path in sorted((ROOT / "functions").glob("*/app.py"))}


def _environment(name: str) -> dict[str, str]:
    return {
        **os.environ,
        "AWS_LAMBDA_FUNCTION_NAME": name,  # Powertools Tracer behaves as in Lambda
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }


def sample(code: str, name: str) -> tuple[float, float]:
    """One fresh interpreter: milliseconds to run ``code`` and its peak resident MiB."""
    completed = subprocess.run(
        [sys.executable, "-c", _MEASURE.format(code=code)],
        capture_output=True,
        text=True,
        check=False,
        env=_environment(name),
        cwd=ROOT,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"importing {name} failed:\n{completed.stderr}")
    figures = json.loads(completed.stdout.strip().splitlines()[-1])
    return figures["ms"], figures["kb"] / 1024


def measure(runs: int) -> dict[str, dict[str, float]]:
    """Median import ms and peak MiB of the baseline and of each function."""
    targets = {"baseline": BASELINE} | {
        name: _FUNCTION.format(path=str(path)) for name, path in functions().items()
    }
    for name, code in targets.items():  # warm the bytecode cache, as a deployed package has it
        sample(code, name)
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in targets}
    for _ in range(runs):
        for name, code in targets.items():
            samples[name].append(sample(code, name))
    return {
        name: {
            "import_ms": statistics.median(ms for ms, _ in rows),
            "peak_mib": statistics.median(mib for _, mib in rows),
        }
        for name, rows in samples.items()
    }


def report(results: dict[str, dict[str, float]], runs: int, limit: float) -> tuple[str, list[str]]:
    """The table, and the functions over ``limit`` times the baseline."""
    base = results["baseline"]
    lines = [
        f"Cold start: import of functions/<name>/app.py in a fresh interpreter (median of {runs})",
        f"{'function':14} {'import ms':>9} {'x base':>7} {'peak MiB':>9} {'x base':>7}",
        f"{'baseline':14} {base['import_ms']:>9.0f} {1:>7.2f} {base['peak_mib']:>9.1f} {1:>7.2f}",
    ]
    over = []
    for name, row in results.items():
        if name == "baseline":
            continue
        time_ratio = row["import_ms"] / base["import_ms"]
        memory_ratio = row["peak_mib"] / base["peak_mib"]
        flag = "  over" if max(time_ratio, memory_ratio) > limit else ""
        if flag:
            over.append(name)
        lines.append(
            f"{name:14} {row['import_ms']:>9.0f} {time_ratio:>7.2f} {row['peak_mib']:>9.1f} {memory_ratio:>7.2f}{flag}"
        )
    lines.append(
        f"baseline: boto3 + Powertools Logger, Metrics, Tracer, HTTP resolver; target at most {limit:.2f}x"
    )
    return "\n".join(lines), over


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cold_start", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh interpreters per function")
    parser.add_argument("--check", action="store_true", help="exit 1 if a function is over --limit")
    parser.add_argument("--limit", type=float, default=LIMIT, help="largest ratio to the baseline")
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON too")
    args = parser.parse_args(argv)
    results = measure(args.runs)
    table, over = report(results, args.runs, args.limit)
    print(table)
    if args.json:
        print(json.dumps(results, indent=2))
    if args.check and over:
        print(f"over {args.limit:.2f}x the baseline: {', '.join(over)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
