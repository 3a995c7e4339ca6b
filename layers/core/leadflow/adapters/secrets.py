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


# ---------------------------------------------------------------- connector credentials

CONNECTOR_MAX_AGE_SECONDS = 60
"""New credentials reach a warm sync function within a minute; a message burst costs one read."""


class ConnectorSecretUnavailableError(RuntimeError):
    """Secrets Manager could not be read or written (throttled, down): a retry may work."""


def connector_secret_name(connector_id: str) -> str:
    """One secret per stack and connector, under the prefix the template grants (``<stack>/connectors/``)."""
    prefix = get_settings().connector_secret_prefix
    if not prefix:
        raise SigningKeyError("CONNECTOR_SECRET_PREFIX is not set")
    return f"{prefix}{connector_id}"


def connector_credentials(connector_id: str) -> dict[str, str] | None:
    """The connector's credentials (a JSON object of strings), or None when they were never set."""
    import json

    from botocore.exceptions import ClientError

    name = connector_secret_name(connector_id)
    try:
        value = _provider().get(name, max_age=CONNECTOR_MAX_AGE_SECONDS)
    except GetParameterError as error:
        cause = error.__cause__ or error.__context__  # Powertools re-raises without ``from``
        if (
            isinstance(cause, ClientError)
            and cause.response.get("Error", {}).get("Code") == "ResourceNotFoundException"
        ):
            return None
        raise ConnectorSecretUnavailableError(
            f"the credentials of {connector_id} could not be read"
        ) from None
    try:
        values = json.loads(value) if isinstance(value, str) else None
    except ValueError:
        values = None
    if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
        return None  # not written by Leadflow: as good as unset (the connector reports not configured)
    return values


def put_connector_credentials(connector_id: str, values: dict[str, str]) -> None:
    """Stores (or replaces) the connector's credentials; the value is never returned by any route."""
    import json

    from botocore.exceptions import ClientError

    client = aws.client("secretsmanager")
    name = connector_secret_name(connector_id)
    text = json.dumps(values, sort_keys=True)
    try:
        try:
            client.put_secret_value(SecretId=name, SecretString=text)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
            client.create_secret(
                Name=name, SecretString=text, Description=f"Leadflow connector {connector_id} credentials"
            )
    except ClientError as error:
        raise ConnectorSecretUnavailableError(
            f"the credentials of {connector_id} could not be stored"
        ) from error
    parameters.clear_caches()  # this container reads the new value at once (others within a minute)


def connector_configured(connector_id: str) -> bool:
    """Whether credentials were set, without reading them (DescribeSecret)."""
    from botocore.exceptions import ClientError

    try:
        aws.client("secretsmanager").describe_secret(SecretId=connector_secret_name(connector_id))
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return False
        raise ConnectorSecretUnavailableError(
            f"the credentials of {connector_id} could not be checked"
        ) from error
    return True
