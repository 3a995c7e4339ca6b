"""``leadflow dev`` (and ``make dev``): run the local stack in the foreground until Ctrl-C.

Prints the URLs, ``Admin token: <token>`` and, once every resource exists and the
definitions are applied, ``Ready on http://HOST:PORT``. Errors a newcomer can hit (a taken
port, refused definitions, a template the stack cannot run) are one clear message and exit
status 1, not a traceback.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
from pathlib import Path
from types import FrameType

from leadflow_local import console as dev_console
from leadflow_local.errors import StackError
from leadflow_local.stack import DEFAULT_DEFINITIONS, DEFAULT_TEMPLATE, DevStack


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="leadflow dev",
        description="Run Leadflow locally on an embedded AWS (moto): no Docker, no AWS account.",
    )
    parser.add_argument(
        "--port", type=int, default=os.environ.get("PORT", "3000"), help="HTTP port (env PORT)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument(
        "--definitions",
        type=Path,
        default=None,
        help="definitions bundle applied at start (env LEADFLOW_DEFINITIONS; default examples/demo.yaml)",
    )
    parser.add_argument("--no-definitions", action="store_true", help="start without applying a bundle")
    parser.add_argument("--clock-speed", type=float, default=1.0, help="run the stack's clock N times faster")
    parser.add_argument(
        "--admin-token",
        default=os.environ.get("LEADFLOW_ADMIN_TOKEN"),
        help="bearer token of the admin API (env LEADFLOW_ADMIN_TOKEN; default random)",
    )
    parser.add_argument("--template", type=Path, default=DEFAULT_TEMPLATE, help=argparse.SUPPRESS)
    parser.add_argument(
        "--parameter",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a template parameter (repeatable)",
    )
    parser.add_argument(
        "--verbose", "-v", action="store_true", help="show the handlers' JSON logs and metrics"
    )
    return parser


def _definitions(explicit: Path | None) -> Path | None:
    if explicit is not None:
        return explicit
    from_env = os.environ.get("LEADFLOW_DEFINITIONS")
    if from_env:
        return Path(from_env)
    return DEFAULT_DEFINITIONS if DEFAULT_DEFINITIONS.exists() else None


def _parameters(pairs: list[str]) -> dict[str, str]:
    result = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise StackError(f"--parameter {pair!r}: write NAME=VALUE")
        result[name] = value
    return result


def main(argv: list[str] | None = None) -> int:
    """Run until SIGINT or SIGTERM; 0 after a clean stop, 1 when the stack cannot start."""
    args = _parser().parse_args(argv)
    console = dev_console.configure(verbose=args.verbose)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    stack: DevStack | None = None
    try:
        definitions = None if args.no_definitions else _definitions(args.definitions)
        stack = DevStack(
            port=args.port,
            host=args.host,
            template=args.template,
            definitions=definitions,
            admin_token=args.admin_token,
            clock_speed=args.clock_speed,
            parameters=_parameters(args.parameter) or None,
        )
        print(
            f"Starting Leadflow locally from {args.template.name} (no Docker, no AWS account)...",
            file=console,
        )
        stack.start()
        _announce(stack, definitions, console)
        while not stop.wait(0.5):
            pass
        print("Stopping...", file=console, flush=True)
        return 0
    except StackError as error:
        print(f"\nleadflow dev: {error}", file=console, flush=True)
        return 1
    finally:
        if stack is not None:
            stack.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        dev_console.restore(console)


def _announce(stack: DevStack, definitions: Path | None, console: object) -> None:
    url = stack.url
    lines = [
        "",
        f"  Demo page      {url}/",
        f"  Public API     {url}/v1/forms/{{form_id}}/submissions, {url}/v1/openapi.json",
        f"  Admin API      {url}/v1/admin/...  (header: Authorization: Bearer <token>)",
        f"  Admin viewer   {url}/_local/admin/definitions  (this machine only)",
        f'  Clock          {url}/_local/clock  (POST {{"advance": "3d"}} to jump ahead)',
        f"  Outbox         {url}/_local/outbox  (every email sent; ?format=json)",
        f"  Queues         {url}/_local/queues",
        f"  Definitions    {definitions or 'none applied'}",
        "",
        *(f"  {line}" for line in stack.summary),
        *(f"  note: {warning}" for warning in stack.warnings),
        "",
        f"Admin token: {stack.admin_token}",
        f"Started in {stack.ready_seconds:.1f} s. Ctrl-C stops.",
        f"Ready on {url}",
    ]
    print("\n".join(lines), file=console, flush=True)  # type: ignore[call-overload]
