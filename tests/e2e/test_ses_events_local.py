"""An SES event put on the default bus reaches the SES events function on the local stack, through
the template's rule (matched on this stack's configuration set), as SES's destination would send it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from leadflow_local.stack import DevStack
from tests.e2e.conftest import admin_headers

pytestmark = pytest.mark.e2e

EVENTS = Path(__file__).resolve().parents[2] / "events"


def _put(stack: DevStack, name: str, contact_id: str, configuration_set: str) -> None:
    event = json.loads((EVENTS / f"{name}.json").read_text().replace("ct_sample0001", contact_id))
    event["detail"]["mail"]["tags"]["ses:configuration-set"] = [configuration_set]
    reply = stack.client("events").put_events(
        Entries=[
            {
                "Source": event["source"],
                "DetailType": event["detail-type"],
                "Detail": json.dumps(event["detail"]),
                "EventBusName": "default",
            }
        ]
    )
    assert reply["FailedEntryCount"] == 0


def test_a_bounce_on_the_default_bus_suppresses_the_contact(
    leadflow_stack: DevStack, http: requests.Session
) -> None:
    email = "jane.doe@example.com"
    posted = http.post(
        f"{leadflow_stack.url}/v1/forms/e2e-signup/submissions",
        json={"fields": {"email": email, "consent": True}},
    )
    assert posted.status_code == 202, posted.text
    contact_id = posted.json()["contact_id"]
    leadflow_stack.drain()
    # an event of another configuration set (another app in the account) is not ours
    _put(leadflow_stack, "ses-bounce-permanent", contact_id, "someone-elses-set")
    leadflow_stack.drain()
    url = f"{leadflow_stack.url}/v1/admin/contacts/{contact_id}"
    assert http.get(url, headers=admin_headers()).json()["status"] == "subscribed"
    _put(leadflow_stack, "ses-bounce-permanent", contact_id, f"{leadflow_stack.stack_name}-email")
    leadflow_stack.drain()
    contact = http.get(url, headers=admin_headers()).json()
    assert contact["status"] == "bounced"
    assert "email_bounced" in [activity["type"] for activity in contact["activities"]]
