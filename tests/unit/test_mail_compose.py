"""Composing an email (pure): rendering, tracked links, pixel, unsubscribe, headers and MIME."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadflow.definitions.templates import EmailTemplate
from leadflow.domain.contacts import Contact
from leadflow.domain.mail.compose import ComposedEmail, MessageIds, Sending, compose
from leadflow.domain.mail.confirmation import BUILT_IN, compose_confirmation
from leadflow.domain.mail.html_text import html_to_text
from leadflow.domain.mail.mime import UnsendableAddressError
from leadflow.domain.mail.render import RenderError
from leadflow.domain.tokens import Kind, verify

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
KEY = "s" * 32
BASE = "https://api.example.com/prod"
SENDING = Sending(BASE, KEY, "Acme <news@example.com>", "unsubscribe@example.com")
IDS = MessageIds("msg_01", "welcome", "intro")


def contact(**changes: Any) -> Contact:
    values: dict[str, Any] = {
        "contact_id": "c_01",
        "email": "ann@example.org",
        "email_key": "ann@example.org",
        "status": "subscribed",
        "fields": {"first_name": "Ann", "company": "Initech"},
        "created_at": NOW,
        "updated_at": NOW,
        **changes,
    }
    return Contact.model_validate(values)


def template(**changes: Any) -> EmailTemplate:
    values = {
        "id": "welcome",
        "subject": "Welcome, {{ first_name | default('friend') }}",
        "html": "<html><body><p>Hi {{ first_name }}</p></body></html>",
        **changes,
    }
    return EmailTemplate.model_validate(values, context={"applying": True})


def send(tpl: EmailTemplate | None = None, who: Contact | None = None, **kwargs: Any) -> ComposedEmail:
    return compose(tpl or template(), who or contact(), ids=IDS, sending=SENDING, now=NOW, **kwargs)


def parsed(message: ComposedEmail) -> EmailMessage:
    result = email.message_from_bytes(message.raw, policy=policy.default)
    assert isinstance(result, EmailMessage)
    return result


def tokens_in(html: str, route: str) -> list[str]:
    import re

    return re.findall(rf"{re.escape(BASE)}/v1/{route}/([A-Za-z0-9_.-]+)", html)


# ---------------------------------------------------------------- links


def test_every_web_link_goes_through_a_signed_click_redirect_to_its_own_target():
    html = (
        "<p><a href=\"https://www.example.com/a?x=1&amp;y=2\">A</a> <a href='http://b.example/'>B</a>"
        ' <A HREF=https://c.example/path class="btn">C</A></p>'
    )
    message = send(template(html=html))
    assert message.tracked_urls == (
        "https://www.example.com/a?x=1&y=2",
        "http://b.example/",
        "https://c.example/path",
    )
    clicks = tokens_in(message.html, "t/c")
    assert len(clicks) == 3
    payloads = [verify(token, KEY, Kind.CLICK) for token in clicks]
    assert [payload.url for payload in payloads] == list(message.tracked_urls)
    assert {(p.contact_id, p.message_id, p.flow_id, p.step_id) for p in payloads} == {
        ("c_01", "msg_01", "welcome", "intro")
    }
    assert 'class="btn"' in message.html
    assert "https://www.example.com/a" not in message.html


@pytest.mark.parametrize(
    "href",
    [
        "mailto:sales@example.com",
        "tel:+441234567",
        "#top",
        "/relative/page",
        "javascript:alert(1)",
        "https://",
    ],
)
def test_other_links_are_left_exactly_as_written(href: str):
    html = f'<p><a href="{href}">x</a></p>'
    message = send(template(html=html))
    assert f'<a href="{href}">x</a>' in message.html
    assert message.tracked_urls == ()


def test_links_in_comments_and_own_links_are_not_tracked():
    html = '<!-- <a href="https://hidden.example/">x</a> --><p><a href="{{ unsubscribe_url }}">Leave</a></p>'
    message = send(template(html=html))
    assert message.tracked_urls == ()
    assert '<a href="https://hidden.example/">' in message.html
    # the template placed the unsubscribe link itself: no second footer
    assert message.html.count("/v1/unsubscribe/") == 1


def test_the_open_pixel_sits_before_the_end_of_the_body_and_the_footer_before_it():
    message = send()
    body_end = message.html.lower().rindex("</body>")
    pixel = message.html.index(f'<img src="{BASE}/v1/t/o/')
    footer = message.html.index("Unsubscribe</a>")
    assert footer < pixel < body_end
    [open_token] = tokens_in(message.html, "t/o")
    assert verify(open_token, KEY, Kind.OPEN).message_id == "msg_01"
    [unsubscribe_token] = tokens_in(message.html, "unsubscribe")
    assert verify(unsubscribe_token, KEY, Kind.UNSUBSCRIBE).contact_id == "c_01"


def test_html_without_a_body_gets_the_pixel_at_the_end():
    message = send(template(html="<p>Hi</p>"))
    assert message.html.startswith("<p>Hi</p>")
    assert message.html.endswith('border:0" />')


# ---------------------------------------------------------------- rendering


def test_missing_variables_print_their_default_or_nothing_never_none():
    tpl = template(
        subject="{{ first_name }} {{ nickname }} at {{ company.name }}!",
        html="<p>{{ city | default('your town') }}|{{ phone }}|{{ region.code.x }}</p>",
    )
    message = send(tpl, contact(fields={"first_name": None}))
    assert message.subject == "at !"
    assert "None" not in message.subject
    assert "<p>your town||</p>" in message.html


def test_a_contacts_field_is_escaped_in_html_but_kept_in_subject_and_text():
    tpl = template(subject="Hi {{ company }}", html="<p>{{ company }}</p>", text="Hi {{ company }}")
    message = send(tpl, contact(fields={"company": "<b>Tom & Jerry</b>"}))
    assert "<p>&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;</p>" in message.html
    assert message.subject == "Hi <b>Tom & Jerry</b>"
    assert message.text.startswith("Hi <b>Tom & Jerry</b>")


def test_extra_context_such_as_cart_items_renders():
    tpl = template(
        html="<ul>{% for item in cart.lines %}<li>{{ item.name }} x{{ item.qty }}</li>{% endfor %}</ul>"
    )
    message = send(tpl, extra={"cart": {"lines": [{"name": "Mug", "qty": 2}, {"name": "<Tee>", "qty": 1}]}})
    assert "<li>Mug x2</li><li>&lt;Tee&gt; x1</li>" in message.html
    assert "- Mug x2\n- <Tee> x1" in message.text


def test_the_contact_and_email_names_cannot_be_shadowed_by_fields():
    tpl = template(html="<p>{{ email }} {{ contact.score }}</p>")
    message = send(tpl, contact(fields={"email": "evil@example.com", "contact": "x"}, score=7))
    assert "<p>ann@example.org 7</p>" in message.html


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("{{ 1 / 0 }}", "ZeroDivisionError"),
        ("{{ 'x' * 10**7 }}", "SecurityError"),
        ("{{ missing + 1 }}", "UndefinedError"),
        ("{{ range(10**7) | list }}", "OverflowError"),
        ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "SecurityError"),
    ],
)
def test_render_errors_become_render_error_with_the_reason(source: str, reason: str):
    with pytest.raises(RenderError) as failure:
        send(template(html=source))
    assert failure.value.part == "html"
    assert reason in failure.value.reason


def test_the_sandbox_hides_python_internals():
    message = send(template(html="<p>{{ cycler.__init__.__globals__ }}{{ ''.__class__ }}</p>"))
    assert "<p></p>" in message.html


def test_a_subject_that_renders_empty_is_a_failure_not_a_blank_email():
    with pytest.raises(RenderError, match="subject"):
        send(template(subject="{{ first_name }}"), contact(fields={}))


# ---------------------------------------------------------------- text part


def test_the_text_part_is_derived_from_html_when_the_template_has_none():
    html = (
        "<html><head><style>p{color:red}</style><title>T</title></head><body>"
        "<h1>Hello&nbsp;Ann</h1><p>Line one<br>line two</p><ul><li>One</li><li>Two</li></ul>"
        '<p><a href="https://x.example/buy">Buy now</a> <a href="mailto:a@b.example">mail us</a></p>'
        "<script>alert(1)</script></body></html>"
    )
    text = html_to_text(html)
    assert text == (
        "Hello Ann\n\nLine one\nline two\n\n- One\n- Two\n\nBuy now (https://x.example/buy) mail us"
    )
    message = send(template(html=html))
    assert message.text.startswith(text)
    assert message.text.rstrip().endswith(f"Unsubscribe: {message.unsubscribe_url}")


def test_a_given_text_part_is_used_and_gets_the_unsubscribe_address():
    message = send(template(text="Hi {{ first_name }}, see https://x.example"))
    assert message.text.startswith("Hi Ann, see https://x.example")
    assert message.unsubscribe_url is not None
    assert message.unsubscribe_url in message.text


def test_html_to_text_never_fails_on_broken_html():
    assert html_to_text("<p>unclosed <b>bold <a href='https://x.example'>link") == ("unclosed bold link")
    assert html_to_text("") == ""


# ---------------------------------------------------------------- headers and MIME


def test_the_message_carries_every_deliverability_and_outbox_header():
    message = send(template(**{"from": "Acme Events <events@example.com>", "reply_to": "help@example.com"}))
    headers = parsed(message)
    assert headers["From"] == "Acme Events <events@example.com>"
    assert headers["To"] == "ann@example.org"
    assert headers["Reply-To"] == "help@example.com"
    assert headers["Subject"] == "Welcome, Ann"
    assert headers["Message-ID"] == "<msg_01@example.com>"
    assert headers["Date"] == "Tue, 01 Dec 2026 10:00:00 +0000"
    assert headers["List-Unsubscribe"] == (
        f"<{message.unsubscribe_url}>, <mailto:unsubscribe@example.com?subject=unsubscribe>"
    )
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["X-Leadflow-Message-Id"] == "msg_01"
    assert headers["X-Leadflow-Flow-Id"] == "welcome"
    assert headers["X-Leadflow-Step-Id"] == "intro"
    assert headers["X-Leadflow-Contact-Id"] == "c_01"
    assert headers.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in headers.iter_parts()] == ["text/plain", "text/html"]
    # the raw List-Unsubscribe is one plain line, not an encoded word a mailbox could not read
    raw_line = next(line for line in message.raw.split(b"\r\n") if line.startswith(b"List-Unsubscribe:"))
    assert b"=?" not in raw_line
    assert max(len(line) for line in message.raw.split(b"\r\n")) <= 998


def test_the_default_sender_and_no_mailto_when_none_is_configured():
    plain = Sending(BASE, KEY, "news@example.com")
    message = compose(template(), contact(), ids=IDS, sending=plain, now=NOW)
    headers = parsed(message)
    assert headers["From"] == "news@example.com"
    assert headers["List-Unsubscribe"] == f"<{message.unsubscribe_url}>"
    assert "Reply-To" not in headers


def test_the_same_message_id_builds_the_same_links_and_message_id_header():
    first, second = send(), send()
    assert parsed(first)["Message-ID"] == parsed(second)["Message-ID"]
    assert first.html == second.html


def test_a_non_ascii_subject_is_rfc_2047_encoded_and_round_trips():
    message = send(template(subject="Grüße, {{ first_name }} 🎉"), contact(fields={"first_name": "Zoë"}))
    raw_subject = next(line for line in message.raw.split(b"\r\n") if line.startswith(b"Subject:"))
    assert raw_subject.isascii()
    assert b"=?utf-8?" in raw_subject
    assert parsed(message)["Subject"] == "Grüße, Zoë 🎉"


def test_an_international_domain_is_sent_in_ascii_and_a_non_ascii_local_part_is_refused():
    message = send(who=contact(email="ann@bücher.example", email_key="ann@bücher.example"))
    assert parsed(message)["To"] == "ann@xn--bcher-kva.example"
    with pytest.raises(UnsendableAddressError, match="local part"):
        send(who=contact(email="jöe@example.com", email_key="jöe@example.com"))


_HOSTILE = st.lists(
    st.sampled_from(["a", " ", "\r", "\n", "\r\n", ":", "Bcc: x@evil.example", "\x00", "\u2028", "é"]),
    max_size=12,
).map("".join)


@settings(max_examples=150, deadline=None)
@given(first_name=_HOSTILE, company=_HOSTILE)
def test_no_contact_field_can_inject_a_header(first_name: str, company: str):
    tpl = template(subject="Hi {{ first_name }} {{ company }} x", html="<p>{{ first_name }}{{ company }}</p>")
    message = send(tpl, contact(fields={"first_name": first_name, "company": company}))
    headers = parsed(message)
    assert "Bcc" not in headers
    assert "\n" not in headers["Subject"]
    assert "\r" not in headers["Subject"]
    assert headers["To"] == "ann@example.org"
    names = {name.lower() for name in headers}
    assert names == {
        "from", "to", "subject", "date", "message-id", "list-unsubscribe", "list-unsubscribe-post",
        "x-leadflow-kind", "x-leadflow-message-id", "x-leadflow-contact-id", "x-leadflow-flow-id",
        "x-leadflow-step-id", "mime-version", "content-type",
    }  # fmt: skip


# ---------------------------------------------------------------- the double opt-in confirmation


def test_the_confirmation_email_has_one_confirm_link_and_no_tracking():
    pending = contact(status="pending")
    message = compose_confirmation(
        pending, form_id="newsletter", message_id="msg_c1", sending=SENDING, now=NOW
    )
    [confirm_token] = tokens_in(message.html, "confirm")
    payload = verify(confirm_token, KEY, Kind.CONFIRM)
    assert (payload.contact_id, payload.flow_id, payload.step_id) == ("c_01", "newsletter", "confirm")
    assert "/v1/t/o/" not in message.html
    assert "/v1/t/c/" not in message.html
    assert tokens_in(message.text, "confirm") == [confirm_token]
    headers = parsed(message)
    assert "List-Unsubscribe" not in headers
    assert headers["X-Leadflow-Kind"] == "confirmation"
    assert headers["Subject"] == BUILT_IN.subject
    assert headers["From"] == "Acme <news@example.com>"


def test_a_bundles_confirmation_template_replaces_the_wording_and_still_gets_the_link():
    override = template(
        id="confirm-subscription", subject="Confirm, {{ first_name }}", html="<p>Please confirm.</p>"
    )
    message = compose_confirmation(
        contact(status="pending"),
        form_id="newsletter",
        message_id="msg_c1",
        sending=SENDING,
        now=NOW,
        template=override,
    )
    assert message.subject == "Confirm, Ann"
    assert len(tokens_in(message.html, "confirm")) == 1
    assert len(tokens_in(message.text, "confirm")) == 1
