"""Preference routes: unsubscribe (a page with one button, and RFC 8058 one-click) and double
opt-in confirmation. Public, opened from emails, so every reply is a small HTML page, errors too;
a client that asks for JSON only (``Accept: application/json``) gets errors in the API's JSON shape.

``GET /v1/unsubscribe/{token}`` never changes anything: mail scanners and link previews fetch
GETs. The page's button posts the same body a mail client's one-click does.

The service is imported by the route that needs it: the track function's cold start serves
pixels and clicks, which never load the contact store.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from leadflow.api import bodies, contract
from leadflow.api.resolver import error_response
from leadflow.domain.tokens import Kind
from leadflow.errors import LeadflowError

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

router = Router()

Token = Annotated[str, Path(description="the signed token from the link in the email")]

_HTML = "text/html; charset=utf-8"
#: The token is in the URL: no referrer leaves the page, nothing is cached or indexed, and the
#: page loads nothing and can post only to itself.
_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
}
_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}"
    "button{font-size:1rem;padding:.6rem 1.2rem;cursor:pointer}"
)
_PAGE = "text/html"


def _error(description: str) -> OpenAPIResponse:
    """A page for browsers, the ErrorReply for a client that accepts only JSON."""
    documented = contract.error(description)
    documented["content"] = {_PAGE: {"schema": {"type": "string"}}, **documented.get("content", {})}
    return documented


_PAGE_ERRORS: dict[int, OpenAPIResponse] = {
    400: _error("The link is invalid or was altered; nothing changed"),
    503: _error("The link cannot be checked right now; try again shortly"),
}


def page(status: int, title: str, *paragraphs: str, form: str = "") -> Response[Any]:
    body = "".join(f"<p>{html.escape(text)}</p>" for text in paragraphs)
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}{form}</body></html>"
    )
    return Response(status_code=status, content_type=_HTML, body=document, headers=dict(_HEADERS))


def _wants_json() -> bool:
    accept = router.current_event.headers.get("accept") or ""
    return "application/json" in accept and "text/html" not in accept


def error_page(error: LeadflowError) -> Response[Any]:
    if _wants_json():
        return error_response(error.status, error.code, error.message, error.fields or None, **error.details)
    if error.status == 400:
        return page(400, "This link does not work", "It is incomplete or was altered. Nothing was changed.")
    return page(
        error.status, "Please try again", "We could not handle this right now. Try again in a minute."
    )


_BUTTON = (
    '<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">'
    '<input type="hidden" name="from" value="page">'
    '<button type="submit">Unsubscribe</button></form>'
)


@router.get(
    "/v1/unsubscribe/<token>",
    summary="Unsubscribe page",
    description="An HTML page with one button that posts back; opening the page changes nothing.",
    tags=["Email preferences"],
    responses={200: contract.media(_PAGE, "The page with the Unsubscribe button"), **_PAGE_ERRORS},
)
def unsubscribe_page(token: Token) -> Response[Any]:
    from leadflow.services import preferences

    try:
        preferences.check_link(token, Kind.UNSUBSCRIBE)
    except LeadflowError as error:
        return error_page(error)
    return page(200, "Unsubscribe", "Stop receiving our marketing emails at this address?", form=_BUTTON)


_ONE_CLICK_BODY = contract.request_body(
    "RFC 8058's one-click body; the page's button adds `from=page`. Any other body, or none, also "
    "unsubscribes: the signed token is the proof",
    {
        "application/x-www-form-urlencoded": {
            "type": "object",
            "properties": {
                "List-Unsubscribe": {"type": "string", "enum": ["One-Click"]},
                "from": {"type": "string", "enum": ["page"]},
            },
        }
    },
)
#: Documented as optional: a POST without a body unsubscribes too.
_ONE_CLICK_BODY["requestBody"]["required"] = False


@router.post(
    "/v1/unsubscribe/<token>",
    summary="Unsubscribe (RFC 8058 one-click, and the page's button)",
    description=(
        "Body `List-Unsubscribe=One-Click` (application/x-www-form-urlencoded), as mail clients send it "
        "from the `List-Unsubscribe-Post` header. The contact is unsubscribed at once; repeating it "
        "changes nothing and answers the same."
    ),
    tags=["Email preferences"],
    responses={200: contract.media(_PAGE, "Unsubscribed: a page saying so"), **_PAGE_ERRORS},
    openapi_extensions=_ONE_CLICK_BODY,
)
def unsubscribe(token: Token) -> Response[Any]:
    from leadflow.services import preferences

    method: preferences.Method = "page" if _posted_from_page() else "one_click"
    try:
        preferences.unsubscribe(token, method=method)
    except LeadflowError as error:
        return error_page(error)
    return page(200, "You are unsubscribed", "You will receive no more marketing emails at this address.")


def _posted_from_page() -> bool:
    """Whether the page's button posted (it adds ``from=page``); any other POST is a one-click.

    The body is only read for this: a POST with no body, or any other body, still unsubscribes,
    because the signed token, not the body, is what proves the link came from our email."""
    event = router.current_event
    try:
        text = bodies.raw_body(event.body, bool(event.is_base64_encoded))[:1024].decode("utf-8", "replace")
    except LeadflowError:
        return False
    return parse_qs(text).get("from") == ["page"]


_CONFIRMED = ("You are subscribed", "Thank you for confirming. Our emails will reach you from now on.")
#: By ``leadflow.domain.preferences.Outcome`` (a StrEnum: its values are these keys).
_CONFIRM_PAGES: dict[str, tuple[int, str, str]] = {
    "confirmed": (200, *_CONFIRMED),
    "already_confirmed": (200, *_CONFIRMED),
    "not_pending": (
        409,
        "This link can no longer be used",
        "This address was unsubscribed after the link was sent. To subscribe again, fill in the form again.",
    ),
    "unknown_contact": (404, "Nothing to confirm", "We keep no subscription for this link."),
}


@router.get(
    "/v1/confirm/<token>",
    summary="Confirm a double opt-in subscription",
    description=(
        "A pending contact becomes subscribed, its consent kept with the time of the confirmation. "
        "Repeating it answers the same. A contact who unsubscribed, bounced or complained since is not "
        "re-subscribed by an old link (409)."
    ),
    tags=["Email preferences"],
    responses={
        200: contract.media(_PAGE, "Subscribed (now, or before): a page saying so"),
        404: _error("No contact for this link (erased)"),
        409: _error("The contact unsubscribed, bounced or complained since"),
        **_PAGE_ERRORS,
    },
)
def confirm(token: Token) -> Response[Any]:
    from leadflow.services import preferences

    try:
        result = preferences.confirm(token)
    except LeadflowError as error:
        return error_page(error)
    status, title, text = _CONFIRM_PAGES[result.outcome]
    if status >= 400 and _wants_json():
        return error_response(status, "not_found" if status == 404 else "conflict", text)
    return page(status, title, text)
