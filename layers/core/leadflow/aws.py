"""AWS clients, made lazily and cached per process.

Nothing here runs at import time, so tests and the local stack can set the environment
(``AWS_ENDPOINT_URL`` for moto server) before the first client exists. botocore itself
honours ``AWS_ENDPOINT_URL``, so no code here knows whether AWS is real.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from botocore.config import Config

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)
#: For calls that must not be repeated blindly (sending an email): one attempt, the caller decides.
_SINGLE_ATTEMPT = Config(
    retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=2, read_timeout=10
)


@cache
def client(service: str) -> Any:
    import boto3

    session: Any = boto3.session.Session()  # any service name: the stubs only type literals
    return session.client(service, config=_CONFIG)


@cache
def single_attempt_client(service: str) -> Any:
    """A client whose calls botocore never retries: a timed-out send may have been sent already."""
    import boto3

    session: Any = boto3.session.Session()
    return session.client(service, config=_SINGLE_ATTEMPT)


def reset_clients() -> None:
    """Drop cached clients (tests start a fresh moto for each case)."""
    client.cache_clear()
    single_attempt_client.cache_clear()
