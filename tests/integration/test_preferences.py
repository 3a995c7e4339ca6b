"""Unsubscribe and double opt-in confirmation through the real track handler on moto."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest

from tests.support import events, functions, queues
from tests.support.bundles import capture_bundle
from tests.support.events import json_body
from tests.support.forms import submitted_contact

type Invoke = Callable[..., dict[str, Any]]
ONE_CLICK = urlencode({"List-Unsubscribe": "One-Click"})
FORM = {"content-type": "application/x-www-form-urlencoded"}


@pytest.fixture
def key(aws: Any) -> str:
    """The stack's own TrackingSecret (random, as at deploy), which tokens here are signed with."""
    from leadflow.adapters import secrets

    secrets.forget_cached()
    value = boto3.client("secretsmanager").get_secret_value(SecretId=aws.secrets["TrackingSecret"])
    return str(value["SecretString"])


@pytest.fixture
def world(aws: Any, apply_bundle: Callable[..., Any], capture: Invoke, admin: Invoke, key: str) -> Any:
    apply_bundle(capture_bundle())
    tap = queues.bus_tap(aws.buses["EventBus"])

    class World:
        def subscribed(self, email: str = "ann@example.com") -> str:
            return submitted_contact(capture, {"email": email, "first_name": "Ann", "consent": True})

        def pending(self, email: str = "pat@example.com") -> str:
            return submitted_contact(capture, {"email": email}, form="newsletter")

        def contact(self, contact_id: str) -> dict[str, Any]:
            response = admin("GET", f"/v1/admin/contacts/{contact_id}", iam=True)
            assert response["statusCode"] == 200, response["body"]
            return json_body(response)

        def profile(self, contact_id: str) -> Any:
            from leadflow.store import contacts

            return contacts.get_contact(contact_id, consistent=True)

        def bus(self) -> list[dict[str, Any]]:
            return [event for event in queues.read_all(tap) if event["detail-type"] == "ContactUnsubscribed"]

        def activities(self) -> list[dict[str, Any]]:
            return queues.read_all(aws.queues["ActivityQueue"])

    return World()


def token(kind: str, contact_id: str, key: str, **extra: Any) -> str:
    from leadflow.domain.tokens import Kind, TokenPayload, sign

    payload = TokenPayload(
        kind=Kind(kind),
        contact_id=contact_id,
        message_id=extra.pop("message_id", "msg_01"),
        issued_at=1_796_000_000,
        flow_id=extra.pop("flow_id", "welcome"),
        step_id=extra.pop("step_id", "intro"),
    )
    return sign(payload, key)


def track(method: str, route: str, token_value: str, **kwargs: Any) -> dict[str, Any]:
    path = route.replace("{token}", token_value)
    event = events.http_event(
        method, path, route_key=f"{method} {route}", path_parameters={"token": token_value}, **kwargs
    )
    return functions.load("track").lambda_handler(event, events.LambdaContext(function_name="track"))


def unsubscribe_post(token_value: str, body: str = ONE_CLICK) -> dict[str, Any]:
    return track("POST", "/v1/unsubscribe/{token}", token_value, body=body, headers=FORM)


def html_of(response: dict[str, Any]) -> str:
    assert response["headers"]["Content-Type"].startswith("text/html"), response["headers"]
    return str(response["body"])


# ---------------------------------------------------------------- unsubscribe


def test_one_click_unsubscribes_at_once_records_it_and_announces_it(world, key):
    # Given a subscribed contact
    contact_id = world.subscribed()
    world.activities()  # the form_submit
    # When a mail client posts RFC 8058's one-click body
    response = unsubscribe_post(token("u", contact_id, key))
    # Then 200 with a page, and the contact is unsubscribed before any processing
    assert response["statusCode"] == 200
    assert "You are unsubscribed" in html_of(response)
    assert response["headers"]["Cache-Control"] == "no-store"
    assert response["headers"]["Referrer-Policy"] == "no-referrer"
    profile = world.profile(contact_id)
    assert profile.status == "unsubscribed"
    assert profile.unsubscribed_at is not None
    assert world.contact(contact_id)["status"] == "unsubscribed"
    # And an unsubscribe activity is queued for scoring, naming the email it came from
    [activity] = world.activities()
    assert activity["type"] == "unsubscribe"
    assert activity["contact_id"] == contact_id
    assert activity["properties"] == {
        "message_id": "msg_01",
        "flow_id": "welcome",
        "step_id": "intro",
        "method": "one_click",
    }
    # And ContactUnsubscribed is on the bus, with ids and no email address
    [event] = world.bus()
    assert event["source"] == "leadflow"
    assert event["detail"]["contact_id"] == contact_id
    assert event["detail"]["flow_id"] == "welcome"
    assert "ann@example.com" not in json.dumps(event)


