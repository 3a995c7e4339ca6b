"""Cold start of every function: import time and peak memory against a boto3 + Powertools baseline.

Run: ``.venv/bin/python -m bench.cold_start [--runs 7] [--check]``. Each sample is a fresh
interpreter (``python -c``) that imports one function's ``functions/<name>/app.py`` by file,
as the Lambda runtime does, and reports the import's CPU time (and wall time) and the process's
peak resident memory (``VmHWM``). The baseline interpreter imports ``boto3`` and Powertools' Logger,
Metrics, Tracer and HTTP resolver and makes one of each: the least a Powertools handler loads.
Every function sample is paired with a baseline sample taken just before it (``--runs`` rounds),
and a ratio is the median of its pairs, so load on the shared machine falls on both sides. ``AWS_LAMBDA_FUNCTION_NAME`` is
set so Tracer loads the X-Ray SDK as it does in Lambda. Every folder under ``functions/`` is
measured: a new function is in the table (and under the guard) as soon as it exists.

``--check`` exits 1 when a function's import CPU time or peak memory is above ``--limit`` (1.30)
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
# CPU time is the figure: on a shared machine, wall time also counts the waits for a core,
# which Lambda's dedicated share does not have. Peak memory is the process's own high-water
# mark (VmHWM): ru_maxrss would carry over the larger benchmark process that spawned it.
_MEASURE = (
    "import time, json\n"
    "_t, _c = time.perf_counter(), time.process_time()\n"
    "{code}"
    "_ms, _cpu = (time.perf_counter() - _t) * 1000, (time.process_time() - _c) * 1000\n"
    "_kb = next(int(line.split()[1]) for line in open('/proc/self/status') if line.startswith('VmHWM:'))\n"
    "print(json.dumps({{'ms': _ms, 'cpu_ms': _cpu, 'kb': _kb}}))\n"
)


def functions() -> dict[str, Path]:
    """Every function's handler module, by folder name."""
    return {path.parent.name: path for path in sorted((ROOT / "functions").glob("*/app.py"))}


#: Write and read the bytecode cache, as site-packages has it from pip (this machine's shell
#: sets PYTHONDONTWRITEBYTECODE=1, which would make every sample compile leadflow's sources).
BYTECODE = {"PYTHONDONTWRITEBYTECODE": "0"}


def _environment(name: str) -> dict[str, str]:
    return {
        **os.environ,
        "AWS_LAMBDA_FUNCTION_NAME": name,  # Powertools Tracer behaves as in Lambda
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_METRICS_DISABLED": "true",
        **BYTECODE,
    }


def sample(code: str, name: str) -> dict[str, float]:
    """One fresh interpreter running ``code``: its wall and CPU milliseconds, and peak resident MiB."""
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
    return {"wall_ms": figures["ms"], "cpu_ms": figures["cpu_ms"], "peak_mib": figures["kb"] / 1024}


def measure(runs: int, only: frozenset[str] = frozenset()) -> dict[str, dict[str, float]]:
    """Per function: median CPU ms, wall ms and peak MiB, and the median of its paired ratios.

    Each of a function's samples is paired with a baseline sample taken just before it, and the
    ratio is the median of those pairs: a burst of load on the shared machine then inflates
    both sides of a pair instead of one function's whole series.
    """
    codes = {
        name: _FUNCTION.format(path=str(path))
        for name, path in functions().items()
        if not only or name in only
    }
    sample(BASELINE, "baseline")
    for name, code in codes.items():  # warm the bytecode cache, as a deployed package has it
        sample(code, name)
    pairs: dict[str, list[tuple[dict[str, float], dict[str, float]]]] = {name: [] for name in codes}
    for _ in range(runs):
        for name, code in codes.items():
            pairs[name].append((sample(BASELINE, "baseline"), sample(code, name)))
    keys = ("cpu_ms", "wall_ms", "peak_mib")
    bases = [base for rows in pairs.values() for base, _ in rows]
    results = {"baseline": {key: statistics.median(row[key] for row in bases) for key in keys}}
    results["baseline"] |= {"cpu_ratio": 1.0, "memory_ratio": 1.0}
    for name, rows in pairs.items():
        results[name] = {key: statistics.median(mine[key] for _, mine in rows) for key in keys} | {
            "cpu_ratio": statistics.median(mine["cpu_ms"] / base["cpu_ms"] for base, mine in rows),
            "memory_ratio": statistics.median(mine["peak_mib"] / base["peak_mib"] for base, mine in rows),
        }
    return results


