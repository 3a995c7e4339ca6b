"""Shared fixtures: an in-process moto AWS built from template.yaml, settings and clock reset.

The resources and the functions' environment come from the local stack's own code
(tests/support/moto_stack.py), so these tiers and ``make dev`` run the same template the same way.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings

# Properties assert behaviour, never speed: on a loaded two-core CI machine a per-example deadline
# only produces flaky failures (speed is measured in bench/). Every property test runs without one.
settings.register_profile("leadflow", deadline=None)
settings.load_profile("leadflow")

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "LeadflowTest")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "leadflow")
os.environ.setdefault("POWERTOOLS_DEV", "false")


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """A fresh moto account with every table, queue and bus of template.yaml, wired into settings."""
    from moto import mock_aws

    from leadflow import aws as aws_clients
    from leadflow.services import definitions
    from leadflow.settings import reset_settings
    from tests.support import iam
    from tests.support.moto_stack import create_stack
    from tests.support.serial_moto import atomic_in_process_dynamodb

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    recorder = iam.Recorder()
    with mock_aws(), iam.recording(recorder), atomic_in_process_dynamodb():
        stack = create_stack()
        for name, value in stack.environment().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("DEFINITIONS_CACHE_SECONDS", "0")
        reset_settings()
        aws_clients.reset_clients()
        definitions.forget_cached()
        yield stack
        denied = iam.denials(stack, recorder.calls)
        reset_settings()
        aws_clients.reset_clients()
        definitions.forget_cached()
    if denied:
        pytest.fail("AWS would refuse these calls (AccessDenied): the role lacks\n" + "\n".join(denied))


@pytest.fixture
def aws_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """moto's threaded HTTP server with the template's resources: real requests, real retries.

    For concurrency tests: moto's in-process mock is not thread-safe for transactions, the
    server (like AWS) answers a clash with a retryable error instead.
    """
    import socket
    import urllib.request

    from leadflow import aws as aws_clients
    from leadflow.services import definitions
    from leadflow.settings import reset_settings
    from tests.support.moto_stack import create_stack
    from tests.support.serial_moto import AtomicMotoServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = AtomicMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    try:
        stack = create_stack(endpoint)
        for name, value in stack.environment().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("DEFINITIONS_CACHE_SECONDS", "300")
        reset_settings()
        aws_clients.reset_clients()
        definitions.forget_cached()
        yield stack
    finally:
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"))
        server.stop()
        reset_settings()
        aws_clients.reset_clients()
        definitions.forget_cached()
