"""A deployment ready to send flow email on moto: a verified sender domain, the configuration set,
the signing key, the public URL; and what moto's SES accepted."""

from __future__ import annotations

import os
from typing import Any

import boto3
import pytest

SENDER = "Acme News <news@example.com>"
BASE_URL = "https://api.example.com"


def ready_to_send(monkeypatch: pytest.MonkeyPatch) -> None:
    from leadflow.adapters import secrets
    from leadflow.settings import reset_settings

    ses = boto3.client("sesv2")
    ses.create_email_identity(EmailIdentity="example.com")
    configuration_set = os.environ.get("SES_CONFIGURATION_SET") or "leadflow-email"
    if configuration_set not in ses.list_configuration_sets()["ConfigurationSets"]:
        ses.create_configuration_set(ConfigurationSetName=configuration_set)
    secrets_manager = boto3.client("secretsmanager")
    arn = os.environ.get("TRACKING_SECRET_ARN")  # the stack's TrackingSecret: the role may read that one
    if arn:
        secrets_manager.put_secret_value(SecretId=arn, SecretString="k" * 32)
    else:
        arn = secrets_manager.create_secret(Name="leadflow-mail-key", SecretString="k" * 32)["ARN"]
    monkeypatch.setenv("SES_CONFIGURATION_SET", configuration_set)
    monkeypatch.setenv("TRACKING_SECRET_ARN", arn)
    monkeypatch.setenv("EMAIL_SENDER", SENDER)
    monkeypatch.setenv("PUBLIC_BASE_URL", BASE_URL)
    reset_settings()
    secrets.forget_cached()


def sent_messages() -> list[Any]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return list(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)
