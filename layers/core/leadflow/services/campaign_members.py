"""A campaign's members for the admin: pages of members and of history, and an admin's add or removal.

Reads check what the client sent against the active definitions (the campaign exists, the status
filter is one of its statuses, the cursor is one this API handed out) before anything reaches
DynamoDB. Writes go through :mod:`leadflow.services.crm_members`, the one path every writer
outside the processor takes, as ``source=manual`` in ``set`` mode.

Returns domain objects; the API shapes them into its replies (``leadflow.api.views``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from leadflow.errors import Conflict, NotFound, ValidationFailed
from leadflow.services import crm_members, definitions
from leadflow.store import campaigns as campaigns_store
from leadflow.store.campaigns import Membership

if TYPE_CHECKING:
    from leadflow.definitions.campaigns import Campaign

#: The one status capture gives an MA membership (``leadflow.services.capture``).
MA_MEMBER_STATUS = "joined"
MANUAL = "manual"


@dataclass(frozen=True, slots=True)
class MemberPage:
    campaign: Campaign
    status: str | None
    members: list[Membership]
    cursor: str | None  # None on the last page


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    contact_id: str
    from_status: str | None
    to_status: str | None
    source: str
    at: str


@dataclass(frozen=True, slots=True)
class HistoryPage:
    campaign: Campaign
    changes: list[HistoryEntry]
    cursor: str | None


@dataclass(frozen=True, slots=True)
class PutOutcome:
    membership: Membership
    created: bool
    changed: bool


def campaign(campaign_id: str) -> Campaign:
    found = definitions.active().bundle.campaign(campaign_id)
    if found is None:
        raise NotFound(f"no campaign {campaign_id!r}")
    return found


def statuses_of(found: Campaign) -> list[str]:
    """The statuses a member of ``found`` can have: its member statuses, or ``joined`` (MA)."""
    return found.status_names() if found.is_crm else [MA_MEMBER_STATUS]


def members(campaign_id: str, *, status: str | None, cursor: str | None, limit: int) -> MemberPage:
    found = campaign(campaign_id)
    if status is not None and status not in statuses_of(found):
        raise ValidationFailed.for_fields(
            {
                "status": f"{status!r} is not a member status of {campaign_id} ({', '.join(statuses_of(found))})"
            }
        )
    try:
        rows, next_cursor = campaigns_store.campaign_members(
            campaign_id, status=status, cursor=cursor, limit=limit
        )
    except ValueError:
        raise ValidationFailed.for_fields({"cursor": "not a cursor this API returned"}) from None
    return MemberPage(campaign=found, status=status, members=rows, cursor=next_cursor)


def history(campaign_id: str, *, cursor: str | None, limit: int) -> HistoryPage:
    found = campaign(campaign_id)
    try:
        rows, next_cursor = campaigns_store.campaign_history(campaign_id, cursor=cursor, limit=limit)
    except ValueError:
        raise ValidationFailed.for_fields({"cursor": "not a cursor this API returned"}) from None
    return HistoryPage(campaign=found, changes=[_entry(row) for row in rows], cursor=next_cursor)


def _entry(row: dict[str, Any]) -> HistoryEntry:
    return HistoryEntry(
        contact_id=row["contact_id"],
        from_status=row.get("from"),
        to_status=row.get("to"),
        source=row["source"],
        at=row["at"],
    )


def put_member(campaign_id: str, contact_id: str, status: str | None) -> PutOutcome:
    """An admin adds ``contact_id`` or sets its status. ``status=None``: a new member gets the
    default status, an existing one keeps its own (so adding twice never demotes anyone)."""
    _crm_only(campaign(campaign_id))
    if status is None:
        existing = campaigns_store.get_membership(campaign_id, contact_id)
        if existing is not None:
            return PutOutcome(existing, created=False, changed=False)
    result = crm_members.change_membership(campaign_id, contact_id, status, source=MANUAL, mode="set")
    return PutOutcome(result.membership, created=result.created, changed=result.change is not None)


def remove_member(campaign_id: str, contact_id: str) -> None:
    """Ends a membership; its history stays. ``NotFound`` when the contact is no member."""
    _crm_only(campaign(campaign_id))
    crm_members.remove_membership(campaign_id, contact_id, source=MANUAL)


def _crm_only(found: Campaign) -> None:
    if not found.is_crm:
        raise Conflict(
            f"{found.id} is an MA campaign: people join it by their behaviour (a form, an event), "
            "never by an admin's add or removal"
        )
