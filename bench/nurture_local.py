"""Nurture on the local stack: how fast a flow answers its reader, and a flow with waits on a fast clock.

Run: ``.venv/bin/python -m bench.nurture_local [--opens 20] [--speed 720]``.

1. **From an email open to the step after a ``wait_for``.** One stack (template.yaml, the
   template's defaults); per run a new contact signs up (form post), the flow sends ``invite`` and
   waits for its open; the bench then fetches the email's open pixel over HTTP (the URL from the
   email's HTML as the outbox shows it) and times until SES has accepted the ``follow-up`` email that
   the woken ``wait_for`` leads to (the stack's SES is polled every 5 ms). That is the whole path:
   the pixel route, the activity queue, the process function (the open, then the wake-up), the step
   queue, the nurture worker, the composer and SES.
2. **A three-step flow with waits, on the fast clock** (``--speed``: the stack's clock runs that
   many times faster, as ``leadflow dev --clock-speed``): ``email, wait 1h, email, wait 1h, email``
   from the form post to the third email, in real seconds and on the stack's clock, against the
   2 h of waiting the flow asks for. The waits end by the minute run (Scheduler ``rate(1 minute)``
   on the stack's clock), so each email may come up to a stack minute after its due time.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

SENDER = "Bench <news@bench.example.com>"
SIGNUP = {
    "id": "signup",
    "fields": [
        {"name": "email", "type": "email", "required": True},
        {"name": "consent", "type": "consent", "required": True, "text": "Email me"},
    ],
    "allowed_origins": ["*"],
}
OPEN_FLOW = {
    "id": "opens",
    "trigger": {"form_submitted": "signup"},
    "steps": [
        {"id": "invite", "send_email": {"template": "invite"}},
        {
            "id": "opened",
            "wait_for": {"activity": "email_open", "of_step": "invite", "within": "3d"},
            "then": "follow-up",
            "else": "end",
        },
        {"id": "follow-up", "send_email": {"template": "follow-up"}},
    ],
}
WAIT_FLOW = {
    "id": "waits",
    "trigger": {"form_submitted": "signup"},
    "steps": [
        {"id": "first", "send_email": {"template": "invite"}},
        {"id": "hour-1", "wait": "1h"},
        {"id": "second", "send_email": {"template": "follow-up"}},
        {"id": "hour-2", "wait": "1h"},
        {"id": "third", "send_email": {"template": "invite"}},
    ],
}
TEMPLATES = [
    {
        "id": "invite",
        "subject": "Join us",
        "html": '<p><a href="https://www.example.com/">Join</a></p>',
        "from": SENDER,
    },
    {"id": "follow-up", "subject": "See you", "html": "<p>Soon.</p>", "from": SENDER},
]


def _bundle(flow: dict[str, Any]) -> Path:
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
        yaml.safe_dump({"forms": [SIGNUP], "flows": [flow], "email_templates": TEMPLATES}, handle)
    return Path(handle.name)


def _stack(flow: dict[str, Any], **options: Any) -> Any:
    from leadflow_local.stack import DevStack

    stack = DevStack(port=0, definitions=_bundle(flow), admin_token="bench", **options)
    stack.start()
    stack.client("sesv2").create_email_identity(EmailIdentity="bench.example.com")
    return stack


def _submit(http: Any, stack: Any, email: str) -> None:
    reply = http.post(
        f"{stack.url}/v1/forms/signup/submissions",
        json={"fields": {"email": email, "consent": True}},
        timeout=30,
    )
    assert reply.status_code == 202, reply.text


def _wait_for_mail(stack: Any, count: int, timeout: float = 30.0) -> None:
    deadline = time.perf_counter() + timeout
    while len(stack.mail()) < count:
        if time.perf_counter() > deadline:
            raise TimeoutError(f"mail {count} not sent within {timeout:.0f} s")
        time.sleep(0.005)


def open_latency(opens: int) -> list[float]:
    """Milliseconds from each pixel fetch to the follow-up email accepted by the stack's SES."""
    import requests

    latencies: list[float] = []
    stack = _stack(OPEN_FLOW)
    try:
        with requests.Session() as http:
            for number in range(opens):
                email = f"open{number}@example.com"
                _submit(http, stack, email)
                stack.drain()
                [invite] = http.get(
                    f"{stack.url}/_local/outbox", params={"format": "json", "to": email}, timeout=30
                ).json()
                assert invite["step_id"] == "invite"
                sent = len(stack.mail())
                start = time.perf_counter()
                assert http.get(invite["open_pixel"], timeout=30).status_code == 200
                _wait_for_mail(stack, sent + 1)
                latencies.append((time.perf_counter() - start) * 1000)
                assert "X-Leadflow-Step-Id: follow-up" in (stack.mail()[-1].raw or "")
    finally:
        stack.stop()
    return latencies


def waits_on_fast_clock(speed: float) -> dict[str, float]:
    """Real seconds and stack-clock minutes from the form post to the third email."""
    import requests

    stack = _stack(WAIT_FLOW, clock_speed=speed)
    try:
        with requests.Session() as http:
            posted_at = stack.now()
            start = time.perf_counter()
            _submit(http, stack, "waits@example.com")
            _wait_for_mail(stack, 3, timeout=60 + 3 * 7200 / speed)
            real = time.perf_counter() - start
            third = stack.mail()[-1].sent_at
            assert third is not None
            on_clock = (third - posted_at).total_seconds()
    finally:
        stack.stop()
    return {"real_s": real, "clock_min": on_clock / 60, "ideal_s": 7200 / speed}


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--opens", type=int, default=20)
    parser.add_argument("--speed", type=float, default=720.0)
    args = parser.parse_args(argv)
    with contextlib.redirect_stdout(io.StringIO()):  # the handlers' JSON logs, as the dev console hides them
        latencies = open_latency(args.opens)
        waits = waits_on_fast_clock(args.speed)
    print(f"From an email open (pixel GET) to the next email after the wait_for, {len(latencies)} runs")
    print("| p50 | p90 | min | max |")
    print("| ---: | ---: | ---: | ---: |")
    print(
        f"| {statistics.median(latencies):.0f} ms | {_percentile(latencies, 0.9):.0f} ms "
        f"| {min(latencies):.0f} ms | {max(latencies):.0f} ms |"
    )
    print(f"\nemail, wait 1h, email, wait 1h, email at clock speed {args.speed:g}")
    print(
        f"form post to third email: {waits['real_s']:.1f} s real ({waits['ideal_s']:.1f} s is the 2 h of waits), "
        f"{waits['clock_min']:.1f} min on the stack's clock (120 asked)"
    )


if __name__ == "__main__":
    import os

    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    main()
