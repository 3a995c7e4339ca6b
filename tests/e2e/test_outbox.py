"""The local outbox over HTTP: mail sent through the stack's SES, read as JSON and as pages, links followed.

Nothing in the product sends mail yet on this branch, so the test sends one raw MIME message through
the stack's own SES v2 (``Content.Raw``, as the product will), built the way the composer builds it:
a signed click link and open pixel for a real contact, an unsubscribe link and ``List-Unsubscribe``
pointing at the stack, and the ``X-Leadflow-*`` ids. Time moves by ``advance``; nothing sleeps.
"""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Any

import pytest
import requests

from leadflow.clock import parse_iso
from leadflow_local.stack import DevStack
from tests.e2e.conftest import admin_headers

pytestmark = pytest.mark.e2e

SENDER_DOMAIN = "outbox-e2e.example.com"
SENDER = f"Leadflow <news@{SENDER_DOMAIN}>"
EMAIL = "olga.outbox@example.com"
TARGET = "https://www.example.com/webinar?from=email"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [  # as test_browser.py: no call home at start, which a closed network refuses
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def stack(leadflow_stack: DevStack) -> DevStack:
    """The e2e stack with a verified sending domain and an empty outbox."""
    leadflow_stack.client("sesv2").create_email_identity(EmailIdentity=SENDER_DOMAIN)
    leadflow_stack.clear_mail()
    return leadflow_stack


def signed(stack: DevStack, kind: str, contact_id: str, **extra: str) -> str:
    """A token signed with the stack's own tracking secret, as the email step will sign it."""
    from leadflow.adapters.secrets import signing_key
    from leadflow.domain.tokens import Kind, TokenPayload, sign

    payload = TokenPayload(
        kind=Kind(kind),
        contact_id=contact_id,
        message_id="msg-e2e-1",
        issued_at=int(stack.now().timestamp()),
        flow_id="welcome",
        step_id="day-1",
        **extra,
    )
    return sign(payload, signing_key())


def send(stack: DevStack, contact_id: str) -> dict[str, str]:
    """One flow email, raw MIME through the stack's SES v2; the URLs it carries."""
    urls = {
        "click": f"{stack.url}/v1/t/c/{signed(stack, 'c', contact_id, url=TARGET)}",
        "open": f"{stack.url}/v1/t/o/{signed(stack, 'o', contact_id)}",
        "unsubscribe": f"{stack.url}/v1/unsubscribe/{signed(stack, 'u', contact_id)}",
    }
    message = EmailMessage(policy=SMTP)
    message["From"] = SENDER
    message["To"] = EMAIL
    message["Subject"] = "Willkommen, Olga: Ihr Webinar"
    message["List-Unsubscribe"] = f"<{urls['unsubscribe']}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["X-Leadflow-Kind"] = "flow"
    message["X-Leadflow-Message-Id"] = "msg-e2e-1"
    message["X-Leadflow-Contact-Id"] = contact_id
    message["X-Leadflow-Flow-Id"] = "welcome"
    message["X-Leadflow-Step-Id"] = "day-1"
    message.set_content(f"Join the webinar: {urls['click']}\n\nUnsubscribe: {urls['unsubscribe']}\n")
    message.add_alternative(
        f'<p>Join <a href="{urls["click"]}">the webinar</a>.</p><img src="{urls["open"]}" alt="">'
        f'<p><a href="{urls["unsubscribe"]}">Unsubscribe</a></p>'
        "<script>document.body.dataset.ran = 'yes'</script>",
        subtype="html",
    )
    stack.client("sesv2").send_email(
        FromEmailAddress=SENDER,
        Destination={"ToAddresses": [EMAIL]},
        Content={"Raw": {"Data": message.as_bytes(policy=SMTP.clone(max_line_length=998))}},
    )
    return urls


def contact(stack: DevStack, http: requests.Session) -> dict[str, Any]:
    response = http.get(f"{stack.url}/v1/admin/contacts", params={"email": EMAIL}, headers=admin_headers())
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def sent(stack: DevStack) -> dict[str, Any]:
    """A contact captured by the form, then one email to it, sent a day later on the stack clock."""
    with requests.Session() as http:
        reply = http.post(
            f"{stack.url}/v1/forms/e2e-signup/submissions", json={"fields": {"email": EMAIL, "consent": True}}
        )
        assert reply.status_code == 202, reply.text
        contact_id = reply.json()["contact_id"]
        stack.drain()
        stack.advance(timedelta(days=1))
        before = stack.now()
        urls = send(stack, contact_id)
    return {"contact_id": contact_id, "urls": urls, "before": before}


def test_the_json_outbox_lists_the_message_with_headers_parts_ids_and_links(
    stack: DevStack, sent: dict[str, Any], http: requests.Session
) -> None:
    response = http.get(f"{stack.url}/_local/outbox", params={"format": "json"})
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/json"
    messages = response.json()
    assert len(messages) == 1
    message = messages[0]
    urls = sent["urls"]

    assert message["to"] == [EMAIL]
    assert message["from"] == SENDER
    assert message["subject"] == "Willkommen, Olga: Ihr Webinar"
    assert (message["flow_id"], message["step_id"], message["contact_id"], message["message_id"]) == (
        "welcome",
        "day-1",
        sent["contact_id"],
        "msg-e2e-1",
    )
    # Every header SES kept, in order, as [name, value]: List-Unsubscribe survives raw content
    names = [name for name, _ in message["headers"]]
    assert names[:5] == ["From", "To", "Subject", "List-Unsubscribe", "List-Unsubscribe-Post"]
    assert ["List-Unsubscribe", f"<{urls['unsubscribe']}>"] in message["headers"]
    assert message["one_click_unsubscribe"] is True
    assert message["text"].startswith("Join the webinar: ")
    assert "<a href=" in message["html"]
    assert [(link["kind"], link["text"], link["href"]) for link in message["links"]] == [
        ("click", "the webinar", urls["click"]),
        ("unsubscribe", "Unsubscribe", urls["unsubscribe"]),
    ]
    assert message["open_pixel"] == urls["open"]
    assert message["unsubscribe_url"] == urls["unsubscribe"]
    # Sent a day after the capture on the stack's clock, and the outbox says so
    assert sent["before"] <= parse_iso(message["sent_at"]) <= stack.now()

    one = http.get(message["view"], params={"format": "json"})
    assert one.status_code == 200
    assert one.json() == message


def test_the_list_filters_by_recipient_flow_and_step(
    stack: DevStack, sent: dict[str, Any], http: requests.Session
) -> None:
    def found(**filters: str) -> list[str]:
        reply = http.get(f"{stack.url}/_local/outbox", params={"format": "json", **filters})
        assert reply.status_code == 200
        return [message["subject"] for message in reply.json()]

    subject = "Willkommen, Olga: Ihr Webinar"
    assert found(to=EMAIL, flow="welcome", step="day-1") == [subject]
    assert found(contact=sent["contact_id"], kind="flow") == [subject]
    assert found(step="day-2") == []
    assert found(to="nobody@example.com") == []


def test_the_pages_show_the_list_and_the_message_with_its_html_sandboxed(
    stack: DevStack, sent: dict[str, Any], http: requests.Session
) -> None:
    listing = http.get(f"{stack.url}/_local/outbox")
    assert listing.status_code == 200
    assert listing.headers["Content-Type"].startswith("text/html")
    assert "Willkommen, Olga: Ihr Webinar" in listing.text
    assert "welcome / day-1" in listing.text

    page = http.get(f"{stack.url}/_local/outbox/0")
    assert page.status_code == 200
    assert "<iframe title='HTML part' sandbox='allow-popups allow-popups-to-escape-sandbox'" in page.text
    assert "Text part" in page.text
    assert "X-Leadflow-Step-Id" in page.text

    assert page.headers["Content-Security-Policy"] == "script-src 'none'; object-src 'none'"
    assert "One-click unsubscribe, as a mailbox does" in page.text

    raw = http.get(f"{stack.url}/_local/outbox/0/raw")
    assert raw.status_code == 200
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in raw.text


def test_the_tracked_click_and_open_work_against_the_stack_and_are_recorded(
    stack: DevStack, sent: dict[str, Any], http: requests.Session
) -> None:
    message = http.get(f"{stack.url}/_local/outbox/0", params={"format": "json"}).json()
    click = next(link["href"] for link in message["links"] if link["kind"] == "click")
    assert click.startswith(f"{stack.url}/v1/t/c/")

    followed = http.get(click, allow_redirects=False)
    assert followed.status_code == 302
    assert followed.headers["Location"] == TARGET
    pixel = http.get(message["open_pixel"])
    assert pixel.status_code == 200
    assert pixel.headers["Content-Type"] == "image/gif"
    # An altered click token is refused, never an open redirect
    assert http.get(click[:-2] + "xx", allow_redirects=False).status_code == 400

    stack.drain()
    activities = contact(stack, http)["activities"]
    email_activities = {
        activity["type"]: activity for activity in activities if activity["type"] != "form_submit"
    }
    assert set(email_activities) == {"email_click", "email_open"}
    # The unsubscribe link and header point at the stack's own route (its journeys come with the runner)
    assert message["unsubscribe_url"].startswith(f"{stack.url}/v1/unsubscribe/")
    assert message["list_unsubscribe"] == [message["unsubscribe_url"]]


@pytest.mark.browser
def test_a_person_clicks_the_tracked_link_in_the_sandboxed_html_and_lands_on_its_target(
    stack: DevStack, sent: dict[str, Any], tmp_path: Path
) -> None:
    assert CHROMIUM.is_file(), f"{CHROMIUM} is missing: `make test` installs Debian's chromium"
    from playwright.sync_api import sync_playwright  # the dev extra pins it; never `playwright install`

    with sync_playwright() as driver:
        context = driver.chromium.launch_persistent_context(
            tmp_path / "profile", executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        context.set_default_timeout(15_000)
        try:
            requested: list[str] = []
            redirects: dict[str, tuple[int, str | None]] = {}
            context.on("request", lambda request: requested.append(request.url))
            context.on(
                "response",
                lambda answer: redirects.update(
                    {answer.url: (answer.status, answer.header_value("location"))}
                ),
            )
            page = context.new_page()
            page.goto(f"{stack.url}/_local/outbox/0")
            frame = page.frame_locator("iframe[title='HTML part']")
            with context.expect_page() as opened:
                frame.get_by_role("link", name="the webinar").click()
            landed = opened.value
            landed.wait_for_load_state()
            # The click opened a new tab (outside the sandbox) on the stack's tracked redirect, which
            # sent the browser on to the link's target (on the internet: this closed network refuses it)
            assert redirects[sent["urls"]["click"]] == (302, TARGET)
            assert requested.index(TARGET) > requested.index(sent["urls"]["click"])
            # Showing the HTML loaded its images, as a mail client does: the open pixel among them
            # (Playwright reports no request of a sandboxed srcdoc frame: the frame itself tells)
            html_part = next(frame for frame in page.frames if frame.url == "about:srcdoc")
            images = html_part.evaluate(
                "() => [...document.images].map(image => [image.currentSrc, image.naturalWidth])"
            )
            assert images == [[sent["urls"]["open"], 1]]
            # No script of the email ran: the frame has no allow-scripts
            assert html_part.evaluate("() => document.body.dataset.ran ?? 'no'") == "no"
            sandbox = page.locator("iframe[title='HTML part']").get_attribute("sandbox")
            assert sandbox == "allow-popups allow-popups-to-escape-sandbox"
        finally:
            context.close()


def test_unknown_messages_and_methods_are_404_never_500(stack: DevStack, sent: dict[str, Any]) -> None:
    for path in ("/_local/outbox/99", "/_local/outbox/-1", "/_local/outbox/abc", "/_local/outbox/0/nope"):
        assert requests.get(f"{stack.url}{path}", timeout=10).status_code == 404, path
    response = requests.get(f"{stack.url}/_local/outbox/99", params={"format": "json"}, timeout=10)
    assert response.json()["error"]["code"] == "not_found"
    assert requests.put(f"{stack.url}/_local/outbox/0", timeout=10).status_code == 404


def test_the_old_mail_route_redirects_to_the_outbox(stack: DevStack, sent: dict[str, Any]) -> None:
    old = requests.get(f"{stack.url}/_local/mail", allow_redirects=False, timeout=10)
    assert old.status_code == 308
    assert old.headers["Location"] == "/_local/outbox?format=json"
    assert requests.get(f"{stack.url}/_local/mail", timeout=10).json()[0]["subject"].startswith("Willkommen")
    one = requests.get(f"{stack.url}/_local/mail/0", allow_redirects=False, timeout=10)
    assert one.headers["Location"] == "/_local/outbox/0"


def test_emptying_the_outbox_for_the_next_test(stack: DevStack, sent: dict[str, Any]) -> None:
    # runs last in this module: it empties the outbox the tests above read
    cleared = requests.delete(f"{stack.url}/_local/outbox", timeout=10)
    assert cleared.status_code == 200
    assert cleared.json() == {"cleared": 1}
    assert requests.get(f"{stack.url}/_local/outbox", params={"format": "json"}, timeout=10).json() == []
    send(stack, sent["contact_id"])
    form = requests.post(f"{stack.url}/_local/outbox/clear", allow_redirects=False, timeout=10)
    assert form.status_code == 303
    assert form.headers["Location"] == "/_local/outbox"
    assert "No email sent yet" in requests.get(f"{stack.url}/_local/outbox", timeout=10).text
