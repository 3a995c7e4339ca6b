"""Draws the README's report pictures from the local stack's demo data.

Run: ``.venv/bin/python examples/report_pictures.py [OUT_DIR]`` (default ``docs/img``). It starts
the local stack with examples/demo.yaml (as ``make dev`` does), posts a day of demo traffic
(webinar registrations, contact requests, trials that qualify), drains the queues, and runs ``leadflow report funnel`` and ``leadflow report campaigns``.
"""

from __future__ import annotations

import subprocess
import sys
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


def _track(stack: DevStack, email: str, *events: dict[str, object]) -> None:
    batch = [{"email": email, **event} for event in events]
    response = requests.post(
        f"{stack.url}/v1/events",
        json={"write_key": "wk_demo_local", "events": batch},
        headers={"Origin": ORIGIN},
        timeout=10,
    )
    response.raise_for_status()


def demo_traffic(stack: DevStack) -> None:
    """A busy day: webinar registrations, contact requests, downloads, and trials that qualify."""
    for n in range(36):
        email = f"webinar{n}@example.com"
        _post(stack, "webinar-signup", email, first_name="Web", role="Engineer")
        if n % 4 == 0:
            _track(
                stack,
                email,
                {"type": "page_view", "url": "https://www.example.com/pricing"},
                {
                    "type": "download",
                    "properties": {"asset_id": "wp-1", "asset_type": "whitepaper", "topic": "Costs"},
                },
            )
    for n in range(14):
        email = f"contact{n}@example.com"
        _post(stack, "contact-us", email, first_name="Con", company="Acme")
        if n % 3 == 0:
            _track(stack, email, {"type": "trial_signup"})
    stack.drain()


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else Path("docs/img")
    out.mkdir(parents=True, exist_ok=True)
    with DevStack(port=0, definitions=DEFAULT_DEFINITIONS, admin_token=TOKEN) as stack:
        demo_traffic(stack)
        today = stack.now().date().isoformat()
        auth = ["--url", stack.url, "--token", TOKEN]
        cli = [sys.executable, "-m", "leadflow_cli.main", "report"]
        for command in (
            ["funnel", "--from", today, "--to", today, "--out", str(out / "funnel.png")],
            ["campaigns", "--out", str(out / "campaigns.png")],
        ):
            subprocess.run([*cli, *command, *auth], check=True)  # noqa: S603  (our own CLI)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
