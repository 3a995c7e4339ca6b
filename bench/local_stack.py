"""Local stack speed: time to ``Ready``, and form submissions per second through it.

Run: ``.venv/bin/python -m bench.local_stack`` (``--requests``, ``--concurrency``, ``--runs``).

1. Start: ``python -m leadflow_local`` is spawned ``--runs`` times; the time from spawn to its
   ``Ready on`` line is measured (interpreter start, moto, resources, handler imports and the
   definitions apply included), beside the stack's own start time it prints.
2. Over HTTP: one stack runs in a subprocess; this process posts native form submissions
   (``application/x-www-form-urlencoded``, each a new contact, answered 303) over loopback
   with keep-alive connections from ``--concurrency`` threads. A bounded load: a fixed number
   of requests, throughput is requests / wall time; latencies are per request. First with the
   activity queue's consumer running, as in ``make dev`` (the stack runs one invocation at a
   time, so each submission also pays for its processing); then with it paused
   (``POST /_local/pause``), the capture path alone.
3. In-process: the same handler on the same kind of stack, consumer paused, called directly
   with the event the front would build (no socket, no HTTP parsing), and through the front
   without a socket.

Numbers are from one machine: rerun to compare.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[1]
FORM = "bench-signup"
PATH = f"/v1/forms/{FORM}/submissions"
BUNDLE = f"""
campaigns:
  - {{id: bench-campaign, kind: ma, name: Bench campaign}}
forms:
  - id: {FORM}
    campaign: bench-campaign
    fields:
      - {{name: email, type: email, required: true}}
      - {{name: first_name, type: text, max_length: 50}}
      - {{name: consent, type: consent, required: true, text: "Email me"}}
    honeypot: website
    allowed_origins: ["*"]
    redirect_url: https://www.example.com/thanks
scoring:
  rules:
    - {{id: form, when: {{activity: form_submit}}, points: 5}}
"""
FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}
CHUNK = 250  # submissions per paused stretch: the activity queue's backlog stays below this


def form_body(prefix: str, index: int) -> bytes:
    return urlencode(
        {"email": f"{prefix}-{index}@example.com", "first_name": "Bench", "consent": "on"}
    ).encode()


@dataclass
class Sample:
    """Per-request latencies and the wall time they took (summed over chunks)."""

    latencies_ms: list[float] = field(default_factory=list)
    wall_seconds: float = 0.0

    def add(self, other: Sample) -> None:
        self.latencies_ms += other.latencies_ms
        self.wall_seconds += other.wall_seconds

    def summary(self, **extra: float) -> dict[str, float]:
        return {**summarise(self.latencies_ms, self.wall_seconds), **extra}


def summarise(latencies_ms: list[float], wall_seconds: float) -> dict[str, float]:
    cuts = statistics.quantiles(latencies_ms, n=100, method="inclusive")
    return {
        "requests": len(latencies_ms),
        "per_second": len(latencies_ms) / wall_seconds,
        "p50_ms": cuts[49],
        "p90_ms": cuts[89],
        "p99_ms": cuts[98],
        "max_ms": max(latencies_ms),
    }


# ------------------------------------------------------------------ subprocess
class DevProcess:
    """``python -m leadflow_local`` with its output read on a thread."""

    def __init__(self, bundle: Path) -> None:
        environment = {key: value for key, value in os.environ.items() if key != "PORT"}
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "leadflow_local", "--port", "0", "--definitions", str(bundle)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=environment,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        self.output: list[str] = []

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def wait_ready(self, timeout: float = 120) -> tuple[str, float, float]:
        """The URL, seconds from spawn to the Ready line, and the stack's own start time."""
        own = float("nan")
        while True:
            line = self._lines.get(timeout=timeout)
            if line is None:
                raise RuntimeError("leadflow dev exited before Ready:\n" + "\n".join(self.output))
            self.output.append(line)
            if line.startswith("Started in "):
                own = float(line.split()[2])
            if line.startswith("Ready on "):
                return line.removeprefix("Ready on ").strip(), time.perf_counter() - self.started, own

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def dev_process(bundle: Path) -> Iterator[tuple[str, float, float]]:
    dev = DevProcess(bundle)
    try:
        yield dev.wait_ready()
    finally:
        dev.stop()


def time_to_ready(bundle: Path, runs: int) -> dict[str, float]:
    spawn_to_ready, own = [], []
    for _ in range(runs):
        with dev_process(bundle) as (_, seconds, stack_seconds):
            spawn_to_ready.append(seconds)
            own.append(stack_seconds)
    return {
        "runs": runs,
        "spawn_to_ready_median_s": statistics.median(spawn_to_ready),
        "spawn_to_ready_min_s": min(spawn_to_ready),
        "stack_start_median_s": statistics.median(own),
    }


# ------------------------------------------------------------------- over HTTP
def http_load(url: str, requests_total: int, concurrency: int, prefix: str) -> Sample:
    """Native form posts over keep-alive loopback connections; every reply must be 303."""
    parts = urlsplit(url)
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    counter = iter(range(requests_total))

    def worker() -> None:
        connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
        mine: list[float] = []
        try:
            while True:
                with lock:
                    index = next(counter, None)
                if index is None:
                    break
                body = form_body(prefix, index)
                started = time.perf_counter()
                connection.request("POST", PATH, body=body, headers=FORM_HEADERS)
                response = connection.getresponse()
                payload = response.read()
                mine.append((time.perf_counter() - started) * 1000)
                if response.status != 303:
                    failures.append(f"{response.status} {payload[:300]!r}")
        finally:
            connection.close()
            with lock:
                latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{len(failures)} submissions were not answered 303: {sorted(set(failures))}")
    return Sample(latencies, wall)