LAYER = ROOT / ".aws-sam" / "build" / "CoreLayer" / "python"
_COMPILE_COST = (
    "import sys, time, json, pathlib, importlib.util\n"
    "layer = pathlib.Path({layer!r})\n"
    "shipped = {{p.name.removesuffix('.py') for p in layer.iterdir()}}\n"
    "sources = [m.__file__ for n, m in list(sys.modules.items())\n"
    "           if n.split('.')[0] in shipped and (getattr(m, '__file__', None) or '').endswith('.py')]\n"
    "def in_layer(source):\n"
    "    parts = pathlib.Path(source).parts\n"
    "    for start in range(len(parts) - 1, -1, -1):\n"
    "        if parts[start].removesuffix('.py') in shipped:\n"
    "            return layer.joinpath(*parts[start:])\n"
    "    return None\n"
    "def shipped_bytecode(source):\n"
    "    # a .pyc the runtime uses as it is: this interpreter's magic, hash-based and unchecked (flags 1)\n"
    "    target = in_layer(source)\n"
    "    if target is None: return False\n"
    "    cached = pathlib.Path(importlib.util.cache_from_source(str(target)))\n"
    "    if not cached.is_file(): return False\n"
    "    head = cached.read_bytes()[:8]\n"
    "    return head[:4] == importlib.util.MAGIC_NUMBER and int.from_bytes(head[4:8], 'little') == 1\n"
    "missing = [source for source in sources if not shipped_bytecode(source)]\n"
    "_c = time.process_time()\n"
    "for source in missing: compile(open(source, 'rb').read(), source, 'exec')\n"
    "print(json.dumps({{'modules': len(sources), 'without_pyc': len(missing),\n"
    "                  'ms': (time.process_time() - _c) * 1000}}))\n"
)


def compile_cost() -> dict[str, dict[str, float]]:
    """Per function: the modules it imports from the built layer, those the layer ships no usable
    bytecode for, and the CPU ms to compile them.

    /opt is read-only in Lambda, so a cold start compiles every module the layer ships without a
    ``.pyc`` the runtime can use as it is (this interpreter's magic number, unchecked hash: the
    zip keeps no reliable mtimes). The python3.13 builder shipped none; layers/core/Makefile
    compiles them all. Needs ``make build``; the packages are those the built layer ships.
    """
    if not LAYER.is_dir():
        raise SystemExit(f"{LAYER} does not exist: run `make build` first")
    results = {}
    for name, path in {"baseline": None, **functions()}.items():
        code = (BASELINE if path is None else _FUNCTION.format(path=str(path))) + _COMPILE_COST.format(
            layer=str(LAYER)
        )
        completed = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=_environment(name)
        )
        results[name] = json.loads(completed.stdout.strip().splitlines()[-1])
    return results


def report(results: dict[str, dict[str, float]], runs: int, limit: float) -> tuple[str, list[str]]:
    """The table, and the functions whose import CPU time or peak memory is over ``limit`` x baseline."""
    lines = [
        f"Cold start: import of functions/<name>/app.py in a fresh interpreter (median of {runs},"
        " each paired with a baseline run)",
        f"{'function':14} {'CPU ms':>7} {'x base':>7} {'wall ms':>8} {'peak MiB':>9} {'x base':>7}",
    ]
    over = []
    for name, row in results.items():
        flag = "  over" if max(row["cpu_ratio"], row["memory_ratio"]) > limit else ""
        if flag:
            over.append(name)
        lines.append(
            f"{name:14} {row['cpu_ms']:>7.0f} {row['cpu_ratio']:>7.2f} {row['wall_ms']:>8.0f}"
            f" {row['peak_mib']:>9.1f} {row['memory_ratio']:>7.2f}{flag}"
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
    parser.add_argument(
        "--only", nargs="*", default=[], help="measure only these functions (and the baseline)"
    )
    parser.add_argument(
        "--compile-cost", action="store_true", help="CPU to compile what each imports from the built layer"
    )
    args = parser.parse_args(argv)
    if args.compile_cost:
        print("Compiling what each function imports from the built layer without a usable .pyc")
        print(f"{'function':14} {'modules':>8} {'no .pyc':>8} {'CPU ms':>7}")
        for name, row in compile_cost().items():
            print(f"{name:14} {row['modules']:>8} {row['without_pyc']:>8} {row['ms']:>7.0f}")
        return 0
    results = measure(args.runs, frozenset(args.only))
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
