"""Draws the README's report pictures from the local stack's demo data.

Run: ``.venv/bin/python examples/report_pictures.py [OUT_DIR]`` (default ``docs/img``). It starts
the local stack with examples/demo.yaml (as ``make dev`` does), posts a few weeks of demo traffic
(webinar registrations, contact requests, trials that qualify), lets the clock run so the days
differ, drains the queues, and runs ``leadflow report funnel`` and ``leadflow report campaigns``.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import requests

from leadflow_local.stack import DEFAULT_DEFINITIONS, DevStack

ORIGIN = "http://127.0.0.1:3000"
TOKEN = "pictures"  # noqa: S105  (the throwaway stack's admin token, not a secret)


def _post(stack: DevStack, form: str, email: str, **fields: object) -> None:
    response = requests.post(
        f"{stack.url}/v1/forms/{form}/submissions",
        json={"fields": {"email": email, "consent": True, **fields}},
        headers={"Origin": ORIGIN},
        timeout=10,
    )
    response.raise_for_status()


def _track(stack: DevStack, email: str, *types: str) -> None:
    events = [{"type": kind, "email": email} for kind in types]
    response = requests.post(
        f"{stack.url}/v1/events",
        json={"write_key": "wk_demo_local", "events": events},
        headers={"Origin": ORIGIN},
        timeout=10,
    )
    response.raise_for_status()


def demo_traffic(stack: DevStack, days: int = 14) -> str:
    """A fortnight of traffic; returns the first day (YYYY-MM-DD)."""
    first = stack.now().date().isoformat()
    for day in range(days):
        for n in range(3 + day % 4):
            email = f"webinar{day}-{n}@example.com"
            _post(stack, "webinar-signup", email, first_name="Web", role="Engineer")
            if n == 0:
                _track(stack, email, "download", "page_view")
        for n in range(1 + day % 3):
            email = f"contact{day}-{n}@example.com"
            _post(stack, "contact-us", email, first_name="Con", company="Acme")
            if (day + n) % 3 == 0:
                _track(stack, email, "trial_signup")
        stack.drain()
        stack.advance(timedelta(days=1))
    stack.drain()
    return first


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else Path("docs/img")
    out.mkdir(parents=True, exist_ok=True)
    with DevStack(port=0, definitions=DEFAULT_DEFINITIONS, admin_token=TOKEN) as stack:
        first = demo_traffic(stack)
        last = stack.now().date().isoformat()
        auth = ["--url", stack.url, "--token", TOKEN]
        cli = [sys.executable, "-m", "leadflow_cli.main", "report"]
        for command in (
            ["funnel", "--from", first, "--to", last, "--out", str(out / "funnel.png")],
            ["campaigns", "--out", str(out / "campaigns.png")],
        ):
            subprocess.run([*cli, *command, *auth], check=True)  # noqa: S603  (our own CLI)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
