"""The local outbox reads any raw message SES accepted, and shows it safely.

Messages are built with the standard ``email`` package (as the MIME composer builds them) or
written by hand where the point is a message no composer would build.
"""

from __future__ import annotations

import base64
import html
import json
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP

from hypothesis import given, settings
from hypothesis import strategies as st

from leadflow_local.moto_bridge import SentMail
from leadflow_local.outbox import (
    OutboxReader,
    link_kind,
    list_page,
    matches,
    message_page,
    read_message,
    read_outbox,
)

BASE = "http://127.0.0.1:3000"
CLICK = f"{BASE}/v1/t/c/abc.def"
UNSUBSCRIBE = f"{BASE}/v1/unsubscribe/uvw.xyz"
PIXEL = f"{BASE}/v1/t/o/opq.rst"
SENT_AT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def raw(text: str, *, sent_at: datetime | None = SENT_AT) -> SentMail:
    return SentMail(
        id="ses-1", source="news@example.com", destinations=["ada@example.com"], raw=text, sent_at=sent_at
    )


def composed(**extra_headers: str) -> str:
    message = EmailMessage(policy=SMTP)
    message["From"] = "News <news@example.com>"
    message["To"] = "ada@example.com"
    message["Subject"] = "Grüße aus Köln: the webinar starts soon"
    message["List-Unsubscribe"] = f"<{UNSUBSCRIBE}>, <mailto:unsubscribe@example.com>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["X-Leadflow-Message-Id"] = "msg-1"
    message["X-Leadflow-Contact-Id"] = "contact-1"
    message["X-Leadflow-Flow-Id"] = "welcome"
    message["X-Leadflow-Step-Id"] = "day-1"
    message["X-Leadflow-Kind"] = "flow"
    for name, value in extra_headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(f"Hello Ada, join us: {CLICK}\nUnsubscribe: {UNSUBSCRIBE}\n")
    message.add_alternative(
        f"<p>Hello Ada, <a href='{CLICK}'>join <b>the</b>\n webinar</a>.</p>"
        f"<img src='{PIXEL}' alt=''><p><a href=\"{UNSUBSCRIBE}\">Unsubscribe</a></p>",
        subtype="html",
    )
    return message.as_string(policy=SMTP)


def test_a_composed_message_gives_every_header_in_order_its_parts_and_its_ids() -> None:
    message = read_message(0, raw(composed()))
    body = message.to_json(BASE)

    assert body["to"] == ["ada@example.com"]
    # The subject was RFC 2047 encoded on the wire; the outbox shows it decoded
    assert body["subject"] == "Grüße aus Köln: the webinar starts soon"
    assert "=?utf-8?" in (message.raw or "")
    names = [name for name, _ in body["headers"]]
    assert names[:5] == ["From", "To", "Subject", "List-Unsubscribe", "List-Unsubscribe-Post"]
    assert ["X-Leadflow-Flow-Id", "welcome"] in body["headers"]
    assert (body["flow_id"], body["step_id"], body["message_id"], body["contact_id"], body["kind"]) == (
        "welcome",
        "day-1",
        "msg-1",
        "contact-1",
        "flow",
    )
    assert body["text"].startswith("Hello Ada, join us:")
    assert "<a href='" in body["html"]
    assert body["sent_at"] == "2026-12-01T09:30:00.000Z"
    assert body["view"] == f"{BASE}/_local/outbox/0"
    assert body["problems"] == []


def test_links_carry_their_text_and_kind_and_the_text_part_adds_only_new_urls() -> None:
    body = read_message(0, raw(composed())).to_json(BASE)

    assert body["links"] == [
        {"href": CLICK, "text": "join the webinar", "kind": "click", "part": "html"},
        {"href": UNSUBSCRIBE, "text": "Unsubscribe", "kind": "unsubscribe", "part": "html"},
    ]
    assert body["images"] == [{"href": PIXEL, "text": "", "kind": "open", "part": "html"}]
    assert body["open_pixel"] == PIXEL
    assert body["unsubscribe_url"] == UNSUBSCRIBE
    assert body["list_unsubscribe"] == [UNSUBSCRIBE, "mailto:unsubscribe@example.com"]
    assert body["one_click_unsubscribe"] is True


