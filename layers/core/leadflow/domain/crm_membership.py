"""CRM campaign membership: what one requested status does to one contact's membership.

Pure. Every writer (an admin, an import, a rule, a qualify action, a flow step, a connected MA
campaign, a CRM connector) asks ``decide`` and writes what it answers, so they all agree on
the rules:

- only CRM campaigns take members this way; MA campaigns are joined by behaviour alone;
- a completed or aborted campaign takes no new members (its members may still change status);
- ``forward`` writers (rules, imports, qualify actions, flow steps, the connected mirror) only
  move a status forward, in the order of the campaign's ``member_statuses``, so two rules that
  target one membership end on the same status whatever order they fire in; ``set`` writers
  (an admin, sales in the CRM) may set any defined status;
- ``responded_at`` is the first time a responded status was reached, set once.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from leadflow.definitions.campaigns import Campaign
    from leadflow.domain.state import ContactState


class MembershipSource(StrEnum):
    """Who made a membership change."""

    MANUAL = "manual"
    IMPORT = "import"
    RULE = "rule"
    CONNECTED = "connected"
    QUALIFY = "qualify"
    FLOW = "flow"
    FORM = "form"
    """A form's ``on_submit`` action."""
    CRM = "crm"
    """Sales changed it in the external CRM; a connector brought it back (never sent out again)."""


Mode = Literal["forward", "set"]


class MembershipRefused(ValueError):
    """The change cannot be made; ``code`` names why for the API and import reports."""

    code = "membership_refused"


class UnknownStatus(MembershipRefused):
    code = "unknown_status"


class CampaignClosed(MembershipRefused):
    code = "campaign_closed"


class NotACrmCampaign(MembershipRefused):
    code = "not_a_crm_campaign"


@dataclass(frozen=True, slots=True)
class MemberSnapshot:
    """A membership as stored: what ``decide`` needs to know of it.

    The processor knows a contact's memberships from the profile alone (the status per campaign
    and which campaigns the contact has responded in), so ``joined_at`` and ``source`` may be
    empty there; the row write keeps the stored ones (``if_not_exists``)."""

    campaign_id: str
    contact_id: str
    status: str
    source: str = ""
    joined_at: str = ""
    responded: bool = False
    """The current status is one the campaign counts as responded."""
    responded_at: str | None = None
    """The first time a responded status was reached (kept if the status later moves back)."""
    updated_at: str | None = None
    has_responded: bool = False
    """Responded at some time, when ``responded_at`` itself is not known (the profile's view)."""

    @property
    def ever_responded(self) -> bool:
        return self.has_responded or self.responded_at is not None


@dataclass(frozen=True, slots=True)
class MembershipChange:
    """One membership added, or its status changed, with everything the row, the history and the
    bus event need."""

    campaign_id: str
    contact_id: str
    status: str
    previous_status: str | None
    responded: bool
    responded_at: str | None
    source: str
    at: str
    joined_at: str
    added_by: str
    """The source that first added the member (kept when its status later changes)."""

    @property
    def kind(self) -> Literal["added", "status_changed"]:
        return "added" if self.previous_status is None else "status_changed"

    first_response: bool = False
    """This change is the member's first response (it set ``responded_at``)."""


def status_rank(campaign: Campaign, status: str) -> int:
    """A status's place in the campaign's order; an unknown (since removed) status ranks first."""
    names = campaign.status_names()
    return names.index(status) if status in names else -1


def decide(
    campaign: Campaign,
    contact_id: str,
    current: MemberSnapshot | None,
    requested: str | None,
    *,
    mode: Mode,
    source: str,
    at: str,
) -> MembershipChange | None:
    """The change that ``requested`` (``None``: the campaign's default status) makes, or ``None``
    when there is nothing to do: the same status, or a backward move by a ``forward`` writer."""
    if not campaign.is_crm:
        raise NotACrmCampaign(
            f"{campaign.id} is an MA campaign: people join it by their behaviour, never by an add"
        )
    if requested is None:
        default = campaign.default_status()
        if default is None:  # a CRM campaign always has statuses; guard anyway
            raise UnknownStatus(f"campaign {campaign.id} has no member statuses")
        requested = default.name
    named = campaign.status_named(requested)
    if named is None:
        raise UnknownStatus(
            f"{requested!r} is not a member status of {campaign.id} "
            f"(its statuses: {', '.join(campaign.status_names())})"
        )
    if current is None:
        if str(campaign.status) in ("completed", "aborted"):
            raise CampaignClosed(f"campaign {campaign.id} is {campaign.status}: it takes no new members")
        return MembershipChange(
            campaign_id=campaign.id,
            contact_id=contact_id,
            status=named.name,
            previous_status=None,
            responded=named.responded,
            responded_at=at if named.responded else None,
            source=source,
            at=at,
            joined_at=at,
            added_by=source,
            first_response=named.responded,
        )
    if current.status == named.name:
        return None
    if mode == "forward" and status_rank(campaign, named.name) <= status_rank(campaign, current.status):
        return None
    first_response = named.responded and not current.ever_responded
    return MembershipChange(
        campaign_id=campaign.id,
        contact_id=contact_id,
        status=named.name,
        previous_status=current.status,
        responded=named.responded,
        responded_at=at if first_response else current.responded_at,
        source=source,
        at=at,
        joined_at=current.joined_at,
        added_by=current.source,
        first_response=first_response,
    )


