"""The local outbox: every email the stack sent through moto's SES, parsed for people and for tests.

``read_message`` turns what SES accepted into an :class:`OutboxMessage`: the headers in their
order (RFC 2047 words decoded), the text and HTML parts (base64 and quoted-printable decoded,
in their charsets), the ``X-Leadflow-*`` ids, and every link with its text and what it is (a
tracked click, the unsubscribe link, a confirmation link). Any raw message parses: a part or a
header the ``email`` package cannot read is shown as it came, with a note, never an error.

``list_page`` and ``message_page`` are the HTML a person reads. The message's own HTML is shown
in an ``<iframe sandbox srcdoc>``: no script of the email runs and it cannot reach the page,
while its links open in a new tab outside the sandbox, so a click goes to the stack's real
``/v1/t/c/...`` and ``/v1/unsubscribe/...`` routes, as it would from a mailbox.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import logging
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.utils import getaddresses
from html import escape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from leadflow.clock import iso
from leadflow_local.moto_bridge import SentMail

log = logging.getLogger("leadflow_local")

#: The headers that name a message's origin. The MIME composer (domain/mail/mime.py) writes the
#: ``...-Id`` names; the short names are read too, for messages built by hand.
ID_HEADERS: dict[str, tuple[str, ...]] = {
    "message_id": ("X-Leadflow-Message-Id", "X-Leadflow-Message"),
    "contact_id": ("X-Leadflow-Contact-Id", "X-Leadflow-Contact"),
    "flow_id": ("X-Leadflow-Flow-Id", "X-Leadflow-Flow"),
    "step_id": ("X-Leadflow-Step-Id", "X-Leadflow-Step"),
    "kind": ("X-Leadflow-Kind",),
}

#: What a link of the stack's own is, by the path of its route (shared/API.md).
_LINK_KINDS = (
    ("/v1/t/c/", "click"),
    ("/v1/t/o/", "open"),
    ("/v1/unsubscribe/", "unsubscribe"),
    ("/v1/confirm/", "confirm"),
)
_ONE_CLICK = "List-Unsubscribe=One-Click"
_TEXT_URL = re.compile(r"https?://[^\s<>\"')\]]+")
_LOOKS_LIKE_HTML = re.compile(r"<\s*(html|body|p|a|div|table|br)\b", re.IGNORECASE)


def link_kind(url: str) -> str:
    """``click``, ``open``, ``unsubscribe``, ``confirm`` for the stack's routes; else ``other``."""
    try:
        path = urlsplit(url).path
    except ValueError:
        return "other"
    for prefix, kind in _LINK_KINDS:
        if path.startswith(prefix):
            return kind
    return "other"


@dataclass(frozen=True, slots=True)
class Link:
    """A link (or an image) of the message: where it goes, its words, what it is, which part has it."""

    href: str
    text: str
    kind: str
    part: str = "html"

    def to_json(self) -> dict[str, str]:
        return {"href": self.href, "text": self.text, "kind": self.kind, "part": self.part}


