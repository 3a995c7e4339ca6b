"""Runtime settings from the environment, validated once when a handler starts.

The same variable names are set by template.yaml in AWS and by the local stack, so handler
code never knows where it runs. A missing variable fails fast with its name.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    contacts_table: str = Field(alias="CONTACTS_TABLE", description="DynamoDB Contacts table name")
    campaigns_table: str = Field(alias="CAMPAIGNS_TABLE", description="DynamoDB Campaigns table name")
    activity_queue_url: str = Field(alias="ACTIVITY_QUEUE_URL", description="SQS activity queue URL")
    event_bus_name: str = Field(alias="EVENT_BUS_NAME", description="EventBridge bus for domain events")
    step_queue_url: str = Field(
        default="", alias="STEP_QUEUE_URL", description="SQS queue of nurture enrollments to advance"
    )
    tracking_secret_arn: str = Field(
        default="", alias="TRACKING_SECRET_ARN", description="Secrets Manager secret that signs email tokens"
    )
    definitions_cache_seconds: int = Field(
        default=30,
        ge=0,
        alias="DEFINITIONS_CACHE_SECONDS",
        description="how long a Lambda reuses definitions",
    )
    public_base_url: str = Field(
        default="", alias="PUBLIC_BASE_URL", description="the API's public URL, for links in emails"
    )
    email_sender: str = Field(
        default="",
        alias="EMAIL_SENDER",
        description='the default From of emails ("address" or "Name <address>"), a verified SES identity',
    )
    ses_configuration_set: str = Field(
        default="",
        alias="SES_CONFIGURATION_SET",
        description="the SES configuration set every send names, whose events feed bounces and complaints",
    )
    sync_queue_url: str = Field(
        default="", alias="SYNC_QUEUE_URL", description="SQS queue of CRM membership changes to send out"
    )
    sync_dead_letter_queue_url: str = Field(
        default="",
        alias="SYNC_DEAD_LETTER_QUEUE_URL",
        description="where CRM syncs that failed wait for a replay",
    )
    connector_secret_prefix: str = Field(
        default="",
        alias="CONNECTOR_SECRET_PREFIX",
        description="Secrets Manager name prefix of connector credentials (<stack>/connectors/)",
    )
    import_bucket: str = Field(
        default="",
        alias="IMPORT_BUCKET",
        description="S3 bucket of uploaded import files (expire after days)",
    )
    import_queue_url: str = Field(
        default="", alias="IMPORT_QUEUE_URL", description="SQS queue of import plans and chunks"
    )
    unsubscribe_mailto: str = Field(
        default="",
        alias="UNSUBSCRIBE_MAILTO",
        description="an address for mailto: in List-Unsubscribe (optional; the HTTPS one-click URL is always there)",
    )


class SettingsError(RuntimeError):
    """The environment lacks a setting the function needs."""


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    import os

    try:
        return Settings.model_validate(dict(os.environ))
    except ValidationError as error:
        missing = ", ".join(str(item["loc"][0]) for item in error.errors())
        raise SettingsError(f"missing or invalid environment settings: {missing}") from error


def reset_settings() -> None:
    """Forget the cached settings (tests and the local stack change the environment)."""
    get_settings.cache_clear()