def snapshot_after(change: MembershipChange) -> MemberSnapshot:
    """The membership as it stands once ``change`` is written."""
    return MemberSnapshot(
        campaign_id=change.campaign_id,
        contact_id=change.contact_id,
        status=change.status,
        source=change.added_by,
        joined_at=change.joined_at,
        responded=change.responded,
        responded_at=change.responded_at,
        updated_at=change.at,
        has_responded=change.responded_at is not None or change.first_response,
    )


def member_event(change: MembershipChange) -> tuple[str, dict[str, Any]]:
    """The bus event announcing ``change`` (the caller adds a deterministic ``event_id``)."""
    detail: dict[str, Any] = {
        "contact_id": change.contact_id,
        "campaign_id": change.campaign_id,
        "status": change.status,
        "responded": change.responded,
        "source": change.source,
        "at": change.at,
    }
    if change.kind == "added":
        return "CrmCampaignMemberAdded", detail
    return "CrmCampaignMemberStatusChanged", {
        **detail,
        "previous_status": change.previous_status,
        "first_response": change.first_response,
    }


def removal_event(member: MemberSnapshot, *, source: str, at: str) -> tuple[str, dict[str, Any]]:
    """The bus event announcing that ``member`` left its campaign (its history stays)."""
    return "CrmCampaignMemberRemoved", {
        "contact_id": member.contact_id,
        "campaign_id": member.campaign_id,
        "previous_status": member.status,
        "responded": member.responded,
        "source": source,
        "at": at,
    }


def change_activity_properties(change: MembershipChange) -> dict[str, Any]:
    """What a ``crm_status_changed`` activity carries of the change it records."""
    return {
        "campaign_id": change.campaign_id,
        "status": change.status,
        "previous_status": change.previous_status,
        "responded": change.responded,
        "first_response": change.first_response,
        "source": change.source,
        "joined_at": change.joined_at,
        "added_by": change.added_by,
    }


def change_from_activity(contact_id: str, properties: dict[str, Any], at: str) -> MembershipChange | None:
    """The change a ``crm_status_changed`` activity recorded (``None`` if it is not one)."""
    campaign_id, status = properties.get("campaign_id"), properties.get("status")
    if not isinstance(campaign_id, str) or not isinstance(status, str):
        return None
    responded = properties.get("responded") is True
    first = properties.get("first_response") is True
    previous = properties.get("previous_status")
    return MembershipChange(
        campaign_id=campaign_id,
        contact_id=contact_id,
        status=status,
        previous_status=previous if isinstance(previous, str) else None,
        responded=responded,
        responded_at=at if first else None,
        source=str(properties.get("source") or "manual"),
        at=at,
        joined_at=str(properties.get("joined_at") or at),
        added_by=str(properties.get("added_by") or properties.get("source") or "manual"),
        first_response=first,
    )


def snapshot_in(state: ContactState, campaign_id: str) -> MemberSnapshot | None:
    """A contact's membership as its profile knows it (status, and whether it responded there)."""
    status = state.crm_statuses.get(campaign_id)
    if status is None:
        return None
    return MemberSnapshot(
        campaign_id=campaign_id,
        contact_id=state.contact_id,
        status=status,
        has_responded=campaign_id in state.crm_responded,
    )


def record_in(state: ContactState, change: MembershipChange) -> None:
    """Keeps the profile's view of memberships (what conditions read) in step with ``change``."""
    state.crm_statuses[change.campaign_id] = change.status
    if change.responded or change.responded_at is not None:
        state.crm_responded.add(change.campaign_id)


def forget_in(state: ContactState, campaign_id: str) -> None:
    """The profile's view once a membership is removed. ``crm_responded`` keeps the campaign: the
    response is history, so a member who rejoins and responds again makes no second first response."""
    state.crm_statuses.pop(campaign_id, None)
