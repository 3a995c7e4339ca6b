"""``leadflow dev`` as a newcomer runs it: a subprocess that prints Ready, and stops on a signal.

These start real processes (a few seconds each): they prove the command behind ``make dev``,
not just the library.
"""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from leadflow_local.stack import DEFAULT_DEFINITIONS
from tests.e2e.conftest import FIXTURE_TEMPLATE, HERE

pytestmark = pytest.mark.e2e

START_TIMEOUT = 60


class Dev:
    """A running ``python -m leadflow_local`` and the lines it printed so far."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        environment = {**os.environ, **(env or {})}
        environment.pop("PORT", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "leadflow_local", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=environment,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, prefix: str) -> str | None:
        """The first line starting with ``prefix``, or None if the process ended first."""
        while True:
            try:
                line = self._queue.get(timeout=START_TIMEOUT)
            except queue.Empty:
                pytest.fail(f"no {prefix!r} within {START_TIMEOUT} s:\n" + "\n".join(self.lines))
            if line is None:
                return None
            self.lines.append(line)
            if line.startswith(prefix):
                return line

    def finish(self) -> int:
        code = self.process.wait(timeout=30)
        while (line := self._queue.get(timeout=5)) is not None:
            self.lines.append(line)
        return code

    @property
    def output(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def dev_processes() -> Iterator[list[Dev]]:
    started: list[Dev] = []
    yield started
    for dev in started:
        if dev.process.poll() is None:
            dev.process.kill()
            dev.process.wait(timeout=10)


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_prints_token_and_ready_then_stops_cleanly_on_a_signal(
    dev_processes: list[Dev], stop_signal: signal.Signals
) -> None:
    dev = Dev(
        "--template", str(FIXTURE_TEMPLATE), "--no-definitions", env={"LEADFLOW_ADMIN_TOKEN": "cli-token"}
    )
    dev_processes.append(dev)
    ready = dev.wait_for("Ready on ")
    assert ready is not None, dev.output
    url = ready.removeprefix("Ready on ").strip()
    assert "Admin token: cli-token" in dev.lines
    assert requests.get(f"{url}/things/special", timeout=10).status_code == 200
    dev.process.send_signal(stop_signal)
    assert dev.finish() == 0, dev.output
    assert "Traceback" not in dev.output


def test_a_taken_port_is_a_clear_message_not_a_traceback(dev_processes: list[Dev]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        dev = Dev("--template", str(FIXTURE_TEMPLATE), "--no-definitions", "--port", str(port))
        dev_processes.append(dev)
        assert dev.finish() == 1
    assert f"Port {port} on 127.0.0.1 is already in use" in dev.output
    assert "Traceback" not in dev.output


def test_invalid_definitions_stop_the_start_listing_each_problem(dev_processes: list[Dev]) -> None:
    dev = Dev("--definitions", str(HERE / "bad_bundle.yaml"))
    dev_processes.append(dev)
    assert dev.finish() == 1
    assert "were refused" in dev.output
    assert "forms[0].fields[0].type" in dev.output
    assert "Ready on" not in dev.output
    assert "Traceback" not in dev.output


def test_a_bundle_that_is_not_yaml_stops_the_start_with_the_syntax_error(
    dev_processes: list[Dev], tmp_path: Path
) -> None:
    # Given definitions that do not parse, allowing port 3000 (so the stack would adjust their origins)
    broken = tmp_path / "broken.yaml"
    broken.write_text('forms:\n  - id: x\n    allowed_origins: ["http://127.0.0.1:3000"\n')
    dev = Dev("--definitions", str(broken))
    dev_processes.append(dev)
    # Then the start stops with the admin API's own message, not a traceback
    assert dev.finish() == 1
    assert "were refused" in dev.output
    assert "YAML syntax error" in dev.output
    assert "Traceback" not in dev.output


def test_the_default_start_applies_the_demo_bundle_and_serves_its_forms(dev_processes: list[Dev]) -> None:
    # Given `leadflow dev` on a port other than 3000 (a free one), with the default definitions
    assert Path(DEFAULT_DEFINITIONS).is_file(), "make dev applies examples/demo.yaml"
    dev = Dev()
    dev_processes.append(dev)
    ready = dev.wait_for("Ready on ")
    assert ready is not None, dev.output
    url = ready.removeprefix("Ready on ").strip()
    assert not url.endswith(":3000")
    # When the demo page's webinar form is posted natively from the page's own origin
    page = requests.get(url + "/", timeout=10)
    action = "/v1/forms/webinar-signup/submissions"
    assert f'<form method="post" action="{action}">' in page.text
    posted = requests.post(
        url + action,
        data={"email": "port@example.com", "consent": "true", "website": ""},
        headers={"Origin": url},
        allow_redirects=False,
        timeout=10,
    )
    # Then capture accepts it: the demo bundle's origins followed the served port
    assert posted.status_code == 303, posted.text
    assert f"Origins http://127.0.0.1:{url.rpartition(':')[2]}" in dev.output
    dev.process.send_signal(signal.SIGTERM)
    assert dev.finish() == 0, dev.output