def paused_http_load(url: str, requests_total: int, concurrency: int, prefix: str) -> dict[str, float]:
    """``http_load`` with the consumer paused, in chunks with the queue drained (untimed) between.

    moto's SQS computes every queue attribute, counting all queued messages, on each send, so a
    backlog of thousands would slow the sends measured here by several milliseconds.
    """
    sample = Sample()
    for start in range(0, requests_total, CHUNK):
        set_paused(url, True)
        sample.add(http_load(url, min(CHUNK, requests_total - start), concurrency, f"{prefix}{start}"))
        set_paused(url, False)
    return sample.summary(concurrency=concurrency)


# ------------------------------------------------------------------ in-process
def set_paused(url: str, paused: bool) -> None:
    """Hold or resume the stack's queue consumer through its local route."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=120)
    try:
        connection.request("POST", "/_local/pause", body=json.dumps({"paused": paused}))
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"POST /_local/pause answered {response.status}")
        if not paused:
            connection.request("POST", "/_local/drain")
            connection.getresponse().read()
    finally:
        connection.close()


def in_process(bundle: Path, requests_total: int) -> dict[str, dict[str, float]]:
    """The same handler on an in-process stack, consumer paused: called directly, and through the front."""
    from leadflow_local.stack import DevStack

    def measure(call: Callable[[int], Any]) -> dict[str, float]:
        latencies, wall = [], 0.0
        for start in range(0, requests_total, CHUNK):
            stack.pause()
            started = time.perf_counter()
            for index in range(start, min(start + CHUNK, requests_total)):
                begun = time.perf_counter()
                call(index)
                latencies.append((time.perf_counter() - begun) * 1000)
            wall += time.perf_counter() - started
            stack.resume()
            stack.drain()
        return summarise(latencies, wall)

    # The handlers' JSON logs and metrics go to a sink, as the dev console hides them.
    with (
        Path(os.devnull).open("w") as sink,
        redirect_stdout(sink),
        DevStack(port=0, definitions=bundle) as stack,
    ):
        for index in range(50):  # warm up: imports on first use, caches, connection pools
            stack.request("POST", PATH, body=form_body("warm", index), headers=FORM_HEADERS)
        stack.drain()

        def handler_only(index: int) -> None:
            function, event = stack.route_event(
                "POST", PATH, body=form_body("direct", index), headers=FORM_HEADERS
            )
            result = stack.invoke(function, event)
            assert result["statusCode"] == 303, result

        def through_front(index: int) -> None:
            response = stack.request("POST", PATH, body=form_body("front", index), headers=FORM_HEADERS)
            assert response.status == 303, response.body

        return {"handler": measure(handler_only), "front": measure(through_front)}


# ------------------------------------------------------------------------ main
def run(requests_total: int, concurrency: int, runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as directory:
        bundle = Path(directory) / "bench.yaml"
        bundle.write_text(BUNDLE)
        ready = time_to_ready(bundle, runs)
        with dev_process(bundle) as (url, _, _):
            http_load(url, 50, concurrency, "warm")  # warm up the subprocess
            over_http = http_load(url, requests_total, concurrency, "load").summary(concurrency=concurrency)
            single = http_load(url, min(requests_total, 500), 1, "single").summary(concurrency=1)
            capture_only = paused_http_load(url, requests_total, concurrency, "alone")
            capture_only_single = paused_http_load(url, min(requests_total, 500), 1, "alone-single")
        direct = in_process(bundle, min(requests_total, 1000))
    return {
        "ready": ready,
        "http": over_http,
        "http_single_client": single,
        "http_consumer_paused": capture_only,
        "http_consumer_paused_single_client": capture_only_single,
        "in_process": direct,
    }


def report(results: dict[str, Any]) -> str:
    ready, over_http, single = results["ready"], results["http"], results["http_single_client"]
    handler, front = results["in_process"]["handler"], results["in_process"]["front"]
    clients = f"{over_http['concurrency']:.0f}"

    def row(name: str, data: dict[str, float]) -> str:
        return (
            f"| {name} | {data['requests']:.0f} | {data['per_second']:.0f} | {data['p50_ms']:.1f} "
            f"| {data['p99_ms']:.1f} |"
        )

    return "\n".join(
        [
            f"Time to Ready (`python -m leadflow_local`, median of {ready['runs']}): "
            f"{ready['spawn_to_ready_median_s']:.2f} s from spawn (min {ready['spawn_to_ready_min_s']:.2f} s); "
            f"the stack's own start {ready['stack_start_median_s']:.2f} s.",
            "",
            "| native form posts (303) | requests | per second | p50 ms | p99 ms |",
            "| --- | ---: | ---: | ---: | ---: |",
            row(f"HTTP over loopback, {clients} clients, consumer running", over_http),
            row("HTTP over loopback, 1 client, consumer running", single),
            row(f"HTTP over loopback, {clients} clients, consumer paused", results["http_consumer_paused"]),
            row(
                "HTTP over loopback, 1 client, consumer paused", results["http_consumer_paused_single_client"]
            ),
            row("in-process through the front (no socket), consumer paused", front),
            row("in-process, handler called directly, consumer paused", handler),
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.local_stack", description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="submissions in the measured load")
    parser.add_argument("--concurrency", type=int, default=4, help="client threads (keep-alive connections)")
    parser.add_argument("--runs", type=int, default=5, help="start-ups timed")
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON too")
    args = parser.parse_args(argv)
    results = run(args.requests, args.concurrency, args.runs)
    print(report(results))
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