def test_the_short_id_header_names_are_read_too() -> None:
    text = (
        "From: a@example.com\r\nTo: b@example.com\r\nSubject: hi\r\n"
        "X-Leadflow-Flow: cart\r\nX-Leadflow-Step: remind\r\nX-Leadflow-Contact: c-9\r\n"
        "X-Leadflow-Message: m-9\r\n\r\nbody\r\n"
    )
    body = read_message(3, raw(text)).to_json(BASE)
    assert (body["flow_id"], body["step_id"], body["contact_id"], body["message_id"]) == (
        "cart",
        "remind",
        "c-9",
        "m-9",
    )
    assert body["kind"] is None
    assert body["index"] == 3


def test_a_plain_non_multipart_message_has_text_and_no_html() -> None:
    body = read_message(
        0, raw("From: a@example.com\nTo: b@example.com\nSubject: plain\n\nJust text.\n")
    ).to_json(BASE)
    assert body["text"] == "Just text.\n"
    assert body["html"] is None
    assert body["links"] == []
    assert body["flow_id"] is None


def test_base64_and_quoted_printable_parts_are_decoded_in_their_charsets() -> None:
    html_part = base64.b64encode("<p>Prix: 10 €</p>".encode()).decode()
    text = (
        "From: a@example.com\r\nTo: b@example.com\r\nSubject: =?iso-8859-1?q?Caf=E9?=\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=XX\r\n\r\n"
        "--XX\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n\r\nCaf=E9 cr=E8me, a soft=\r\n line\r\n"
        "--XX\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        f"{html_part}\r\n--XX--\r\n"
    )
    body = read_message(0, raw(text)).to_json(BASE)
    assert body["subject"] == "Café"
    assert body["text"].startswith("Café crème, a soft line")
    assert body["html"] == "<p>Prix: 10 €</p>"
    assert [part["content_type"] for part in body["parts"]] == ["text/plain", "text/html"]


def test_an_unknown_charset_and_broken_base64_still_give_text_with_a_note() -> None:
    text = (
        "From: a@example.com\r\nTo: b@example.com\r\nSubject: odd\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
        "--B\r\nContent-Type: text/plain; charset=x-no-such-charset\r\n\r\nhello\r\n"
        "--B\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        "!!!not base64 at all\r\n--B\r\nContent-Type: application/pdf; name=a.pdf\r\n"
        "Content-Disposition: attachment; filename=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        "JVBERi0=\r\n--B--\r\n"
    )
    message = read_message(0, raw(text))
    assert message.text is not None
    assert "hello" in message.text
    assert message.html is not None  # whatever bytes could be had, never an error
    assert any("did not decode cleanly" in problem for problem in message.problems)
    assert [(part.content_type, part.filename) for part in message.parts][-1] == ("application/pdf", "a.pdf")


def test_a_missing_closing_boundary_and_missing_headers_are_shown_not_refused() -> None:
    text = "Content-Type: multipart/alternative; boundary=Q\r\n\r\n--Q\r\nContent-Type: text/html\r\n\r\n<a href=x>"
    message = read_message(0, raw(text, sent_at=None))
    body = message.to_json(BASE)
    assert body["subject"] == ""
    assert body["to"] == ["ada@example.com"]  # from the SES envelope when the To header is missing
    assert body["sent_at"] is None
    assert body["links"] == [
        {"href": "x", "text": "", "kind": "other", "part": "html"}
    ]  # unclosed, still counts
    assert any(problem.startswith("MIME defect") for problem in body["problems"])