def test_unsubscribing_twice_changes_nothing_and_announces_the_same_event(world, key):
    contact_id = world.subscribed()
    first = unsubscribe_post(token("u", contact_id, key))
    version = world.profile(contact_id).version
    second = unsubscribe_post(token("u", contact_id, key, message_id="msg_02"))
    assert first["statusCode"] == second["statusCode"] == 200
    assert world.profile(contact_id).version == version
    announced = world.bus()
    assert len(announced) == 2
    assert announced[0]["detail"]["event_id"] == announced[1]["detail"]["event_id"]
    assert [item["type"] for item in world.activities()] == ["form_submit", "unsubscribe"]


def test_the_page_never_unsubscribes_and_its_button_posts_back(world, key):
    # Given a subscribed contact whose mail scanner fetches every link
    contact_id = world.subscribed()
    unsubscribe_token = token("u", contact_id, key)
    page = track("GET", "/v1/unsubscribe/{token}", unsubscribe_token)
    page_again = track("GET", "/v1/unsubscribe/{token}", unsubscribe_token, headers={"accept": "text/html"})
    # Then the page has one button that posts to itself, and nothing changed
    assert page["statusCode"] == page_again["statusCode"] == 200
    document = html_of(page)
    assert document.count("<button") == 1
    assert '<form method="post">' in document
    assert "default-src 'none'" in page["headers"]["Content-Security-Policy"]
    assert world.profile(contact_id).status == "subscribed"
    assert world.bus() == []
    # When the person presses the button (the form's body)
    response = unsubscribe_post(
        unsubscribe_token, urlencode({"List-Unsubscribe": "One-Click", "from": "page"})
    )
    assert response["statusCode"] == 200
    assert world.profile(contact_id).status == "unsubscribed"
    assert world.bus()[0]["detail"]["method"] == "page"


def test_a_post_without_the_one_click_body_still_unsubscribes(world, key):
    contact_id = world.subscribed()
    response = track("POST", "/v1/unsubscribe/{token}", token("u", contact_id, key))
    assert response["statusCode"] == 200
    assert world.profile(contact_id).status == "unsubscribed"


def test_a_pending_contact_can_unsubscribe_and_is_then_not_confirmed_by_the_old_link(world, key):
    contact_id = world.pending()
    assert unsubscribe_post(token("u", contact_id, key))["statusCode"] == 200
    response = track("GET", "/v1/confirm/{token}", token("f", contact_id, key, flow_id="newsletter"))
    assert response["statusCode"] == 409
    assert "can no longer be used" in html_of(response)
    assert world.profile(contact_id).status == "unsubscribed"


def forged(valid: str) -> str:
    payload, signature = valid.split(".")
    return f"{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"


@pytest.mark.parametrize(
    "bad",
    [
        "nonsense",
        "a.b.c",
        "x" * 5000,
        "eyJ9.AAAA",
        "\u00e9t\u00e9.x",
        "<img src=x onerror=alert(1)>",
        "<script>alert(1)</script>",
    ],
)
@pytest.mark.parametrize(
    ("method", "route"),
    [("GET", "/v1/unsubscribe/{token}"), ("POST", "/v1/unsubscribe/{token}"), ("GET", "/v1/confirm/{token}")],
)
def test_bad_tokens_get_a_400_page_and_change_nothing(world, key, method, route, bad):
    contact_id = world.subscribed()
    response = track(method, route, bad)
    assert response["statusCode"] == 400
    assert "This link does not work" in html_of(response)
    assert "<img" not in response["body"]
    assert "<script>" not in response["body"]
    assert world.profile(contact_id).status == "subscribed"


def test_forged_wrong_kind_and_foreign_key_tokens_are_refused(world, key):
    contact_id = world.subscribed()
    for bad in (
        forged(token("u", contact_id, key)),
        token("o", contact_id, key),  # an open pixel token replayed as an unsubscribe
        token("f", contact_id, key),  # a confirm token
        token("u", contact_id, "another-key-another-key-another-key!"),
    ):
        assert unsubscribe_post(bad)["statusCode"] == 400
    assert track("GET", "/v1/confirm/{token}", token("u", contact_id, key))["statusCode"] == 400
    assert world.profile(contact_id).status == "subscribed"
    assert world.bus() == []


def test_an_erased_contact_unsubscribes_quietly(world, key):
    response = unsubscribe_post(token("u", "c_gone", key))
    assert response["statusCode"] == 200
    assert world.bus() == []


