"""``/v1/forms/{form_id}/submissions``: the public endpoint website forms post to."""

from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router

from leadflow.api import bodies, contract, cors
from leadflow.errors import Forbidden, UnsupportedMediaType, ValidationFailed
from leadflow.services import capture

router = Router()

#: Plain text, not a validated ``Path``: capture runs without Powertools' validation layer
#: (it parses its own bodies), which keeps its cold start close to boto3 plus Powertools.
FormId = str
_ALLOWED_HEADERS = "content-type, idempotency-key"
_JSON_KEYS = {"fields", "context", "submission_id"}
#: A native post's fields by name; a name sent twice gives a list.
_FORM_POST = {
    "type": "object",
    "additionalProperties": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
}


def _parse_request() -> tuple[capture.SubmissionRequest, bool]:
    """The submission and whether it came from a native HTML form (which wants a redirect)."""
    event = router.current_event
    headers = event.headers
    media = bodies.MediaType.parse(headers.get("content-type"))
    data = bodies.raw_body(event.body, bool(event.is_base64_encoded))
    origin = headers.get("origin")
    key = headers.get("idempotency-key") or None
    if media is None:
        raise UnsupportedMediaType(
            "send application/json, application/x-www-form-urlencoded or multipart/form-data"
        )
    if media.essence == bodies.JSON:
        document = bodies.json_object(data, media.charset)
        return _json_request(document, origin, key), False
    if media.essence in (bodies.URLENCODED, bodies.MULTIPART):
        fields = bodies.form_fields(data, media)
        return capture.SubmissionRequest(fields=fields, origin=origin, idempotency_key=key), True
    raise UnsupportedMediaType(
        f"{media.essence} is not accepted; send application/json, "
        "application/x-www-form-urlencoded or multipart/form-data"
    )


def _json_request(document: dict[str, Any], origin: str | None, key: str | None) -> capture.SubmissionRequest:
    problems: dict[str, str] = {}
    unknown = sorted(set(document) - _JSON_KEYS)
    for name in unknown:
        problems[name] = "unknown key; a submission has fields, context and submission_id"
    fields = document.get("fields", {})
    context = document.get("context") or {}
    if not isinstance(fields, dict):
        problems["fields"] = "expected an object of field values"
    if not isinstance(context, dict):
        problems["context"] = "expected an object"
    if problems:
        raise ValidationFailed.for_fields(problems)
    if "submission_id" in document:
        fields = {**fields, "submission_id": document["submission_id"]}
    return capture.SubmissionRequest(fields=fields, context=context, origin=origin, idempotency_key=key)


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = "&".join(item for item in (parts.query, urlencode(params)) if item)
    return urlunsplit(parts._replace(query=query))


def _thank_you_page() -> str:
    return (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'><title>Thank you</title>"
        "<body style='font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem'>"
        "<h1>Thank you!</h1><p>We have received your details.</p>"
        "<p><a href='javascript:history.back()'>Back</a></p></body></html>"
    )


@router.post(
    "/v1/forms/<form_id>/submissions",
    summary="Submit a form",
    description=(
        "Native HTML form posts (urlencoded or multipart) get a 303 to the form's redirect_url; "
        'JSON (`{"fields": {...}, "context": {...}}`) gets 202 with the ids. An Idempotency-Key header '
        "(or a submission_id field) makes a replay within 24 h return the first reply."
    ),
    tags=["Forms"],
    responses={
        200: contract.media(
            content_types.TEXT_HTML, "Accepted (native post, no redirect_url): a thank-you page"
        ),
        202: contract.reply(contract.ref("SubmissionAccepted"), "Accepted (JSON)"),
        303: contract.redirect(
            "Native post: accepted, to the form's redirect_url; or invalid, to its error_url with ?error=..."
        ),
        403: contract.error("The browser's origin is not allowed for this form"),
        404: contract.error("No such form, or it is disabled"),
        409: contract.error("The idempotency key was used for a different submission"),
        413: contract.error("Body over 64 KiB"),
        415: contract.error("Unsupported content type"),
        422: contract.error("Invalid fields, with a message per field"),
        503: contract.error("A dependency was busy; send the same submission again"),
    },
    openapi_extensions={
        **contract.request_body(
            "A native HTML form post, or JSON",
            {
                bodies.JSON: contract.ref("SubmissionBody"),
                bodies.URLENCODED: _FORM_POST,
                bodies.MULTIPART: _FORM_POST,
            },
        ),
        **contract.request_headers(
            {
                "Idempotency-Key": "Makes a replay within 24 h return the first reply",
                "Origin": "The browser's origin: one the form allows, or none",
            }
        ),
    },
)
def submit(form_id: FormId) -> Response[Any]:
    request, native = _parse_request()
    try:
        outcome = capture.submit(form_id, request)
    except capture.FormValidationFailed as invalid:
        if native and invalid.error_url:
            return Response(
                status_code=303, headers={"Location": _with_query(invalid.error_url, error=invalid.code)}
            )
        raise
    headers = cors.allow_origin(request.origin)
    if native:
        if outcome.form.redirect_url:
            return Response(status_code=303, headers={**headers, "Location": outcome.form.redirect_url})
        return Response(
            status_code=200, content_type=content_types.TEXT_HTML, body=_thank_you_page(), headers=headers
        )
    return Response(
        status_code=202,
        content_type=content_types.APPLICATION_JSON,
        body=outcome.reply.as_json(),
        headers=headers,
    )


@router.route(
    "/v1/forms/<form_id>/submissions",
    method="OPTIONS",
    summary="CORS preflight for a form",
    tags=["Forms"],
    responses={
        204: contract.preflight("The origin may post"),
        403: contract.error("The origin may not post"),
        404: contract.error("No such form, or it is disabled"),
    },
    openapi_extensions=contract.request_headers({"Origin": "The origin that would post"}),
)
def preflight(form_id: FormId) -> Response[Any]:
    origin = router.current_event.headers.get("origin")
    form = capture.find_form(form_id)
    if not origin or not capture.origin_allowed(form, origin):
        raise Forbidden(f"origin {origin or '(none)'} may not post to form {form_id!r}")
    return Response(
        status_code=204,
        headers=cors.preflight(origin, allowed_headers=_ALLOWED_HEADERS),
    )
