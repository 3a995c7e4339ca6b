"""Local stack: from a form post to the score being visible in the admin API.

Run: ``.venv/bin/python -m bench.local_latency [--submissions 40] [--window 0 --window 1]``.
One stack runs in this process with the demo bundle; each submission is a native form post
over loopback from a client thread, then the admin API is polled (every 10 ms) until the
contact's score shows the form rule's points. What is measured is the whole asynchronous path
as in ``make dev``: capture, the SQS queue, the poller (with the activity queue's batching
window: the template's default, or each ``--window`` given as ``ActivityBatchingWindowSeconds``),
the processor and the admin read. The form post's own reply time is shown beside it.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import time
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[1]


def _request(connection: http.client.HTTPConnection, method: str, path: str, **kwargs) -> tuple[int, bytes]:
    connection.request(method, path, **kwargs)
    response = connection.getresponse()
    return response.status, response.read()


def measure(submissions: int, window: float | None = None) -> tuple[list[float], list[float]]:
    """Milliseconds from each post to its score being visible, and to the post's own reply."""
    import contextlib
    import io

    from leadflow_local.stack import DevStack

    latencies: list[float] = []
    replies: list[float] = []
    parameters = None if window is None else {"ActivityBatchingWindowSeconds": f"{window:g}"}
    with (
        contextlib.redirect_stdout(io.StringIO()),  # the handlers' JSON logs, as the dev console hides them
        DevStack(
            port=0, definitions=ROOT / "examples" / "demo.yaml", admin_token="bench", parameters=parameters
        ) as stack,
    ):
        address = urlsplit(stack.url)
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
        admin = {"Authorization": "Bearer bench"}
        for number in range(submissions):
            email = f"latency{number}@example.com"
            body = urlencode({"email": email, "consent": "on", "first_name": "Lat"})
            start = time.perf_counter()
            status, _ = _request(
                connection,
                "POST",
                "/v1/forms/webinar-signup/submissions",
                body=body,
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Origin": "http://127.0.0.1:3000",
                },
            )
            assert status == 303, status
            replies.append((time.perf_counter() - start) * 1000)
            while True:
                status, payload = _request(
                    connection, "GET", f"/v1/admin/contacts?email={quote(email)}", headers=admin
                )
                if status == 200 and json.loads(payload)["score"] > 0:
                    break
                if time.perf_counter() - start > 30:
                    raise TimeoutError(f"score of {email} not visible after 30 s")
                time.sleep(0.01)
            latencies.append((time.perf_counter() - start) * 1000)
    return latencies, replies


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(len(ordered) * 0.99) - 1)]


def main(argv: list[str] | None = None) -> None:
    from bench.batching import template_settings

    parser = argparse.ArgumentParser(
        prog="python -m bench.local_latency", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--submissions", type=int, default=40)
    parser.add_argument(
        "--window", type=float, action="append", help="ActivityBatchingWindowSeconds (repeatable)"
    )
    args = parser.parse_args(argv)
    default = template_settings()["default_window"]
    print(
        f"Form post -> score visible in the admin API, local stack, {args.submissions} submissions one at a time"
    )
    print(
        f"{'window s':>12} {'p50 ms':>7} {'p99 ms':>7} {'min ms':>7} {'max ms':>7} {'post reply p50 ms':>18}"
    )
    for window in args.window or [default]:
        latencies, replies = measure(args.submissions, window)
        label = f"{window:g}" + (" (default)" if window == default else "")
        print(
            f"{label:>12} {statistics.median(latencies):>7.0f} {_p99(latencies):>7.0f} {min(latencies):>7.0f}"
            f" {max(latencies):>7.0f} {statistics.median(replies):>18.0f}"
        )


if __name__ == "__main__":
    main()