def test_a_malformed_address_header_is_decoded_by_hand() -> None:
    text = 'From: a@example.com\r\nTo: =?utf-8?b?w6k=?= <<<@@>>>, "\r\nSubject: x\r\n\r\nbody'
    message = read_message(0, raw(text))
    # The header registry refuses this To; the outbox still decodes its RFC 2047 word
    assert message.header("To") == 'é <<<@@>>>, "'
    assert message.problems == ["the To header is malformed; shown as decoded words"]
    assert message.text == "body"


def test_an_8bit_utf8_body_and_raw_utf8_headers_decode_as_sent() -> None:
    text = (
        "From: Jürgen <j@example.com>\r\nTo: b@example.com\r\nSubject: Grüße\r\n"
        "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n<p>Grüße €</p>"
    )
    message = read_message(0, raw(text))
    assert message.html == "<p>Grüße €</p>"
    assert message.subject == "Grüße"
    assert message.sender == "Jürgen <j@example.com>"


def test_lone_surrogates_never_reach_a_page() -> None:
    message = read_message(0, raw("Subject: a\ud800b\r\nX-Odd: \udcff\r\n\r\nbody \udc80"))
    json.dumps(message.to_json(BASE), ensure_ascii=False).encode("utf-8")
    message_page(message).encode("utf-8")
    assert message.subject == "a?b"


def test_simple_content_shows_its_body_and_says_the_headers_are_lost() -> None:
    sent = SentMail(
        id="s", source="a@example.com", destinations=["b@example.com"], subject="S", body="<p>Hi</p>"
    )
    body = read_message(0, sent).to_json(BASE)
    assert body["html"] == "<p>Hi</p>"
    assert body["text"] is None
    assert "simple content" in body["problems"][0]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_any_text_at_all_reads_without_an_error(text: str) -> None:
    message = read_message(0, raw(text))
    json.dumps(message.to_json(BASE)).encode("utf-8")
    message_page(message).encode("utf-8")
    list_page([message]).encode("utf-8")


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_decoded_as_moto_does_read_without_an_error(data: bytes) -> None:
    message = read_message(0, raw(data.decode("utf-8", errors="replace")))
    json.dumps(message.to_json(BASE)).encode("utf-8")
    message_page(message).encode("utf-8")
    list_page([message]).encode("utf-8")


def test_the_html_part_is_sandboxed_and_escaped_into_srcdoc() -> None:
    hostile = (
        "From: a@example.com\r\nTo: b@example.com\r\nSubject: <script>alert(1)</script>\r\n"
        "Content-Type: text/html\r\n\r\n"
        "<script>parent.document.title='owned'</script>\"><a href='javascript:alert(1)'>x</a>"
        f"<a href='{CLICK}'>go</a>"
    )
    page = message_page(read_message(0, raw(hostile)))

    frames = re.findall(r"<iframe[^>]*>", page)
    assert len(frames) == 1
    assert "sandbox='allow-popups allow-popups-to-escape-sandbox'" in frames[0]
    assert "allow-scripts" not in frames[0]
    assert "allow-same-origin" not in frames[0]
    # The email's markup is only inside the srcdoc attribute, escaped, with links opening a new tab
    srcdoc = html.unescape(re.search(r'srcdoc="([^"]*)"', frames[0]).group(1))  # type: ignore[union-attr]
    assert srcdoc.startswith("<base target='_blank'>")
    assert "<script>parent.document.title" in srcdoc
    outside = page.replace(frames[0], "")
    assert "<script>" not in outside
    # The page's own link list makes only http(s) links clickable
    assert f'href="{CLICK}"' in outside
    assert 'href="javascript:' not in outside


def test_the_list_is_newest_first_with_time_to_subject_and_flow_step() -> None:
    first = read_message(0, raw(composed()))
    second = read_message(1, raw("From: a@example.com\r\nTo: zoe@example.com\r\nSubject: Second\r\n\r\nx"))
    page = list_page([first, second])
    assert page.index("Second") < page.index("Grüße")
    assert "welcome / day-1" in page
    assert "2026-12-01T09:30:00" in page
    assert "/_local/outbox/1" in page
    assert "No email sent yet" in list_page([])