@dataclass(frozen=True, slots=True)
class Part:
    """A leaf of the MIME tree, for the message view (attachments are named, not shown)."""

    content_type: str
    filename: str | None
    size: int

    def to_json(self) -> dict[str, Any]:
        return {"content_type": self.content_type, "filename": self.filename, "size": self.size}


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    index: int
    ses_id: str
    sent_at: datetime | None
    sender: str
    to: list[str]
    destinations: list[str]
    subject: str
    headers: list[tuple[str, str]]
    text: str | None
    html: str | None
    ids: dict[str, str | None]
    links: list[Link]
    images: list[Link]
    parts: list[Part]
    list_unsubscribe: list[str]
    one_click: bool
    raw: str | None
    problems: list[str] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        """The first header called ``name`` (any case), or None."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    def links_of(self, kind: str) -> list[Link]:
        return [link for link in self.links if link.kind == kind]

    def to_json(self, base_url: str) -> dict[str, Any]:
        """The message for scripts and tests: everything a person sees, links first-class."""
        unsubscribe = self.links_of("unsubscribe")
        opens = [image.href for image in self.images if image.kind == "open"]
        return {
            "index": self.index,
            "ses_id": self.ses_id,
            "sent_at": iso(self.sent_at) if self.sent_at else None,
            "from": self.sender,
            "to": self.to,
            "destinations": self.destinations,
            "subject": self.subject,
            **self.ids,
            "headers": [[name, value] for name, value in self.headers],
            "text": self.text,
            "html": self.html,
            "links": [link.to_json() for link in self.links],
            "images": [image.to_json() for image in self.images],
            "open_pixel": opens[0] if opens else None,
            "unsubscribe_url": unsubscribe[0].href if unsubscribe else None,
            "list_unsubscribe": self.list_unsubscribe,
            "one_click_unsubscribe": self.one_click,
            "parts": [part.to_json() for part in self.parts],
            "problems": self.problems,
            "view": f"{base_url}/_local/outbox/{self.index}",
        }


# ----------------------------------------------------------------------------- parsing


def read_message(index: int, sent: SentMail) -> OutboxMessage:
    """What SES accepted, parsed; never raises for any content."""
    if sent.raw is None:
        return _simple_message(index, sent)
    try:
        # As bytes: moto decoded the message as UTF-8, so this gives back what was sent, and an
        # 8bit part decodes in its own charset (a str-parsed 8bit part comes out garbled).
        data = _clean(sent.raw).encode("utf-8")
        parsed = email.message_from_bytes(data, policy=email.policy.default)
    except Exception as error:  # the parser is lenient; this is a last resort, shown on the page
        return _unreadable(index, sent, f"the message does not parse: {type(error).__name__}")
    problems: list[str] = []
    headers = [(_clean(name), _header_text(name, value, problems)) for name, value in parsed.raw_items()]
    text, html, parts = _bodies(parsed, problems)
    text, html = (_clean(text) if text is not None else None), (_clean(html) if html is not None else None)
    problems.extend(_defects(parsed))

    def first(name: str) -> str | None:
        return next((value for key, value in headers if key.lower() == name.lower()), None)

    to = _addresses([value for key, value in headers if key.lower() == "to"])
    links, images = _html_links(html) if html else ([], [])
    if text:
        known = {link.href for link in links}
        links += [
            Link(url, "", link_kind(url), "text")
            for url in dict.fromkeys(_text_urls(text))
            if url not in known
        ]
    list_unsubscribe = _bracketed(first("List-Unsubscribe") or "")
    return OutboxMessage(
        index=index,
        ses_id=sent.id,
        sent_at=sent.sent_at,
        sender=first("From") or sent.source,
        to=to or list(sent.destinations),
        destinations=list(sent.destinations),
        subject=first("Subject") or "",
        headers=headers,
        text=text,
        html=html,
        ids={key: _first_of(headers, names) for key, names in ID_HEADERS.items()},
        links=links,
        images=images,
        parts=parts,
        list_unsubscribe=list_unsubscribe,
        one_click=(first("List-Unsubscribe-Post") or "").strip() == _ONE_CLICK,
        raw=sent.raw,
        problems=problems,
    )


def read_outbox(sent: list[SentMail]) -> list[OutboxMessage]:
    """Oldest first, as SES accepted them; ``index`` is the position, stable while mail is added."""
    return [read_message(index, message) for index, message in enumerate(sent)]


class OutboxReader:
    """``read_outbox`` that parses each message once: a sent message never changes, and parsing
    costs about 5 ms (the header registry), so an outbox of 1,000 would take 5 s a page."""

    def __init__(self) -> None:
        self._parsed: dict[tuple[int, str], OutboxMessage] = {}
        self._lock = threading.Lock()

    def read(self, sent: list[SentMail]) -> list[OutboxMessage]:
        keys = [(index, message.id) for index, message in enumerate(sent)]
        with self._lock:
            known = {key: self._parsed[key] for key in keys if key in self._parsed}
        result = [
            known.get(key) or read_message(key[0], message) for key, message in zip(keys, sent, strict=True)
        ]
        with self._lock:  # keep only what is still in the outbox (emptied, it starts again at 0)
            self._parsed = {key: message for key, message in zip(keys, result, strict=True) if key[1]}
        return result


#: The list's query filters: ``?to=ada@example.com&flow=welcome`` (all must hold).
FILTERS = ("to", "flow", "step", "contact", "kind", "subject")


def matches(message: OutboxMessage, filters: dict[str, str]) -> bool:
    """``to`` and ``subject`` match a part of the text (any case); the ids match exactly."""
    for name, wanted in filters.items():
        if name == "to":
            if not any(wanted.lower() in address.lower() for address in message.to + message.destinations):
                return False
        elif name == "subject":
            if wanted.lower() not in message.subject.lower():
                return False
        elif message.ids.get(name if name == "kind" else f"{name}_id") != wanted:
            return False
    return True


def _simple_message(index: int, sent: SentMail) -> OutboxMessage:
    """``Content.Simple``: moto keeps only subject and one body (and drops the custom headers)."""
    is_html = bool(_LOOKS_LIKE_HTML.search(sent.body))
    html = sent.body if is_html else None
    links, images = _html_links(html) if html else ([], [])
    if not is_html:
        links = [Link(url, "", link_kind(url), "text") for url in dict.fromkeys(_text_urls(sent.body))]
    headers = [("From", sent.source), ("To", ", ".join(sent.destinations)), ("Subject", sent.subject)]
    return OutboxMessage(
        index=index,
        ses_id=sent.id,
        sent_at=sent.sent_at,
        sender=sent.source,
        to=list(sent.destinations),
        destinations=list(sent.destinations),
        subject=sent.subject,
        headers=headers,
        text=None if is_html else sent.body,
        html=html,
        ids=dict.fromkeys(ID_HEADERS),
        links=links,
        images=images,
        parts=[],
        list_unsubscribe=[],
        one_click=False,
        raw=None,
        problems=["sent as simple content: SES (and moto) keep no custom headers; send raw MIME"],
    )


def _unreadable(index: int, sent: SentMail, problem: str) -> OutboxMessage:
    return OutboxMessage(
        index=index,
        ses_id=sent.id,
        sent_at=sent.sent_at,
        sender=sent.source,
        to=list(sent.destinations),
        destinations=list(sent.destinations),
        subject="",
        headers=[],
        text=_clean(sent.raw or ""),
        html=None,
        ids=dict.fromkeys(ID_HEADERS),
        links=[],
        images=[],
        parts=[],
        list_unsubscribe=[],
        one_click=False,
        raw=sent.raw,
        problems=[problem],
    )


def _header_text(name: str, raw_value: str, problems: list[str]) -> str:
    """A header's value as a person reads it: unfolded, RFC 2047 words decoded."""
    try:
        return _clean(str(email.policy.default.header_fetch_parse(name, raw_value)))
    except Exception:  # the header registry refuses some malformed values; decode by hand
        problems.append(f"the {_clean(name)} header is malformed; shown as decoded words")
    unfolded = _clean(re.sub(r"\r?\n[ \t]", " ", raw_value).strip())
    try:
        return _clean(str(make_header(decode_header(unfolded))))
    except Exception:
        return unfolded


