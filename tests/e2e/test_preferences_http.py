"""Double opt-in and unsubscribe over HTTP on the local stack (what a person's mail client does)."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from leadflow_local.stack import DevStack
from tests.e2e.conftest import admin_headers

pytestmark = pytest.mark.e2e

EMAIL = "opt.in@example.com"


def _token(kind: str, contact_id: str, **ids: str) -> str:
    # The stack runs in this process with its environment installed (its moto endpoint, the
    # secret's ARN): read the signing key from there with a fresh client, as a function would
    import os

    import boto3

    from leadflow.domain.tokens import Kind, TokenPayload, keys_from_secret, sign

    secret = boto3.client("secretsmanager").get_secret_value(SecretId=os.environ["TRACKING_SECRET_ARN"])
    payload = TokenPayload(kind=Kind(kind), contact_id=contact_id, message_id="msg_e2e", issued_at=1, **ids)
    return sign(payload, keys_from_secret(secret["SecretString"])[0])


def _contact(stack: DevStack, http: requests.Session) -> dict[str, Any]:
    reply = http.get(f"{stack.url}/v1/admin/contacts", params={"email": EMAIL}, headers=admin_headers())
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def test_confirm_then_one_click_unsubscribe_over_http(demo_stack: DevStack, http: requests.Session):
    # Given a double opt-in sign-up on the demo's newsletter form
    posted = http.post(
        f"{demo_stack.url}/v1/forms/newsletter/submissions",
        json={"fields": {"email": EMAIL, "consent": True}},
    )
    assert posted.status_code == 202, posted.text
    contact = _contact(demo_stack, http)
    assert contact["status"] == "pending"
    # When the person opens the confirmation link
    confirm = _token("f", contact["id"], flow_id="newsletter", step_id="confirm")
    opened = http.get(f"{demo_stack.url}/v1/confirm/{confirm}")
    assert opened.status_code == 200
    assert "You are subscribed" in opened.text
    assert _contact(demo_stack, http)["status"] == "subscribed"
    # And a link scanner fetches the unsubscribe page: nothing changes
    unsubscribe = _token("u", contact["id"], flow_id="welcome", step_id="intro")
    page = http.get(f"{demo_stack.url}/v1/unsubscribe/{unsubscribe}")
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert _contact(demo_stack, http)["status"] == "subscribed"
    # When the mail client posts RFC 8058's one-click
    clicked = http.post(
        f"{demo_stack.url}/v1/unsubscribe/{unsubscribe}",
        data="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    # Then the contact is unsubscribed at once, and the old confirm link cannot undo it
    assert clicked.status_code == 200
    assert _contact(demo_stack, http)["status"] == "unsubscribed"
    assert http.get(f"{demo_stack.url}/v1/confirm/{confirm}").status_code == 409
    # And a tampered link is a 400 page, never a 500
    assert http.post(f"{demo_stack.url}/v1/unsubscribe/{unsubscribe[:-2]}xx").status_code == 400
