"""CRM campaign membership made by actions: a status the campaign marks ``responded`` is a response."""

from __future__ import annotations

from typing import Any

from leadflow.store import campaigns as campaigns_store
from tests.support import functions, queues
from tests.support.bundles import scoring_bundle
from tests.support.events import json_body
from tests.support.forms import submitted_contact


def _bundle(status: str | None) -> dict[str, Any]:
    bundle = scoring_bundle()
    membership: dict[str, Any] = {"campaign": "crm-inbound-mql"}
    if status:
        membership["status"] = status
    bundle["scoring"]["qualify"]["actions"] = [{"add_to_crm_campaign": membership}]
    return bundle


def _qualified_membership(aws, apply_bundle, capture, admin, status: str | None) -> dict[str, Any]:
    apply_bundle(_bundle(status))
    fields = {"email": "cy@example.com", "first_name": "Cy", "role": "Engineer", "consent": True}
    contact_id = submitted_contact(capture, fields)
    process = functions.load("process").lambda_handler
    queues.drain(process, aws.queues["ActivityQueue"])
    # a trial sign-up qualifies (or_activity), and qualifying runs the CRM action
    from leadflow.adapters import activity_queue
    from leadflow.domain.activities import Activity

    activity_queue.send(
        Activity(
            activity_id="act_trial_1",
            type="trial_signup",
            occurred_at="2026-11-24T12:00:00Z",
            contact_id=contact_id,
        )
    )
    queues.drain(process, aws.queues["ActivityQueue"])
    view = json_body(
        admin("GET", f"/v1/admin/contacts/{contact_id}", iam=True, path_parameters={"contact_id": contact_id})
    )
    [membership] = view["crm_campaigns"]
    [stored] = [m for m in campaigns_store.memberships_of(contact_id) if m.campaign_id == "crm-inbound-mql"]
    return {**membership, "responded_at": stored.responded_at}


def test_a_qualify_action_with_a_responded_status_records_a_response(aws, apply_bundle, capture, admin):
    # "Contacted" is marked responded: true; the membership said responded: false
    membership = _qualified_membership(aws, apply_bundle, capture, admin, "Contacted")
    assert membership["status"] == "Contacted"
    assert membership["responded"] is True
    assert membership["responded_at"] == membership["joined_at"]


def test_the_default_status_that_is_no_response_stays_unresponded(aws, apply_bundle, capture, admin):
    membership = _qualified_membership(aws, apply_bundle, capture, admin, None)
    assert membership["status"] == "Sent"
    assert membership["responded"] is False
    assert membership["responded_at"] is None