def _clean(text: str) -> str:
    """Raw 8-bit bytes the parser kept as surrogates, read as UTF-8 (what moto decoded them from)."""
    if text.isascii():
        return text
    try:
        return text.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="replace")
    except UnicodeEncodeError:  # a lone surrogate no byte stands for: replace it
        return text.encode("utf-8", errors="replace").decode("utf-8")


def _first_of(headers: list[tuple[str, str]], names: tuple[str, ...]) -> str | None:
    wanted = [name.lower() for name in names]
    for name in wanted:
        for key, value in headers:
            if key.lower() == name:
                return value.strip()
    return None


def _addresses(values: list[str]) -> list[str]:
    """Each address of the To headers, as ``Name <a@b>`` or ``a@b``."""
    result = []
    for value in values:
        try:
            pairs = getaddresses([value])
        except Exception:
            pairs = []
        found = [f"{name} <{addr}>" if name else addr for name, addr in pairs if addr]
        result.extend(found or ([value.strip()] if value.strip() else []))
    return result


def _bracketed(value: str) -> list[str]:
    """The URIs of an RFC 2369 header: ``<mailto:...>, <https://...>``."""
    return [uri.strip() for uri in re.findall(r"<([^<>]*)>", value) if uri.strip()]


def _bodies(message: Message, problems: list[str]) -> tuple[str | None, str | None, list[Part]]:
    """The first inline text/plain and text/html parts, decoded, and every leaf part."""
    text = html = None
    parts: list[Part] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        kind = part.get_content_type()
        filename = _filename(part)
        content = _content(part, problems)
        parts.append(Part(kind, filename, len(content) if content is not None else 0))
        if content is None or filename or part.get_content_disposition() == "attachment":
            continue
        if kind == "text/plain" and text is None:
            text = content
        elif kind == "text/html" and html is None:
            html = content
    return text, html, parts


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:
        return None
    return _clean(str(name)) if name else None


