"""Inbound CRM changes: member statuses that sales changed in the CRM come back as
``crm_status_changed`` activities (through ``crm_members.change_membership``, ``source="crm"``,
``mode="set"``), which run the ``crm_to_ma`` rules. Never an MA campaign, never a two-way sync:
the outbound worker skips these changes (``source: crm``), so nothing echoes.

Two ways in, one reader:
- **the poll** (EventBridge Scheduler, every ``SalesforcePollMinutes``): for each connector with
  credentials, ``changes_since(watermark)``, a bounded number of pages per run. The watermark is
  the CRM's own ``SystemModstamp`` of the last change read, never Leadflow's clock, stored in the
  Campaigns table and moved forward only after the page's changes were applied;
- **Event Relay** (Change Data Capture on CampaignMember to an EventBridge partner bus): an event
  says that something changed, and the same watermark read runs at once. So both paths apply the
  same changes the same way, a lost or repeated relay event costs nothing, and the poll (off while
  Event Relay is on) catches up whatever a relay missed when it is switched back on.

Each change has an id (the CRM member id and its modification stamp), which makes it idempotent:
a re-read page changes nothing.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from leadflow import clock
from leadflow.domain.emails import InvalidEmail, normalise_email
from leadflow.observability import logger, redacted_failures
from leadflow.services import definitions
from leadflow.store import contacts as contacts_store
from leadflow.store import crm_sync as sync_store

if TYPE_CHECKING:
    from leadflow.adapters.crm.base import RemoteChange
    from leadflow.definitions import Bundle
    from leadflow.definitions.connectors import Connector as ConnectorDefinition

PAGE_SIZE = 200
MAX_PAGES_PER_RUN = 5  # at most 1,000 changes per connector and run: a backlog drains over runs
INBOUND_KINDS = ("salesforce",)
EVENT_RELAY_SOURCE = "aws.partner/salesforce.com"
"""Salesforce Event Relay's partner event source names start so (``.../<org id>/<relay id>``)."""


@dataclass
class InboundReport:
    connectors: int = 0
    read: int = 0
    applied: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def as_log(self) -> dict[str, Any]:
        return {
            "connectors": self.connectors,
            "read": self.read,
            "applied": self.applied,
            "skipped": dict(self.skipped),
            "errors": dict(self.errors),
        }


def run_invocation(event: dict[str, Any]) -> dict[str, Any]:
    """A scheduled poll (``{"job": "poll"}``) or a Salesforce Event Relay event, run and logged;
    anything else is refused (``ValueError``)."""
    if event.get("job") == "poll":
        with redacted_failures("inbound poll failed", job="poll"):
            report = poll()
        logger.info("inbound poll", extra=report.as_log())
        return report.as_log()
    with redacted_failures("inbound event not applied", event_id=str(event.get("id"))[:64]):
        if not str(event.get("source", "")).startswith(EVENT_RELAY_SOURCE):
            raise ValueError("not a sync queue batch, a poll or a Salesforce Event Relay event")
        report = relay(event)
    logger.info("inbound event", extra=report.as_log())
    return report.as_log()


def poll(connector_ids: set[str] | None = None) -> InboundReport:
    """Reads and applies each inbound connector's changes since its watermark (bounded per run)."""
    from leadflow.adapters import secrets
    from leadflow.adapters.crm.base import ConnectorError, Credentials
    from leadflow.adapters.crm.registry import connector_for
    from leadflow.services.crm_sync import connector_config

    report = InboundReport()
    bundle = definitions.active().bundle
    for connector in bundle.connectors:
        if connector.kind not in INBOUND_KINDS or (
            connector_ids is not None and connector.id not in connector_ids
        ):
            continue
        values = secrets.connector_credentials(connector.id)
        if values is None:
            report.skip("not_configured")
            continue
        report.connectors += 1
        try:
            client = connector_for(connector_config(connector), Credentials(values=values))
            _drain(bundle, connector, client, report)
        except ConnectorError as error:
            report.errors[connector.id] = error.code
            sync_store.record_error(
                connector.id,
                sync_store.SyncError(
                    code=error.code[:64],
                    message=error.message[:512],
                    at=clock.iso(clock.now()),
                    retryable=error.retryable,
                ),
            )
    return report


def relay(event: dict[str, Any]) -> InboundReport:
    """An Event Relay event (CDC on CampaignMember): read that org's changes now, as the poll would."""
    bundle = definitions.active().bundle
    inbound = {connector.id for connector in bundle.connectors if connector.kind in INBOUND_KINDS}
    return poll(inbound)


def _drain(bundle: Bundle, connector: ConnectorDefinition, client: Any, report: InboundReport) -> None:
    by_external = {
        campaign.external.id: campaign.id
        for campaign in bundle.campaigns
        if campaign.external is not None and campaign.external.connector == connector.id
    }
    watermark = sync_store.get_watermark(connector.id)
    for _ in range(MAX_PAGES_PER_RUN):
        page = client.changes_since(watermark, limit=PAGE_SIZE)
        report.read += len(page.changes)
        for change in page.changes:
            _apply(connector.id, by_external, change, report)
        if page.watermark is not None and page.watermark != watermark:
            sync_store.advance_watermark(connector.id, page.watermark, now=clock.now())
            watermark = page.watermark
        if not page.more:
            return
    report.skip("more_next_run")


def change_id(change: RemoteChange) -> str:
    """The CRM member id and its modification stamp: one id per inbound change, however often read."""
    return f"{change.external_member_id}:{change.modified_at}"


def _apply(
    connector_id: str, by_external: dict[str, str], change: RemoteChange, report: InboundReport
) -> None:
    from leadflow.errors import Conflict, NotFound, ValidationFailed
    from leadflow.services import crm_members

    campaign_id = by_external.get(change.external_campaign_id)
    if campaign_id is None:
        report.skip("unknown_campaign")
        return
    try:
        email = normalise_email(change.email or "")
    except InvalidEmail:
        report.skip("no_email")
        return
    contact_id = contacts_store.find_contact_id(email.key)
    contact = contacts_store.get_contact(contact_id) if contact_id is not None else None
    if contact_id is None or contact is None or str(contact.status) == "erased":
        report.skip(
            "unknown_contact"
        )  # a CRM person Leadflow never met (or erased): not created from the CRM
        return
    try:
        crm_members.change_membership(
            campaign_id,
            contact_id,
            change.status,
            source="crm",
            mode="set",
            change_id=change_id(change),
            origin={
                "connector": connector_id,
                "external_id": change.external_member_id,
                "external_modified_at": change.modified_at,
            },
        )
    except (ValidationFailed, Conflict, NotFound):
        report.skip("refused")  # a status the campaign does not define, a closed campaign, an erased contact
        return
    report.applied += 1
    _remember(connector_id, contact_id, campaign_id, change)


def _remember(connector_id: str, contact_id: str, campaign_id: str, change: RemoteChange) -> None:
    """The CRM holds this status now: the outbound worker has nothing to send for it."""
    state = sync_store.get_state(contact_id, connector_id)
    member = sync_store.SyncedMember(
        status=change.status,
        member_id=change.external_member_id,
        change_id=change_id(change),
        at=change.modified_at,
    )
    waiting = tuple(c for c in state.waiting if c != campaign_id)
    updated = replace(
        state,
        members={**state.members, campaign_id: member},
        waiting=waiting,
        state=state.state if waiting or state.state == "failed" else "synced",
    )
    # An outbound worker holding it reads the membership afresh and finds it unchanged.
    with contextlib.suppress(sync_store.StaleState):
        sync_store.save_state(updated, now=clock.now(), holds_lease=False)
