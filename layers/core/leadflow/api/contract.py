"""How each route documents its requests and replies in the OpenAPI document.

Powertools documents a route's return annotation as its 200, but only until ``responses=`` is
given: then it documents those alone. So every route lists every status it sends, success
included, with these helpers: one ``ErrorReply`` for every error status, replies without a JSON
body (redirects, 204 and 304, the pixel, the snippet) as what they are, request bodies per media
type, and the admin routes' security.

Plain dictionaries that name models by reference, so that a public function's cold start imports
no model for its documentation; ``leadflow.api.routes.docs`` adds the named models (the ones in
``leadflow.api.models.DOCUMENTED``) to the document's components when it renders it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

JSON = "application/json"
COMPONENTS = "#/components/schemas/"
#: Either scheme: the bearer token on the local stack, SigV4 in AWS (see ``security_schemes``).
ADMIN_SECURITY: list[dict[str, list[str]]] = [{"bearer": []}, {"sigv4": []}]


def ref(model: str) -> dict[str, str]:
    return {"$ref": COMPONENTS + model}


def reply(schema: dict[str, Any], description: str) -> OpenAPIResponse:
    """A JSON reply of ``schema`` (usually a ``ref``)."""
    return {"description": description, "content": {JSON: {"schema": schema}}}


def error(description: str) -> OpenAPIResponse:
    return reply(ref("ErrorReply"), description)


def empty(description: str, headers: dict[str, str] | None = None) -> OpenAPIResponse:
    """A reply with no body (204, 304, a redirect); ``headers`` name the ones it carries."""
    response: OpenAPIResponse = {"description": description, "content": {}}
    if headers:
        response["headers"] = {
            name: {"description": text, "schema": {"type": "string"}} for name, text in headers.items()
        }
    return response


def redirect(description: str) -> OpenAPIResponse:
    return empty(description, {"Location": "Where the browser goes next"})


def preflight(description: str) -> OpenAPIResponse:
    """A CORS preflight's 204 to an allowed origin."""
    return empty(
        description,
        {
            "Access-Control-Allow-Origin": "The origin",
            "Access-Control-Allow-Methods": "POST, OPTIONS",
            "Access-Control-Allow-Headers": "The headers a post may send",
            "Access-Control-Max-Age": "Seconds a browser may keep this answer",
        },
    )


def media(media_type: str, description: str, schema: dict[str, Any] | None = None) -> OpenAPIResponse:
    """A reply that is not JSON: an image, a script, a page."""
    return {"description": description, "content": {media_type: {"schema": schema or {"type": "string"}}}}


def admin_errors() -> dict[int, OpenAPIResponse]:
    """What an admin request may get before its route runs: the local stack's token check answers
    in the API's error shape, API Gateway's IAM check in AWS with its own ``{"message"}``."""
    either = {"anyOf": [ref("ErrorReply"), ref("GatewayMessage")]}
    return {
        401: reply(either, "No credentials (on the local stack: no bearer token)"),
        403: reply(either, "The credentials are not the admin's"),
    }


def request_body(description: str, content: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """``openapi_extensions`` documenting a body the route parses itself: a schema per media type."""
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {media_type: {"schema": schema} for media_type, schema in content.items()},
        }
    }


#: The extension that carries request headers a route reads itself, until the document is rendered.
REQUEST_HEADERS = "x-leadflow-request-headers"


def request_headers(headers: dict[str, str]) -> dict[str, Any]:
    """``openapi_extensions`` documenting headers a route reads itself (optional ones): rendered
    as header parameters, beside the ones Powertools documents from the signature."""
    return {
        REQUEST_HEADERS: [
            {
                "name": name,
                "in": "header",
                "required": False,
                "description": text,
                "schema": {"type": "string"},
            }
            for name, text in headers.items()
        ]
    }


def security_schemes() -> dict[str, Any]:
    """The document's security schemes: built only when the document is rendered."""
    from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn, HTTPBearer

    return {
        "bearer": HTTPBearer(
            description="The local stack (`make dev`): `Authorization: Bearer <the admin token it printed>`."
        ),
        "sigv4": APIKey(
            name="Authorization",
            in_=APIKeyIn.header,
            description="In AWS: IAM authorisation. Sign each request with SigV4 for the service `execute-api`.",
            openapi_extensions={"x-amazon-apigateway-authtype": "awsSigv4"},
        ),
    }
