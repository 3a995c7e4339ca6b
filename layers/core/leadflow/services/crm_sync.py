"""Outbound CRM sync: make a contact's CRM campaign membership true in the connector's CRM.

One message per membership event (``CrmCampaignMemberAdded`` / ``...StatusChanged``), at least
once and in any order. The worker never trusts the event's status: it reads the membership as it
is now and sends that, under a per-(contact, connector) lease, so a duplicate finds nothing to do
and a late, older event can never overwrite a newer status in the CRM. What it decides:

- the campaign has no ``external`` connector: skipped (``no_connector``);
- the change came from the CRM (``source: crm``): skipped, never echoed back (``echo``);
- the contact was erased, or left the campaign: nothing is sent (``erased``, ``not_a_member``);
- the CRM already holds this status: nothing is sent (``unchanged``);
- no credentials: ``pending`` / ``not_configured``, kept in the sync state, re-sent when they are set;
- the CRM failed in a way a retry may fix: ``pending`` / ``retrying``, ``RetryLater`` with a delay;
- the CRM refused it (bad credentials, an unknown campaign, a rejected record): ``failed``, and
  the message goes to the dead-letter queue for ``leadflow connectors replay``.
"""

from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from leadflow import clock
from leadflow.ids import stable_id
from leadflow.services import definitions
from leadflow.store import campaigns as campaigns_store
from leadflow.store import contacts as contacts_store
from leadflow.store import crm_sync as sync_store

if TYPE_CHECKING:
    from leadflow.adapters.crm.base import ApiUsage, Connector, ConnectorError, MemberSync
    from leadflow.definitions.connectors import Connector as ConnectorDefinition
    from leadflow.domain.contacts import Contact

MEMBER_EVENTS = ("CrmCampaignMemberAdded", "CrmCampaignMemberStatusChanged")
RESYNC = "CrmSyncRequested"
LEASE_SECONDS = 60.0  # longer than the function's timeout: a crashed worker's lease runs out
BUSY_RETRY_SECONDS = 5
BASE_DELAY_SECONDS = 30
MAX_DELAY_SECONDS = 3600
SLOW_DOWN_AT = 0.9  # of the CRM's API limit (Salesforce Sforce-Limit-Info): wait instead of calling
SLOW_DOWN_SECONDS = 900
MESSAGE_LIMIT = 512

Outcome = Literal[
    "synced", "unchanged", "no_connector", "echo", "erased", "not_a_member", "pending", "failed"
]


class MemberEventDetail(BaseModel):
    """What the worker reads of a membership event (the rest is ignored: it reads the store)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    event_id: str = Field(min_length=1, max_length=128)
    contact_id: str = Field(min_length=1, max_length=64)
    campaign_id: str = Field(min_length=1, max_length=64)
    source: str | None = Field(default=None, max_length=32)


class SyncMessage(BaseModel):
    """A sync queue message: the EventBridge event as the rule delivered it, or a re-send of that shape."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    id: str | None = Field(default=None, max_length=128)
    source: str = Field(max_length=256)
    detail_type: str = Field(alias="detail-type", max_length=128)
    detail: MemberEventDetail


@dataclass(frozen=True, slots=True)
class Report:
    outcome: Outcome
    connector_id: str | None = None
    reason: str | None = None

    def as_log(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "connector": self.connector_id, "reason": self.reason}


class RetryLater(Exception):  # noqa: N818 (an instruction to the handler, not a fault)
    """The message should come back after ``seconds``; ``final`` once retries ran out (the state is failed)."""

    def __init__(self, seconds: int, reason: str) -> None:
        super().__init__(f"retry in {seconds} s: {reason}")
        self.seconds = seconds
        self.reason = reason


