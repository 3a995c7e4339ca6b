"""The writes of the CRM membership changes one pass made (an activity, a flow step).

A pass may change one membership twice (the connected mirror adds the default status, then a
rule moves it forward), and a transaction may name an item only once: each membership gets one
row update, as the last change leaves it, and every change keeps its own history row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from leadflow.ids import stable_id
from leadflow.store import campaigns as campaigns_store

if TYPE_CHECKING:
    from leadflow.domain.crm_membership import MembershipChange
    from leadflow.store.dynamo import TransactItem


def change_id(cause_id: str, campaign_id: str, position: int) -> str:
    """Stable per cause (activity or effect), campaign and place in the pass: a replay writes the
    same history rows."""
    parts = (cause_id, campaign_id) if position == 0 else (cause_id, campaign_id, str(position))
    return stable_id("crm", *parts)


def membership_items(changes: Sequence[MembershipChange], *, cause_id: str) -> list[TransactItem]:
    """One row update per membership and one history row per change, for the pass's transaction."""
    chains: dict[str, list[MembershipChange]] = {}
    for change in changes:
        chains.setdefault(change.campaign_id, []).append(change)
    items: list[TransactItem] = []
    for campaign_id, chain in chains.items():
        first, last = chain[0], chain[-1]
        whole = replace(
            last,
            previous_status=first.previous_status,
            joined_at=first.joined_at,
            added_by=first.added_by,
            responded_at=next((c.responded_at for c in chain if c.responded_at), None),
            first_response=any(c.first_response for c in chain),
        )
        row, _ = campaigns_store.membership_change_items(whole, change_id=change_id(cause_id, campaign_id, 0))
        items.append(row)
        for position, change in enumerate(chain):
            _, history = campaigns_store.membership_change_items(
                change, change_id=change_id(cause_id, campaign_id, position)
            )
            items.append(history)
    return items