def _content(part: Message, problems: list[str]) -> str | None:
    """A text part's decoded text (its transfer encoding and charset undone); None for others."""
    if part.get_content_maintype() != "text":
        return None
    if isinstance(part, EmailMessage):
        try:
            content = part.get_content()
            if isinstance(content, str):
                return content
        except Exception:  # an unknown charset, a broken encoding: decode the bytes leniently
            problems.append(f"a {part.get_content_type()} part did not decode cleanly")
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return str(part.get_payload()) if part.get_payload() else ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:
        return payload.decode("utf-8", errors="replace")


def _defects(message: Message) -> list[str]:
    names: list[str] = []
    for part in message.walk():
        names.extend(type(defect).__name__ for defect in part.defects)
    return [f"MIME defect: {name}" for name in dict.fromkeys(names)]


def _text_urls(text: str) -> list[str]:
    return [url.rstrip(".,;:!?") for url in _TEXT_URL.findall(text)]


class _LinkCollector(HTMLParser):
    """``<a href>`` with their text, and ``<img src>`` (the open pixel among them)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[Link] = []
        self.images: list[Link] = []
        self._open: list[tuple[str, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "a" and values.get("href"):
            self._open.append((values["href"].strip(), []))
        elif tag == "img" and values.get("src"):
            src = values["src"].strip()
            self.images.append(Link(src, values.get("alt", ""), link_kind(src)))

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open:
            self._close()

    def handle_data(self, data: str) -> None:
        for _, words in self._open:
            words.append(data)

    def close(self) -> None:
        super().close()
        while self._open:  # an <a> never closed still counts
            self._close()

    def _close(self) -> None:
        href, words = self._open.pop()
        self.links.append(Link(href, " ".join("".join(words).split()), link_kind(href)))


def _html_links(html: str) -> tuple[list[Link], list[Link]]:
    collector = _LinkCollector()
    try:
        collector.feed(html)
    except Exception:  # HTMLParser is lenient; keep what it found
        log.debug("the HTML part did not parse to the end", exc_info=True)
    with contextlib.suppress(Exception):
        collector.close()
    return collector.links, collector.images


# ----------------------------------------------------------------------------- pages

_STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1d2330;background:#f5f6f8}
header{background:#1d2330;color:#fff;padding:.8rem 1.5rem;display:flex;gap:1.5rem;align-items:center}
header a{color:#cfe0ff}main{padding:1rem 1.5rem;max-width:72rem}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid #e3e6eb;vertical-align:top}
th{font-size:.8rem;text-transform:uppercase;color:#5b6475}
code,pre{font:13px/1.4 ui-monospace,monospace}pre{white-space:pre-wrap;background:#fff;padding:.8rem}
iframe{width:100%;height:32rem;border:1px solid #cfd4dc;background:#fff}
.muted{color:#5b6475}.problem{color:#9a3412}dl{display:grid;grid-template-columns:8rem 1fr;gap:.2rem 1rem}
dt{color:#5b6475}dd{margin:0}form{display:inline}
"""


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        "<header><strong>Leadflow local outbox</strong>"
        "<a href='/_local/outbox'>all messages</a>"
        "<a href='/_local/outbox?format=json'>JSON</a></header>"
        f"<main>{body}</main></body></html>"
    )


def _when(message: OutboxMessage) -> str:
    return iso(message.sent_at) if message.sent_at else "-"


def _origin(message: OutboxMessage) -> str:
    flow, step = message.ids.get("flow_id"), message.ids.get("step_id")
    if flow or step:
        return f"{escape(flow or '-')} / {escape(step or '-')}"
    return escape(message.ids.get("kind") or "-")