class DeadLetter(Exception):  # noqa: N818 (an instruction to the handler, not a fault)
    """A retry cannot fix this message: it goes to the dead-letter queue (the state says failed)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def backoff_seconds(attempt: int, retry_after: float | None = None) -> int:
    """Exponential backoff with jitter (half to all of the step), at least what the CRM asked for."""
    step = min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2 ** max(0, attempt - 1))
    delay = random.uniform(step / 2, step)
    return int(min(MAX_DELAY_SECONDS, max(delay, retry_after or 0)))


# ---------------------------------------------------------------- the CRM's own pace

_usage_lock = threading.Lock()
_usage: dict[str, tuple[float, ApiUsage]] = {}


def _note_usage(connector_id: str, client: Connector) -> None:
    usage = client.usage()
    if usage is not None:
        with _usage_lock:
            _usage[connector_id] = (time.monotonic(), usage)


def _near_limit(connector_id: str) -> bool:
    """The CRM said its API limit is nearly used, less than SLOW_DOWN_SECONDS ago."""
    with _usage_lock:
        seen = _usage.get(connector_id)
    if seen is None:
        return False
    at, usage = seen
    return time.monotonic() - at < SLOW_DOWN_SECONDS and usage.near_limit(SLOW_DOWN_AT)


def forget_usage() -> None:
    with _usage_lock:
        _usage.clear()


# ---------------------------------------------------------------- one message


def handle(message: SyncMessage, *, attempt: int = 1, max_attempts: int = 8) -> Report:
    """Brings one membership to the connector's CRM. Raises RetryLater or DeadLetter as above."""
    detail = message.detail
    bundle = definitions.active().bundle
    campaign = bundle.campaign(detail.campaign_id)
    external = campaign.external if campaign is not None and campaign.is_crm else None
    if campaign is None or external is None:
        return Report("no_connector")
    connector = bundle.connector(external.connector)
    if connector is None:
        return Report("no_connector", external.connector, "unknown_connector")
    if detail.source == "crm":
        return Report("echo", connector.id)
    contact = contacts_store.get_contact(detail.contact_id, consistent=True)
    if contact is None or str(contact.status) == "erased":
        return Report("erased", connector.id)
    membership = campaigns_store.get_membership(campaign.id, contact.contact_id)
    if membership is None:
        return Report("not_a_member", connector.id)
    now = clock.now()
    state = sync_store.get_state(contact.contact_id, connector.id)
    if state.synced_status(campaign.id) == membership.status and campaign.id not in state.waiting:
        return Report("unchanged", connector.id)
    try:
        state = sync_store.take_lease(state, now=now, seconds=LEASE_SECONDS)
    except sync_store.StaleState:
        raise RetryLater(BUSY_RETRY_SECONDS, "busy") from None
    waiting = tuple(dict.fromkeys((*state.waiting, campaign.id)))
    state = replace(state, waiting=waiting, last_change_id=detail.event_id)
    return _send(
        connector,
        contact,
        campaign.id,
        external.id,
        membership.status,
        membership.responded,
        detail.event_id,
        state,
        now=now,
        attempt=attempt,
        max_attempts=max_attempts,
    )


def _send(
    connector: ConnectorDefinition,
    contact: Contact,
    campaign_id: str,
    external_campaign_id: str,
    status: str,
    responded: bool,
    change_id: str,
    state: sync_store.SyncState,
    *,
    now: datetime,
    attempt: int,
    max_attempts: int,
) -> Report:
    from leadflow.adapters import secrets
    from leadflow.adapters.crm.base import ConnectorError, Credentials, NotConfigured
    from leadflow.adapters.crm.registry import connector_for

    if _near_limit(connector.id):
        _save(replace(state, state="pending", reason="slowing_down"), now)
        raise RetryLater(backoff_seconds(1, SLOW_DOWN_SECONDS / 2), "near the CRM's API limit")
    try:
        values = secrets.connector_credentials(connector.id)
        client = connector_for(
            connector_config(connector), Credentials(values=values) if values is not None else None
        )
    except NotConfigured as error:
        failure = _error(error, now)
        _save(replace(state, state="pending", reason="not_configured", last_error=failure), now)
        sync_store.record_error(connector.id, failure)
        return Report("pending", connector.id, "not_configured")
    except secrets.ConnectorSecretUnavailableError:
        _save(replace(state, state="pending", reason="retrying"), now)
        raise RetryLater(backoff_seconds(attempt), "secrets unavailable") from None
    try:
        member = _member(
            contact, external_campaign_id, status, responded, change_id, state.synced_status(campaign_id)
        )
        result = client.sync_member(member)
    except ConnectorError as error:
        _note_usage(connector.id, client)
        return _failed(connector.id, state, error, now=now, attempt=attempt, max_attempts=max_attempts)
    _note_usage(connector.id, client)
    members = {
        **state.members,
        campaign_id: sync_store.SyncedMember(
            status=status, member_id=result.external_member_id, change_id=change_id, at=clock.iso(now)
        ),
    }
    waiting = tuple(c for c in state.waiting if c != campaign_id)
    _save(
        replace(
            state,
            state="pending" if waiting else "synced",
            reason="waiting" if waiting else None,
            external_person_id=result.external_person_id,
            members=members,
            waiting=waiting,
            last_error=None if not waiting else state.last_error,
        ),
        now,
    )
    sync_store.record_success(connector.id, now)
    return Report("synced", connector.id)


