"""Journeys through the outbox: a reader opens a flow email, clicks its link and unsubscribes,
all over HTTP with the URLs the outbox shows from the email's HTML and headers, and the flow
answers each time: an open or a click wakes its ``wait_for`` at once (the next email, in the same
drain), an unsubscribe ends the enrollment and nothing more is sent. Time moves on the stack's
clock (``POST /_local/clock``); nothing sleeps.
"""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest

from leadflow_local.stack import DevStack
from tests.e2e.conftest import TOKEN
from tests.e2e.flow_client import FlowClient

pytestmark = pytest.mark.e2e

TARGET = "https://www.example.com/webinar?from=email"
SENDER = "Journeys <news@journeys.example.com>"

BUNDLE: dict[str, Any] = {
    "forms": [
        {
            "id": "signup",
            "fields": [
                {"name": "email", "type": "email", "required": True},
                {"name": "first_name", "type": "text"},
                {"name": "consent", "type": "consent", "required": True, "text": "Email me"},
            ],
            "allowed_origins": ["*"],
        }
    ],
    "flows": [
        {
            "id": "journey",
            "trigger": {"form_submitted": "signup"},
            "steps": [
                {"id": "invite", "send_email": {"template": "invite"}},
                {
                    "id": "opened",
                    "wait_for": {"activity": "email_open", "of_step": "invite", "within": "3d"},
                    "then": "follow-up",
                    "else": "end",
                },
                {"id": "follow-up", "send_email": {"template": "follow-up"}},
                {
                    "id": "clicked",
                    "wait_for": {"activity": "email_click", "of_step": "follow-up", "within": "3d"},
                    "then": "offer",
                    "else": "end",
                },
                {"id": "offer", "send_email": {"template": "offer"}},
                {"id": "pause", "wait": "2d"},
                {"id": "last", "send_email": {"template": "last"}},
            ],
        }
    ],
    "email_templates": [
        {
            "id": "invite",
            "subject": "Hello {{ first_name | default('there') }}",
            "html": f'<p>Join <a href="{TARGET}">the webinar</a>.</p>',
            "from": SENDER,
        },
        {
            "id": "follow-up",
            "subject": "The webinar is on Thursday",
            "html": f'<p>Save <a href="{TARGET}">your seat</a>.</p>',
            "from": SENDER,
        },
        {"id": "offer", "subject": "Your seat is saved", "html": "<p>See you.</p>", "from": SENDER},
        {"id": "last", "subject": "Starting soon", "html": "<p>Soon.</p>", "from": SENDER},
    ],
}


@pytest.fixture(scope="module")
def client() -> Iterator[FlowClient]:
    with DevStack(port=0, definitions=None, admin_token=TOKEN, max_schedule_steps=24) as stack:
        stack.client("sesv2").create_email_identity(EmailIdentity="journeys.example.com")
        flows = FlowClient(stack.url, TOKEN)
        flows.apply(BUNDLE)
        yield flows
        flows.http.close()


def only_mail(client: FlowClient, email: str, step: str) -> dict[str, Any]:
    [mail] = [mail for mail in client.outbox(to=email) if mail["step_id"] == step]
    return mail


def html_click(mail: dict[str, Any]) -> str:
    [href] = [link["href"] for link in mail["links"] if link["kind"] == "click" and link["part"] == "html"]
    assert isinstance(href, str)
    return href


class _Form(HTMLParser):
    """The one form of the unsubscribe page: its method and hidden fields, as a browser posts them."""

    def __init__(self) -> None:
        super().__init__()
        self.method: str | None = None
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form":
            self.method = found.get("method")
        if tag == "input" and found.get("name"):
            self.fields[found["name"] or ""] = found.get("value") or ""


def signed_up(client: FlowClient, email: str, name: str) -> str:
    contact_id = client.submit("signup", email=email, first_name=name, consent=True)
    client.drain()
    return contact_id