def list_page(messages: list[OutboxMessage], filters: dict[str, str] | None = None) -> str:
    """Newest first: when, to, subject, flow/step; each row opens the message."""
    filters = filters or {}
    rows = "".join(
        "<tr>"
        f"<td>{message.index}</td><td>{escape(_when(message))}</td>"
        f"<td>{escape(', '.join(message.to))}</td>"
        f"<td><a href='/_local/outbox/{message.index}'>{escape(message.subject or '(no subject)')}</a></td>"
        f"<td>{_origin(message)}</td>"
        "</tr>"
        for message in reversed(messages)
    )
    if messages:
        table = (
            "<table><thead><tr><th>#</th><th>sent (stack time)</th><th>to</th><th>subject</th>"
            f"<th>flow / step</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    elif filters:
        table = "<p class='muted'>No message matches.</p>"
    else:
        table = "<p class='muted'>No email sent yet. Every message SES accepts shows up here.</p>"
    clear = (
        "<form method='post' action='/_local/outbox/clear'><button>Empty the outbox</button></form>"
        if messages and not filters
        else ""
    )
    count = f"{len(messages)} message{'s' if len(messages) != 1 else ''}"
    if filters:
        shown = ", ".join(f"{name} = {value}" for name, value in filters.items())
        count += f" where {escape(shown)} (<a href='/_local/outbox'>all</a>)"
    return _page("Outbox", f"<h1>Outbox</h1><p class='muted'>{count}. {clear}</p>{table}")


def message_page(message: OutboxMessage) -> str:
    """One message: its facts, its links, the HTML in a sandbox, the text part and every header."""
    facts = [
        ("Sent", _when(message) + " (stack time)" if message.sent_at else "-"),
        ("From", message.sender),
        ("To", ", ".join(message.to)),
        ("Subject", message.subject),
        *((name.replace("_", " ").capitalize(), value) for name, value in message.ids.items() if value),
        ("SES id", message.ses_id),
    ]
    sections = [
        f"<h1>{escape(message.subject or '(no subject)')}</h1>",
        "<dl>" + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts) + "</dl>",
    ]
    if message.problems:
        items = "".join(f"<li>{escape(problem)}</li>" for problem in message.problems)
        sections.append(f"<h2>Problems</h2><ul class='problem'>{items}</ul>")
    sections.append(_links_section(message))
    if message.html is not None:
        sections.append(
            "<h2>HTML part</h2><p class='muted'>Shown in a sandbox: no script runs; links open in a "
            "new tab against this stack, and images load as in a mail client (the open pixel "
            "records an open).</p>"
            f"<iframe title='HTML part' sandbox='allow-popups allow-popups-to-escape-sandbox' "
            f"referrerpolicy='no-referrer' srcdoc=\"{escape(_in_new_tab(message.html), quote=True)}\">"
            "</iframe>"
        )
    if message.text is not None:
        sections.append(f"<h2>Text part</h2><pre>{escape(message.text)}</pre>")
    if message.parts:
        items = "".join(
            f"<li><code>{escape(part.content_type)}</code>"
            f"{' ' + escape(part.filename) if part.filename else ''} ({part.size} characters)</li>"
            for part in message.parts
        )
        sections.append(f"<h2>Parts</h2><ul>{items}</ul>")
    rows = "".join(
        f"<tr><td><code>{escape(name)}</code></td><td><code>{escape(value)}</code></td></tr>"
        for name, value in message.headers
    )
    sections.append(f"<h2>Headers</h2><table><tbody>{rows}</tbody></table>")
    sections.append(f"<p><a href='/_local/outbox/{message.index}?format=json'>this message as JSON</a></p>")
    return _page(message.subject or "Outbox message", "".join(sections))


def _links_section(message: OutboxMessage) -> str:
    items = [
        f"<li>{escape(link.kind)}: <a href=\"{escape(link.href, quote=True)}\" target='_blank' "
        f"rel='noopener noreferrer'>{escape(link.text or link.href)}</a></li>"
        for link in message.links
        if _is_web(link.href)
    ]
    items += [
        f"<li>List-Unsubscribe: <code>{escape(uri)}</code>{_one_click_button(uri) if message.one_click else ''}"
        "</li>"
        for uri in message.list_unsubscribe
    ]
    if not items:
        return ""
    return f"<h2>Links</h2><ul>{''.join(items)}</ul>"


def _one_click_button(uri: str) -> str:
    """What a mailbox's unsubscribe button does (RFC 8058): POST ``List-Unsubscribe=One-Click``."""
    if not _is_web(uri):
        return ""
    return (
        f" <form method='post' action=\"{escape(uri, quote=True)}\" target='_blank'>"
        "<input type='hidden' name='List-Unsubscribe' value='One-Click'>"
        "<button>One-click unsubscribe, as a mailbox does</button></form>"
    )


def _is_web(url: str) -> bool:
    """Only http(s) links become clickable on the page itself: never ``javascript:``."""
    try:
        return urlsplit(url).scheme.lower() in ("http", "https")
    except ValueError:
        return False


def _in_new_tab(html: str) -> str:
    """The email's HTML with links opening a new tab (first ``<base>`` wins), out of the sandbox."""
    return "<base target='_blank'>" + html


def not_found_page(what: str) -> str:
    return _page("Not in the outbox", f"<h1>Not in the outbox</h1><p>{escape(what)}</p>")