def _failed(
    connector_id: str,
    state: sync_store.SyncState,
    error: ConnectorError,
    *,
    now: datetime,
    attempt: int,
    max_attempts: int,
) -> Report:
    failure = _error(error, now)
    sync_store.record_error(connector_id, failure)
    if error.retryable and attempt < max_attempts:
        _save(replace(state, state="pending", reason="retrying", last_error=failure), now)
        raise RetryLater(backoff_seconds(attempt, error.retry_after), error.code)
    reason = "retries_exhausted" if error.retryable else "rejected"
    _save(replace(state, state="failed", reason=reason, last_error=failure), now)
    raise DeadLetter(f"{reason}: {error.code}")


def _save(state: sync_store.SyncState, now: datetime) -> None:
    try:
        sync_store.save_state(state, now=now)
    except sync_store.StaleState:
        raise RetryLater(BUSY_RETRY_SECONDS, "the sync state moved on") from None


def _error(error: ConnectorError, now: datetime) -> sync_store.SyncError:
    return sync_store.SyncError(
        code=error.code[:64],
        message=error.message[:MESSAGE_LIMIT],
        at=clock.iso(now),
        retryable=error.retryable,
    )


def _text(value: object) -> str | None:
    return None if value in (None, "") else str(value)


def _member(
    contact: Contact,
    external_campaign_id: str,
    status: str,
    responded: bool,
    change_id: str,
    previous_status: str | None,
) -> MemberSync:
    from leadflow.adapters.crm.base import ContactRecord, MemberSync

    fields = contact.fields
    record = ContactRecord(
        contact_id=contact.contact_id,
        email=contact.email,
        first_name=_text(fields.get("first_name")),
        last_name=_text(fields.get("last_name")),
        company=_text(fields.get("company")),
        phone=_text(fields.get("phone")),
    )
    return MemberSync(
        contact=record,
        external_campaign_id=external_campaign_id,
        status=status,
        responded=responded,
        change_id=change_id,
        previous_status=previous_status,
    )


def connector_config(connector: ConnectorDefinition) -> Any:
    """The clients' ``ConnectorConfig`` for a bundle entry (its kind's settings as options)."""
    from leadflow.adapters.crm.base import ConnectorConfig

    settings = connector.model_dump(mode="json", exclude={"id", "kind", "instance_url", "api_version"})
    return ConnectorConfig(
        id=connector.id,
        kind=connector.kind,
        instance_url=connector.instance_url,
        api_version=connector.api_version,
        options={key: str(value) for key, value in settings.items() if value is not None},
    )


# ---------------------------------------------------------------- re-sends


def resync_body(contact_id: str, campaign_id: str, *, cause: str) -> dict[str, Any]:
    """A sync message asking to bring one membership to the CRM again (same shape as the bus's)."""
    event_id = stable_id("sync", contact_id, campaign_id, cause)
    return {
        "id": event_id,
        "source": "leadflow.sync",
        "detail-type": RESYNC,
        "detail": {
            "event_id": event_id,
            "contact_id": contact_id,
            "campaign_id": campaign_id,
            "source": "resync",
        },
    }


def resend_waiting(connector_id: str, *, cause: str) -> int:
    """Queues every membership that waits for this connector (pending: e.g. credentials were missing)."""
    from leadflow.adapters import sync_queue

    bodies = [
        resync_body(state.contact_id, campaign_id, cause=cause)
        for state in sync_store.waiting_states(connector_id, "pending")
        for campaign_id in state.waiting
    ]
    sync_queue.send_many(bodies)
    return len(bodies)


def belongs_to(connector_id: str) -> Any:
    """A test of a dead letter's body: is it a membership whose campaign syncs with ``connector_id``?"""
    bundle = definitions.active().bundle

    def test(body: str) -> bool:
        try:
            message = SyncMessage.model_validate(json.loads(body))
        except ValueError:
            return False
        campaign = bundle.campaign(message.detail.campaign_id)
        return bool(campaign and campaign.external and campaign.external.connector == connector_id)

    return test
