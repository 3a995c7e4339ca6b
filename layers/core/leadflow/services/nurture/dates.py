"""Date-field triggers: keeping the month-day index (the daily job is ``date_run``).

Whenever an activity or a flow step changes a contact's fields, the writes that change them also
put (or delete) the contact's ``DATE#<field>`` line for each field some flow's ``date_field``
trigger reads (``index_items``): in the processor's transaction, or the flow ``update``'s. A field
that holds no valid date has no line. Light on purpose: the processor calls it for every activity,
so it loads no flow models.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from leadflow.domain.nurture import dates
from leadflow.store import date_index
from leadflow.store.dynamo import TransactItem

if TYPE_CHECKING:
    from leadflow.definitions import Bundle
    from leadflow.domain.activities import Activity

TRIGGER_TYPE = "date_field"
"""The type of the synthetic activity that starts a date-field enrollment (never stored)."""


def indexed_fields(bundle: Bundle) -> set[str]:
    """The contact fields some flow's date_field trigger reads (disabled flows too: enabling one
    must find its contacts already indexed)."""
    return {getattr(flow.trigger, TRIGGER_TYPE).field for flow in bundle.flows_with_trigger(TRIGGER_TYPE)}


def index_items(
    bundle: Bundle,
    contact_id: str,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    activity: Activity | None = None,
) -> list[TransactItem]:
    """The index writes for the fields that changed (``before`` -> ``after``) or that ``activity``
    carries (a form submission's fields are merged into the profile by capture, before the
    processor reads it): empty when no flow reads a date field, or none of those changed."""
    watched = indexed_fields(bundle)
    if not watched:
        return []
    carried = activity.properties.get("fields") if activity is not None else None
    touched = {name for name in watched if before.get(name) != after.get(name)}
    if isinstance(carried, dict):
        touched |= watched & set(carried)
    return date_index.index_items(contact_id, dates.index_values(after, touched)) if touched else []
