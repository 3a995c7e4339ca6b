"""Tracking routes: ``/v1/events`` (website events), ``/v1/leadflow.js`` (the snippet) and email links.

Routes only parse the request and shape the reply; the service decides.
"""

import base64
import hashlib
from functools import cache
from importlib import resources
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from leadflow.api import bodies, contract, cors
from leadflow.errors import Forbidden, UnsupportedMediaType
from leadflow.services import tracking

router = Router()

#: Path parameters are not length-checked here: a bad pixel token must still get its GIF. Any
#: text reaches the handler, slashes included (``leadflow.api.resolver.REST_OF_PATH``).
Token = Annotated[str, Path(description="a signed token from a link in an email")]

#: A 1x1 transparent GIF (42 bytes).
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
_NO_STORE = {"Cache-Control": "no-store, max-age=0"}
_SNIPPET_TYPE = "application/javascript; charset=utf-8"
_ALLOWED_HEADERS = "content-type"


def _batch_document() -> dict[str, Any]:
    """The JSON batch, sent as application/json or as text/plain (sendBeacon, no preflight)."""
    event = router.current_event
    media = bodies.MediaType.parse(event.headers.get("content-type"))
    data = bodies.raw_body(event.body, bool(event.is_base64_encoded))
    if media is None or media.essence not in (bodies.JSON, bodies.TEXT):
        raise UnsupportedMediaType("send the batch as application/json or text/plain JSON")
    return bodies.json_object(data, media.charset)


@router.post(
    "/v1/events",
    summary="Send website tracking events",
    description=(
        'Body `{"write_key": "...", "events": [...]}` (up to 100 events) as application/json, or the same '
        "JSON as text/plain so that a browser's sendBeacon needs no CORS preflight. Each event is judged on "
        "its own: good events are kept even when others are rejected."
    ),
    tags=["Tracking"],
    responses={
        202: contract.reply(
            contract.ref("EventsAccepted"), "Accepted: the good events, and why the others not"
        ),
        401: contract.error("The write key is missing or belongs to no site"),
        403: contract.error("The browser's origin is not allowed for this site"),
        413: contract.error("Body over 64 KiB"),
        415: contract.error("Unsupported content type"),
        422: contract.error("Not a batch: malformed JSON, no events list, or more than 100 events"),
        503: contract.error("The events could not be queued; send the same batch again"),
    },
    openapi_extensions={
        **contract.request_body(
            "The batch, as JSON; or the same JSON as text/plain (sendBeacon)",
            {bodies.JSON: contract.ref("EventBatchBody"), bodies.TEXT: {"type": "string"}},
        ),
        **contract.request_headers({"Origin": "The browser's origin: one the site allows, or none"}),
    },
)
def send_events() -> Response[Any]:
    document = _batch_document()
    origin = router.current_event.headers.get("origin")
    reply = tracking.track(document, origin)
    return Response(
        status_code=202,
        content_type=content_types.APPLICATION_JSON,
        body=reply.as_json(),
        headers={**cors.allow_origin(origin), "Cache-Control": "no-store"},
    )


@router.route(
    "/v1/events",
    method="OPTIONS",
    summary="CORS preflight for tracking events",
    tags=["Tracking"],
    responses={
        204: contract.preflight("The origin may send events"),
        403: contract.error("It may not"),
    },
    openapi_extensions=contract.request_headers({"Origin": "The origin that would send events"}),
)
def events_preflight() -> Response[Any]:
    origin = router.current_event.headers.get("origin")
    if not tracking.preflight_allowed(origin):
        raise Forbidden(f"origin {origin or '(none)'} may not send events")
    return Response(
        status_code=204,
        headers=cors.preflight(origin, allowed_headers=_ALLOWED_HEADERS),
    )


@cache
def snippet() -> tuple[str, str]:
    """The snippet's source and its ETag, read once per container from the package."""
    source = resources.files("leadflow").joinpath("static/leadflow.js").read_text(encoding="utf-8")
    return source, '"' + hashlib.sha256(source.encode()).hexdigest()[:20] + '"'


@router.get(
    "/v1/leadflow.js",
    summary="The website tracking snippet",
    description='Embed as `<script src="https://<api>/v1/leadflow.js" data-write-key="..." defer></script>`.',
    tags=["Tracking"],
    responses={
        200: contract.media("application/javascript", "JavaScript, cacheable for five minutes"),
        304: contract.empty("Unchanged since the ETag in If-None-Match", {"ETag": "The snippet's version"}),
    },
    openapi_extensions=contract.request_headers({"If-None-Match": "The ETag of a copy the browser has"}),
)
def leadflow_js() -> Response[Any]:
    source, etag = snippet()
    headers = {"Cache-Control": "public, max-age=300", "ETag": etag, "X-Content-Type-Options": "nosniff"}
    if router.current_event.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(status_code=200, content_type=_SNIPPET_TYPE, body=source, headers=headers)


@router.get(
    "/v1/t/o/<token>",
    summary="Email open pixel",
    description="Always a 1x1 transparent GIF; a genuine token records `email_open`, a bad one nothing.",
    tags=["Email tracking"],
    responses={
        200: contract.media("image/gif", "A 1x1 GIF, never cached", {"type": "string", "format": "binary"})
    },
)
def open_pixel(token: Token):  # unannotated: response validation would serialise the GIF bytes as text
    tracking.record_open(token)
    return Response(status_code=200, content_type="image/gif", body=PIXEL, headers=_NO_STORE)


@router.get(
    "/v1/t/c/<token>",
    summary="Email link click",
    description="Records `email_click` and redirects to the signed URL; a bad token gets 400, no redirect.",
    tags=["Email tracking"],
    responses={
        302: contract.redirect("To the link's target URL"),
        400: contract.error("The token is invalid or was altered (no redirect)"),
        503: contract.error("The signing key could not be read; follow the link again"),
    },
)
def click(token: Token) -> Response[Any]:
    url = tracking.record_click(token)
    return Response(status_code=302, headers={**_NO_STORE, "Location": url})
