"""Leadflow end to end on the local stack: a website form becomes a scored contact.

Runs template.yaml with the real handlers (a missing one stops the stack's start) and the e2e
bundle. Time and queues move by ``advance`` and
``drain``, never by sleeping.
"""

from __future__ import annotations

import re

import pytest
import requests

from leadflow_local.stack import DEFAULT_TEMPLATE, DevStack
from tests.e2e.conftest import admin_headers

pytestmark = pytest.mark.e2e

FORM = "e2e-signup"
ACTIVITY_QUEUE = "leadflow-local-ActivityQueue"
ACTIVITY_DLQ = "leadflow-local-ActivityDeadLetterQueue"


def submit_url(stack: DevStack, form: str = FORM) -> str:
    return f"{stack.url}/v1/forms/{form}/submissions"


def contact(stack: DevStack, http: requests.Session, email: str) -> dict:
    response = http.get(f"{stack.url}/v1/admin/contacts", params={"email": email}, headers=admin_headers())
    assert response.status_code == 200, response.text
    return response.json()


def test_a_native_form_post_redirects_303_to_the_thank_you_page(
    leadflow_stack: DevStack, http: requests.Session
) -> None:
    # Given a browser posting the form natively (application/x-www-form-urlencoded)
    response = http.post(
        submit_url(leadflow_stack),
        data={"email": "ada@example.com", "first_name": "Ada", "consent": "on"},
        headers={"Origin": "https://www.example.com"},
        allow_redirects=False,
    )
    # Then capture answers with a redirect to the form's thank-you page
    assert response.status_code == 303, response.text
    assert response.headers["Location"] == "https://www.example.com/thanks"


def test_a_json_post_is_accepted_with_the_contact_and_its_campaign(
    leadflow_stack: DevStack, http: requests.Session
) -> None:
    response = http.post(
        submit_url(leadflow_stack),
        json={"fields": {"email": "grace@example.com", "consent": True}, "context": {"utm_source": "e2e"}},
    )
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["ma_campaign_id"] == "e2e-webinar"
    assert body["contact_id"]


def test_the_activity_goes_through_the_queue_to_process_and_the_admin_api_shows_the_scored_contact(
    leadflow_stack: DevStack, http: requests.Session
) -> None:
    # Given a submission, held in the activity queue while the consumer is paused (the queue
    # settled first: with no batching window an earlier test's activity may still be queued)
    leadflow_stack.drain()
    with leadflow_stack.paused():
        http.post(
            submit_url(leadflow_stack), json={"fields": {"email": "linus@example.com", "consent": True}}
        )
        assert leadflow_stack.queue_counts()[ACTIVITY_QUEUE]["visible"] == 1
        assert contact(leadflow_stack, http, "linus@example.com")["score"] == 0
    # When the activity queue is processed by its consumer
    leadflow_stack.drain()
    # Then the admin API shows the contact, scored and tagged by the processing
    seen = contact(leadflow_stack, http, "linus@example.com")
    assert seen["email"] == "linus@example.com"
    assert seen["ma_campaign_id"] == "e2e-webinar"
    assert seen["score"] == 5
    assert "e2e" in seen["tags"]
    assert [activity["type"] for activity in seen["activities"]] == ["form_submit"]
    counts = leadflow_stack.queue_counts()
    assert counts[ACTIVITY_QUEUE] == {"visible": 0, "in_flight": 0, "delayed": 0}


def test_the_admin_api_refuses_a_request_without_the_token(
    leadflow_stack: DevStack, http: requests.Session
) -> None:
    response = http.get(f"{leadflow_stack.url}/v1/admin/definitions")
    assert (response.status_code, response.json()["error"]["code"]) == (401, "unauthorized")


def test_a_poison_activity_ends_in_the_dlq_while_its_batch_mates_succeed(
    leadflow_stack: DevStack, http: requests.Session
) -> None:
    # Given a malformed message on the activity queue, next to a real submission
    sqs = leadflow_stack.client("sqs")
    queue_url = sqs.get_queue_url(QueueName=ACTIVITY_QUEUE)["QueueUrl"]
    sqs.send_message(QueueUrl=queue_url, MessageBody="this is not an activity")
    http.post(submit_url(leadflow_stack), json={"fields": {"email": "margaret@example.com", "consent": True}})
    # When the queue is drained, Then the good activity is applied and the poison one waits
    leadflow_stack.drain()
    assert contact(leadflow_stack, http, "margaret@example.com")["score"] == 5
    assert leadflow_stack.queue_counts()[ACTIVITY_DLQ]["visible"] == 0
    # When time passes five visibility timeouts (maxReceiveCount 5, 180 s each)
    leadflow_stack.advance("1h")
    # Then the poison message waits in the dead-letter queue and the queue is empty
    counts = leadflow_stack.queue_counts()
    assert counts[ACTIVITY_DLQ]["visible"] == 1
    assert counts[ACTIVITY_QUEUE] == {"visible": 0, "in_flight": 0, "delayed": 0}


def test_an_unknown_route_is_404_in_the_api_error_shape(
    leadflow_stack: DevStack, http: requests.Session
) -> None:
    response = http.get(f"{leadflow_stack.url}/v1/no-such-route")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_openapi_document_is_public(leadflow_stack: DevStack, http: requests.Session) -> None:
    response = http.get(f"{leadflow_stack.url}/v1/openapi.json")
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")


def test_the_demo_page_form_posts_natively_to_capture(
    leadflow_stack: DevStack, http: requests.Session
) -> None:
    page = http.get(f"{leadflow_stack.url}/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    action = f"/v1/forms/{FORM}/submissions"
    assert f'<form method="post" action="{action}">' in page.text
    names = set(re.findall(r'name="([a-z_]+)"', page.text))
    assert {"email", "first_name", "consent", "website"} <= names
    posted = http.post(
        f"{leadflow_stack.url}{action}",
        data={"email": "demo@example.com", "consent": "true", "website": "", "utm_source": "local-demo"},
        allow_redirects=False,
    )
    assert posted.status_code == 303


def template_schedules() -> set[str]:
    """Logical ids samtranslator gives the template's Schedule/ScheduleV2 events (function + event)."""
    from samtranslator.yaml_helper import yaml_parse

    resources = yaml_parse(DEFAULT_TEMPLATE.read_text())["Resources"]
    return {
        f"{function}{event}"
        for function, resource in resources.items()
        if resource["Type"] == "AWS::Serverless::Function"
        for event, spec in (resource["Properties"].get("Events") or {}).items()
        if spec["Type"] in ("Schedule", "ScheduleV2")
    }


def test_schedules_of_the_template_fire_when_their_time_comes(leadflow_stack: DevStack) -> None:
    # Given every schedule template.yaml declares (housekeeping's decay and outbox sweep at least)
    declared = template_schedules()
    assert declared, "template.yaml declares no schedule: this test has nothing to prove"
    assert {entry["name"] for entry in leadflow_stack.schedules()} == declared
    # When a day passes on the stack's clock
    report = leadflow_stack.advance("1d")
    # Then each fired, and no firing failed
    assert report.schedule_firings >= len(declared)
    assert {entry["name"]: entry["failures"] for entry in leadflow_stack.schedules()} == dict.fromkeys(
        declared, 0
    )
