"""Tracking and preference links: every http(s) link through a signed click redirect, an open pixel,
and a visible unsubscribe link.

Links are found with the standard library's HTML parser, not a regular expression: an ``href``
in single quotes, without quotes, with entities (``&amp;``) or in upper case is still a link,
and a ``href`` written inside a comment or a script is not. Only the ``<a>`` start tags are
rewritten (spliced back at their exact place), the rest of the HTML is kept byte for byte.
``mailto:``, ``tel:``, ``#anchors``, relative links and this API's own links (unsubscribe,
confirm) are left alone.
"""

from __future__ import annotations

import html as html_escaping
import re
from dataclasses import dataclass
from html.parser import HTMLParser

from leadflow.domain.tokens import KeyLike, Kind, TokenPayload, check_url, sign

_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class LinkSigner:
    """Signs the links of one message: who got it, which message, from which flow step."""

    base_url: str
    key: KeyLike
    contact_id: str
    message_id: str
    issued_at: int
    flow_id: str | None = None
    step_id: str | None = None

    def _token(self, kind: Kind, url: str | None = None) -> str:
        payload = TokenPayload(
            kind=kind,
            contact_id=self.contact_id,
            message_id=self.message_id,
            issued_at=self.issued_at,
            flow_id=self.flow_id,
            step_id=self.step_id,
            url=url,
        )
        return sign(payload, self.key)

    @property
    def api_prefix(self) -> str:
        return self.base_url.rstrip("/") + "/v1/"

    def click_url(self, target: str) -> str:
        return f"{self.api_prefix}t/c/{self._token(Kind.CLICK, target)}"

    def open_url(self) -> str:
        return f"{self.api_prefix}t/o/{self._token(Kind.OPEN)}"

    def unsubscribe_url(self) -> str:
        return f"{self.api_prefix}unsubscribe/{self._token(Kind.UNSUBSCRIBE)}"

    def confirm_url(self) -> str:
        return f"{self.api_prefix}confirm/{self._token(Kind.CONFIRM)}"


class _AnchorFinder(HTMLParser):
    """Records every ``<a>`` start tag with its offset in the source and its attributes."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self._line_starts = [0] + [match.end() for match in re.finditer("\n", source)]
        self.anchors: list[tuple[int, str, list[tuple[str, str | None]], bool]] = []

    def _offset(self) -> int:
        line, column = self.getpos()
        return self._line_starts[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.anchors.append((self._offset(), self.get_starttag_text() or "", attrs, False))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.anchors.append((self._offset(), self.get_starttag_text() or "", attrs, True))


def _trackable(href: str, own_prefix: str) -> str | None:
    """The URL to sign into a click, or None for links that stay as they are."""
    url = href.strip()
    if url.startswith(own_prefix):
        return None
    try:
        return check_url(url)
    except ValueError:
        return None  # mailto:, tel:, #top, relative, or not a well-formed absolute URL


def _start_tag(attrs: list[tuple[str, str | None]], self_closing: bool) -> str:
    parts = ["<a"]
    for name, value in attrs:
        parts.append(f" {name}" if value is None else f' {name}="{html_escaping.escape(value, quote=True)}"')
    parts.append(" />" if self_closing else ">")
    return "".join(parts)


def rewrite_links(html: str, signer: LinkSigner) -> tuple[str, list[str]]:
    """The HTML with each trackable ``<a href>`` replaced by its click redirect, and the URLs tracked."""
    finder = _AnchorFinder(html)
    finder.feed(html)
    finder.close()
    pieces: list[str] = []
    tracked: list[str] = []
    cursor = 0
    for offset, raw, attrs, self_closing in finder.anchors:
        hrefs = [value for name, value in attrs if name == "href" and value is not None]
        target = _trackable(hrefs[0], signer.api_prefix) if len(hrefs) == 1 else None
        if target is None or html[offset : offset + len(raw)] != raw:
            continue
        rewritten = [(name, signer.click_url(target) if name == "href" else value) for name, value in attrs]
        pieces += [html[cursor:offset], _start_tag(rewritten, self_closing)]
        cursor = offset + len(raw)
        tracked.append(target)
    pieces.append(html[cursor:])
    return "".join(pieces), tracked


def _before_body_end(html: str, addition: str) -> str:
    """``addition`` just before the last ``</body>``, or at the end when there is none."""
    matches = list(_BODY_END.finditer(html))
    if not matches:
        return html + addition
    at = matches[-1].start()
    return html[:at] + addition + html[at:]


def unsubscribe_footer(unsubscribe_url: str) -> str:
    link = html_escaping.escape(unsubscribe_url, quote=True)
    return (
        '<p style="font-size:12px;color:#666666;margin-top:24px">'
        "You receive this email because you subscribed to it. "
        f'<a href="{link}" style="color:#666666">Unsubscribe</a></p>'
    )


def open_pixel(open_url: str) -> str:
    source = html_escaping.escape(open_url, quote=True)
    return (
        f'<img src="{source}" width="1" height="1" alt="" '
        'style="display:block;width:1px;height:1px;border:0" />'
    )


def add_footer_and_pixel(html: str, *, unsubscribe_url: str, open_url: str) -> str:
    """The visible unsubscribe link (unless the template placed ``{{ unsubscribe_url }}`` itself)
    and the open pixel, at the end of the body."""
    escaped = html_escaping.escape(unsubscribe_url, quote=True)
    footer = "" if unsubscribe_url in html or escaped in html else unsubscribe_footer(unsubscribe_url)
    return _before_body_end(html, footer + open_pixel(open_url))


def text_with_unsubscribe(text: str, unsubscribe_url: str) -> str:
    """The text part ends with the unsubscribe address (unless the template wrote it already)."""
    if unsubscribe_url in text:
        return text
    return f"{text.rstrip()}\n\n--\nUnsubscribe: {unsubscribe_url}\n"