def test_no_signing_key_is_a_503_page_not_a_500(world, key, monkeypatch):
    from leadflow.adapters import secrets
    from leadflow.settings import reset_settings

    contact_id = world.subscribed()
    boto3.client("secretsmanager").delete_secret(
        SecretId=os.environ["TRACKING_SECRET_ARN"], ForceDeleteWithoutRecovery=True
    )
    reset_settings()
    secrets.forget_cached()
    response = unsubscribe_post(token("u", contact_id, key))
    assert response["statusCode"] == 503
    assert "try again" in html_of(response).lower()
    assert world.profile(contact_id).status == "subscribed"


# ---------------------------------------------------------------- double opt-in confirm


def test_confirm_subscribes_a_pending_contact_and_keeps_the_consent(world, key):
    # Given a contact pending double opt-in from the newsletter form (which has no consent box)
    contact_id = world.pending()
    assert world.profile(contact_id).status == "pending"
    # When they open the link of the confirmation email
    response = track("GET", "/v1/confirm/{token}", token("f", contact_id, key, flow_id="newsletter"))
    # Then they are subscribed, the confirmation kept as their consent, through that form
    assert response["statusCode"] == 200
    assert "You are subscribed" in html_of(response)
    profile = world.profile(contact_id)
    assert profile.status == "subscribed"
    assert profile.consent is not None
    assert profile.consent.form_id == "newsletter"
    assert profile.consent.confirmed_at is not None
    # And confirming again is harmless
    version = profile.version
    again = track("GET", "/v1/confirm/{token}", token("f", contact_id, key, flow_id="newsletter"))
    assert again["statusCode"] == 200
    assert world.profile(contact_id).version == version


def test_confirm_keeps_the_forms_consent_and_adds_the_confirmation_time(world, key, apply_bundle, capture):
    bundle = capture_bundle()
    bundle["forms"][0]["double_opt_in"] = True
    apply_bundle(bundle)
    contact_id = submitted_contact(capture, {"email": "lee@example.com", "consent": True})
    before = world.profile(contact_id)
    assert before.status == "pending"
    assert before.consent is not None
    track("GET", "/v1/confirm/{token}", token("f", contact_id, key, flow_id="webinar-signup"))
    after = world.profile(contact_id)
    assert after.status == "subscribed"
    assert after.consent is not None
    assert after.consent.given_at == before.consent.given_at
    assert after.consent.text == "Email me about the webinar"
    assert after.consent.confirmed_at is not None


@pytest.mark.parametrize("status", ["bounced", "complained", "unsubscribed"])
def test_an_old_confirm_link_never_resubscribes_a_suppressed_address(world, key, status):
    from leadflow import clock
    from leadflow.store import contacts, dynamo

    contact_id = world.pending()
    profile = world.profile(contact_id)
    dynamo.transact_write([contacts.profile_update(profile, {"status": status}, clock.now())])
    response = track("GET", "/v1/confirm/{token}", token("f", contact_id, key))
    assert response["statusCode"] == 409
    assert world.profile(contact_id).status == status


def test_confirming_an_erased_contact_is_a_404_page(world, key):
    response = track("GET", "/v1/confirm/{token}", token("f", "c_gone", key))
    assert response["statusCode"] == 404
    assert "Nothing to confirm" in html_of(response)


def test_a_raced_change_is_read_again_not_overwritten(world, key, monkeypatch):
    # Given a concurrent change (the processor scoring) landing between our read and our write
    from leadflow import clock
    from leadflow.store import contacts, dynamo

    contact_id = world.subscribed()
    real_get = contacts.get_contact
    raced = []

    def get_then_race(contact_id: str, *, consistent: bool = False) -> Any:
        contact = real_get(contact_id, consistent=consistent)
        if not raced and contact is not None:
            raced.append(True)
            dynamo.transact_write([contacts.profile_update(contact, {"score": 42}, clock.now())])
        return contact

    monkeypatch.setattr(contacts, "get_contact", get_then_race)
    assert unsubscribe_post(token("u", contact_id, key))["statusCode"] == 200
    profile = real_get(contact_id, consistent=True)
    assert profile.status == "unsubscribed"
    assert profile.score == 42


# ---------------------------------------------------------------- sample events

