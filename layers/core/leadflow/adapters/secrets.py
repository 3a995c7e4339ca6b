"""The email-link signing keys, read from Secrets Manager through Powertools Parameters.

Each container fetches the secret at most every five minutes (``max_age``): a rotated key
reaches every Lambda within that time, and a pixel storm costs no Secrets Manager calls.
The secret holds one key, or a JSON list of keys whose first one signs (see domain/tokens.py).
"""

from __future__ import annotations

from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

from leadflow.domain.tokens import SigningKeyError, keys_from_secret
from leadflow.settings import get_settings

MAX_AGE_SECONDS = 300


class SigningKeyUnavailableError(RuntimeError):
    """Secrets Manager could not be read (throttled, down, or no permission): a retry may work."""


def signing_keys() -> list[bytes]:
    """Every key that verifies, the signing key first; raises SigningKeyError when none is configured."""
    arn = get_settings().tracking_secret_arn
    if not arn:
        raise SigningKeyError("TRACKING_SECRET_ARN is not set")
    try:
        value = parameters.get_secret(arn, max_age=MAX_AGE_SECONDS)
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
