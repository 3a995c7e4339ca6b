"""The email-link signing keys, read from Secrets Manager through Powertools Parameters.

Each container fetches the secret at most every five minutes (``max_age``): a rotated key
reaches every Lambda within that time, and a pixel storm costs no Secrets Manager calls.
The secret holds one key, or a JSON list of keys whose first one signs (see domain/tokens.py).

The provider reads through the core's cached Secrets Manager client (``aws.client``), not one of
its own: when the clients are reset (a new moto in tests, the local stack installing its
environment), the next read uses the new client instead of one bound to an old endpoint.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

from leadflow import aws
from leadflow.domain.tokens import SigningKeyError, keys_from_secret
from leadflow.settings import get_settings

MAX_AGE_SECONDS = 300
_providers: dict[int, Any] = {}


def _provider() -> parameters.SecretsProvider:
    """One provider (and its five-minute cache) per core client: a reset client gets a new one."""
    client = aws.client("secretsmanager")
    provider = _providers.get(id(client))
    if provider is None or provider.client is not client:
        _providers.clear()
        provider = _providers[id(client)] = parameters.SecretsProvider(boto3_client=client)
    return provider


class SigningKeyUnavailableError(RuntimeError):
    """Secrets Manager could not be read (throttled, down, or no permission): a retry may work."""


def signing_keys() -> list[bytes]:
    """Every key that verifies, the signing key first; raises SigningKeyError when none is configured."""
    arn = get_settings().tracking_secret_arn
    if not arn:
        raise SigningKeyError("TRACKING_SECRET_ARN is not set")
    try:
        value = _provider().get(arn, max_age=MAX_AGE_SECONDS)
    except GetParameterError as error:
        raise SigningKeyUnavailableError(f"the signing secret could not be read: {error}") from error
    if not isinstance(value, str):
        raise SigningKeyError("the signing secret must be a string, not binary")
    return keys_from_secret(value)


def signing_key() -> bytes:
    """The key new links are signed with."""
    return signing_keys()[0]


def forget_cached() -> None:
    """Drop cached secrets (tests, and the local stack after it rotates the key)."""
    parameters.clear_caches()
    _providers.clear()