SAMPLE_CONTACT = "c_01jd4y8m2k7q9w3e5r6t8y0u1i"
SAMPLES = {
    "preferences-unsubscribe-page": (200, "pending"),
    "preferences-unsubscribe-one-click": (200, "unsubscribed"),
    "preferences-confirm": (200, "subscribed"),
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_sample_event_runs_through_the_handler(aws, world, name):
    # Given the sample's pending contact, and the samples' signing key in the stack's secret
    from leadflow import clock
    from leadflow.adapters import secrets
    from leadflow.domain.contacts import Contact
    from leadflow.store import contacts, dynamo
    from tests.integration.test_tracking import SIGNING_KEY
    from tests.support.moto_stack import ROOT

    boto3.client("secretsmanager").put_secret_value(
        SecretId=aws.secrets["TrackingSecret"], SecretString=SIGNING_KEY
    )
    secrets.forget_cached()
    now = clock.now()
    sample = Contact(
        contact_id=SAMPLE_CONTACT,
        email="jane.doe@example.com",
        email_key="jane.doe@example.com",
        status="pending",
        created_at=now,
        updated_at=now,
    )
    dynamo.transact_write(contacts.put_new_contact(sample))
    # When the sample runs through the track handler
    event = json.loads((ROOT / "events" / f"{name}.json").read_text())
    response = functions.load("track").lambda_handler(event, events.LambdaContext(function_name="track"))
    # Then it gets its status, and the contact the status the route gives
    status, contact_status = SAMPLES[name]
    assert response["statusCode"] == status, response["body"]
    assert world.profile(SAMPLE_CONTACT).status == contact_status


def test_there_is_a_sample_for_every_preference_route():
    from tests.support.moto_stack import ROOT

    samples = {
        json.loads(path.read_text())["routeKey"] for path in (ROOT / "events").glob("preferences-*.json")
    }
    assert samples == {
        "GET /v1/unsubscribe/{token}",
        "POST /v1/unsubscribe/{token}",
        "GET /v1/confirm/{token}",
    }


# ---------------------------------------------------------------- what follows an unsubscribe


def test_the_unsubscribe_activity_is_scored_and_kept_in_the_history(aws, world, key, apply_bundle):
    from tests.support.bundles import scoring_bundle

    apply_bundle(scoring_bundle())
    contact_id = world.subscribed()
    process = functions.load("process").lambda_handler
    queues.drain(process, aws.queues["ActivityQueue"])
    before = world.contact(contact_id)["score"]
    assert unsubscribe_post(token("u", contact_id, key))["statusCode"] == 200
    queues.drain(process, aws.queues["ActivityQueue"])
    contact = world.contact(contact_id)
    assert contact["score"] == before - 50
    assert contact["status"] == "unsubscribed"  # scoring never writes the status back
    assert contact["activities"][0]["type"] == "unsubscribe"


def test_a_queue_outage_still_unsubscribes_and_leaves_the_activity_for_the_sweep(world, key, monkeypatch):
    from datetime import timedelta

    from botocore.exceptions import EndpointConnectionError

    from leadflow import clock
    from leadflow.adapters import activity_queue
    from leadflow.store import contacts

    contact_id = world.subscribed()
    world.activities()

    def down(_: Any) -> None:
        raise EndpointConnectionError(endpoint_url="https://sqs.us-east-1.amazonaws.com")

    monkeypatch.setattr(activity_queue, "send", down)
    assert unsubscribe_post(token("u", contact_id, key))["statusCode"] == 200
    assert world.profile(contact_id).status == "unsubscribed"
    assert world.activities() == []
    later = clock.now() + timedelta(minutes=5)
    pending = [
        entry.activity
        for shard in range(contacts.PENDING_SHARDS)
        for entry in contacts.pending_activities(shard, later)
        if entry.activity.contact_id == contact_id
    ]
    # (the form_submit is pending too: nothing processed it in this test)
    assert sorted(activity.type for activity in pending) == ["form_submit", "unsubscribe"]


def test_a_client_that_accepts_only_json_gets_errors_in_the_apis_shape(world, key):
    json_only = {"accept": "application/json"}
    bad = track("POST", "/v1/unsubscribe/{token}", "nonsense", headers=json_only)
    assert bad["statusCode"] == 400
    assert json_body(bad)["error"]["code"] == "validation_failed"
    gone = track("GET", "/v1/confirm/{token}", token("f", "c_gone", key), headers=json_only)
    assert gone["statusCode"] == 404
    assert json_body(gone)["error"]["code"] == "not_found"
    # a browser (text/html among what it accepts) still gets the page
    browser = track("GET", "/v1/confirm/{token}", "nonsense", headers={"accept": "text/html,*/*;q=0.8"})
    assert "This link does not work" in html_of(browser)


def test_the_signing_key_is_read_through_the_current_client_after_a_reset(aws, key):
    # Powertools' default provider keeps the first client it made; a stack or a test that resets
    # the clients (a new endpoint) must not keep verifying through the old one
    from leadflow import aws as clients
    from leadflow.adapters import secrets

    assert secrets.signing_key() == key.encode()
    before = secrets._provider()
    clients.reset_clients()
    after = secrets._provider()
    assert after is not before
    assert after.client is clients.client("secretsmanager")
    assert secrets.signing_key() == key.encode()
