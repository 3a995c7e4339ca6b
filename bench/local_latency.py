"""Local stack: from a form post to the score being visible in the admin API.

Run: ``.venv/bin/python -m bench.local_latency [--submissions 40]``. One stack runs in this
process with the demo bundle; each submission is a native form post over loopback from a
client thread, then the admin API is polled (every 10 ms) until the contact's score shows
the form rule's points. What is measured is the whole asynchronous path as in ``make dev``:
capture, the SQS queue, the poller (the template's 1-second batching window), the processor
and the admin read.
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


def measure(submissions: int) -> list[float]:
    from leadflow_local.stack import DevStack

    latencies: list[float] = []
    with DevStack(port=0, definitions=ROOT / "examples" / "demo.yaml", admin_token="bench") as stack:
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
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--submissions", type=int, default=40)
    args = parser.parse_args()
    latencies = sorted(measure(args.submissions))
    p99 = latencies[min(len(latencies) - 1, round(len(latencies) * 0.99) - 1)]
    print(
        f"Form post -> score visible in the admin API, local stack, {len(latencies)} submissions one at a time"
    )
    print(
        f"  p50 {statistics.median(latencies):.0f} ms   p99 {p99:.0f} ms   min {latencies[0]:.0f} ms   max {latencies[-1]:.0f} ms"
    )


if __name__ == "__main__":
    main()