def test_read_outbox_numbers_messages_by_position() -> None:
    messages = read_outbox([raw("Subject: a\r\n\r\n"), raw("Subject: b\r\n\r\n")])
    assert [(message.index, message.subject) for message in messages] == [(0, "a"), (1, "b")]


def test_link_kinds_follow_the_stack_routes() -> None:
    assert link_kind(f"{BASE}/v1/t/c/x") == "click"
    assert link_kind(f"{BASE}/v1/t/o/x") == "open"
    assert link_kind(f"{BASE}/v1/unsubscribe/x") == "unsubscribe"
    assert link_kind(f"{BASE}/v1/confirm/x") == "confirm"
    assert link_kind("https://www.example.com/v1") == "other"
    assert link_kind("http://[::1") == "other"  # an unparsable URL is just "other"


def test_a_url_only_in_the_text_part_is_listed_as_a_text_link() -> None:
    text = (
        "From: a@example.com\r\nTo: b@example.com\r\nSubject: t\r\n\r\n"
        f"Confirm: {BASE}/v1/confirm/tok.sig.\r\nOr (see {BASE}/v1/t/c/a.b), thanks.\r\n"
    )
    body = read_message(0, raw(text)).to_json(BASE)
    # sentence punctuation and brackets around a URL are not part of it
    assert body["links"] == [
        {"href": f"{BASE}/v1/confirm/tok.sig", "text": "", "kind": "confirm", "part": "text"},
        {"href": f"{BASE}/v1/t/c/a.b", "text": "", "kind": "click", "part": "text"},
    ]


def test_filters_match_part_of_the_address_and_subject_and_the_exact_ids() -> None:
    message = read_message(0, raw(composed()))
    assert matches(message, {})
    assert matches(message, {"to": "ADA@", "flow": "welcome", "step": "day-1", "contact": "contact-1"})
    assert matches(message, {"subject": "webinar", "kind": "flow"})
    assert not matches(message, {"flow": "welcom"})
    assert not matches(message, {"to": "zoe"})
    assert not matches(message, {"step": "day-2"})


def test_the_one_click_header_gets_a_button_that_posts_what_a_mailbox_posts() -> None:
    page = message_page(read_message(0, raw(composed())))
    form = re.search(r"<form method='post' action=\"([^\"]*)\" target='_blank'>(.*?)</form>", page)
    assert form is not None
    assert html.unescape(form.group(1)) == UNSUBSCRIBE
    assert "name='List-Unsubscribe' value='One-Click'" in form.group(2)
    # the mailto: URI of the same header gets no button
    assert page.count("One-click unsubscribe") == 1
    # without List-Unsubscribe-Post there is no one-click button
    plain = composed().replace("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n", "")
    assert "One-click unsubscribe" not in message_page(read_message(0, raw(plain)))


def test_a_filtered_empty_list_says_no_match_and_offers_no_emptying() -> None:
    page = list_page([], {"flow": "welcome"})
    assert "No message matches" in page
    assert "flow = welcome" in page
    assert "/_local/outbox/clear" not in page


def test_the_reader_parses_each_message_once_and_forgets_an_emptied_outbox() -> None:
    reader = OutboxReader()
    first = SentMail(id="a", source="s@example.com", destinations=[], raw="Subject: one\r\n\r\n")
    second = SentMail(id="b", source="s@example.com", destinations=[], raw="Subject: two\r\n\r\n")
    before = reader.read([first])
    after = reader.read([first, second])
    assert after[0] is before[0]
    assert [message.subject for message in after] == ["one", "two"]
    # emptied, then a new message at position 0: it is read, not the old one reused
    third = SentMail(id="c", source="s@example.com", destinations=[], raw="Subject: three\r\n\r\n")
    assert [message.subject for message in reader.read([third])] == ["three"]