def test_an_open_then_a_click_move_the_flow_on_at_once(client: FlowClient) -> None:
    email = "olive@example.com"
    signed_up(client, email, "Olive")
    invite = only_mail(client, email, "invite")
    assert invite["subject"] == "Hello Olive"
    assert client.enrollment(email, "journey")["step"] == "opened"

    pixel = client.http.get(invite["open_pixel"], timeout=30)
    assert (pixel.status_code, pixel.headers["Content-Type"]) == (200, "image/gif")
    client.drain()  # no clock moved: the open woke the wait_for
    follow_up = only_mail(client, email, "follow-up")
    assert follow_up["subject"] == "The webinar is on Thursday"
    assert client.path(email, "journey")[1:3] == [("opened", "held:wait_for"), ("opened", "happened")]

    again = client.http.get(invite["open_pixel"], timeout=30)  # the same open, later: nothing new
    assert again.status_code == 200
    # a click in the *first* email is not the awaited click in the follow-up (of_step)
    assert client.http.get(html_click(invite), allow_redirects=False, timeout=30).status_code == 302
    client.drain()
    assert [mail["step_id"] for mail in client.outbox(to=email)] == ["invite", "follow-up"]
    assert client.enrollment(email, "journey")["step"] == "clicked"

    click = client.http.get(html_click(follow_up), allow_redirects=False, timeout=30)
    assert (click.status_code, click.headers["Location"]) == (302, TARGET)
    client.drain()
    assert [mail["step_id"] for mail in client.outbox(to=email)] == ["invite", "follow-up", "offer"]
    assert client.enrollment(email, "journey")["hold"] == "wait"
    client.advance("3d")
    assert [mail["step_id"] for mail in client.outbox(to=email)] == ["invite", "follow-up", "offer", "last"]
    done = client.enrollment(email, "journey")
    assert (done["state"], done["end_reason"]) == ("completed", "completed")


def test_without_an_open_the_wait_times_out_and_the_flow_ends(client: FlowClient) -> None:
    email = "nora@example.com"
    signed_up(client, email, "Nora")
    client.advance("4d")
    assert [mail["step_id"] for mail in client.outbox(to=email)] == ["invite"]
    assert client.path(email, "journey")[-1] == ("opened", "timed_out")
    assert client.enrollment(email, "journey")["state"] == "completed"


def test_the_unsubscribe_page_button_ends_the_flow_and_nothing_more_is_sent(client: FlowClient) -> None:
    email = "uma@example.com"
    signed_up(client, email, "Uma")
    invite = only_mail(client, email, "invite")
    assert client.http.get(invite["open_pixel"], timeout=30).status_code == 200
    client.drain()
    follow_up = only_mail(client, email, "follow-up")

    [link] = [link for link in follow_up["links"] if link["kind"] == "unsubscribe" and link["part"] == "html"]
    assert link["href"] == follow_up["unsubscribe_url"]
    page = client.http.get(link["href"], timeout=30)
    assert page.status_code == 200, page.text
    assert client.contact(email)["status"] == "subscribed"  # opening the page changes nothing
    form = _Form()
    form.feed(page.text)
    assert form.method == "post"
    assert form.fields["List-Unsubscribe"] == "One-Click"
    pressed = client.http.post(link["href"], data=form.fields, timeout=30)  # the button
    assert pressed.status_code == 200, pressed.text
    client.drain()

    assert client.contact(email)["status"] == "unsubscribed"
    # the awaited click still redirects, but the flow sends nothing more and ends at its next step
    assert client.http.get(html_click(follow_up), allow_redirects=False, timeout=30).status_code == 302
    client.drain()
    client.advance("4d")
    assert [mail["step_id"] for mail in client.outbox(to=email)] == ["invite", "follow-up"]
    ended = client.enrollment(email, "journey")
    assert (ended["state"], ended["end_reason"]) == ("exited", "contact_unsubscribed")


def test_the_mailbox_one_click_header_ends_the_flow_too(client: FlowClient) -> None:
    email = "otto@example.com"
    signed_up(client, email, "Otto")
    invite = only_mail(client, email, "invite")
    assert invite["one_click_unsubscribe"] is True
    [header_url] = invite["list_unsubscribe"]
    reply = client.http.post(header_url, data={"List-Unsubscribe": "One-Click"}, timeout=30)  # RFC 8058
    assert reply.status_code == 200, reply.text
    client.drain()
    assert client.contact(email)["status"] == "unsubscribed"
    # the awaited open after unsubscribing sends no follow-up: it ends the enrollment
    assert client.http.get(invite["open_pixel"], timeout=30).status_code == 200
    client.drain()
    ended = client.enrollment(email, "journey")
    assert (ended["state"], ended["end_reason"]) == ("exited", "contact_unsubscribed")
    client.advance("4d")
    assert [mail["step_id"] for mail in client.outbox(to=email)] == ["invite"]
