"""One factory for every function's HTTP resolver, and the one place errors become HTTP replies.

Every error leaves in the API's shape: ``{"error": {"code", "message", "fields"?, "request_id"?}}``.
"""

from __future__ import annotations

import re
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

from leadflow.errors import LeadflowError
from leadflow.observability import failure_facts, logger, metrics


def error_body(code: str, message: str, fields: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    error.update(extra)
    return {"error": error}


def error_response(status: int, code: str, message: str, fields: dict[str, str] | None = None, **extra: Any):
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=error_body(code, message, fields, **extra),
        headers={"Cache-Control": "no-store"},
    )


def _location(loc: tuple[Any, ...]) -> str:
    """Powertools reports ("body", "fields", "email"); clients want "fields.email"."""
    parts = [str(part) for part in loc if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or "request"


def _map_validation_errors(app: APIGatewayHttpResolver) -> None:
    from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

    @app.exception_handler(RequestValidationError)
    def _invalid_request(error: RequestValidationError) -> Response:
        fields = {_location(tuple(item["loc"])): item["msg"] for item in error.errors()}
        count = len(fields)
        return error_response(
            422, "validation_failed", f"{count} field{'s' if count != 1 else ''} invalid", fields
        )


#: Path parameters that take the rest of the path, slashes included: an email link's token is
#: opaque, and ``%2F`` in it reaches the function decoded, as ``/``.
REST_OF_PATH = frozenset({"token"})
_PARAMETER = re.compile(r"<(\w+)>")


def route_pattern(rule: str) -> re.Pattern[str]:
    """The pattern a route's path must match in full.

    API Gateway picks the route on the encoded path, then hands the function the decoded one,
    so a parameter may hold any character (quotes, ``#``, ``?``, controls, any script), not only
    the URI-safe ones Powertools' own pattern allows: a parameter is anything but a slash, and a
    trailing parameter named in :data:`REST_OF_PATH` anything at all. Literal parts match
    literally (``leadflow.js``'s dot included).
    """
    parts: list[str] = []
    last = 0
    for match in _PARAMETER.finditer(rule):
        name = match.group(1)
        anything = name in REST_OF_PATH and match.end() == len(rule)
        parts += [re.escape(rule[last : match.start()]), f"(?P<{name}>{'.+' if anything else '[^/]+'})"]
        last = match.end()
    parts.append(re.escape(rule[last:]))
    return re.compile("".join(parts) + r"\Z", re.DOTALL)


class LeadflowResolver(APIGatewayHttpResolver):
    """Powertools' HTTP API resolver, matching paths as API Gateway delivers them (see
    :func:`route_pattern`)."""

    @staticmethod
    def _compile_regex(rule: str, base_regex: str = "") -> re.Pattern[str]:
        return route_pattern(rule)


def build_resolver(*routers: Router, validation: bool = True) -> APIGatewayHttpResolver:
    """``validation`` turns on Powertools' pydantic validation of parameters and replies (and
    the OpenAPI machinery it needs). Public routes that parse their own bodies switch it off
    to keep cold starts short; the OpenAPI document is built with it on."""
    app = LeadflowResolver(enable_validation=validation)
    for router in routers:
        app.include_router(router)

    @app.exception_handler(LeadflowError)
    def _domain_error(error: LeadflowError) -> Response:
        if error.status >= 500:
            logger.warning("dependency failure", extra={"code": error.code, "error": error.message})
        return error_response(error.status, error.code, error.message, error.fields or None, **error.details)

    if validation:
        _map_validation_errors(app)

    @app.not_found
    def _not_found(_: NotFoundError) -> Response:
        return error_response(404, "not_found", "no such route")

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response:
        request_id = app.current_event.request_context.request_id
        # Facts only (type, frames): an exception's text may quote what the client sent.
        logger.error("unexpected error", extra={"request_id": request_id, **failure_facts(error)})
        metrics.add_metric(name="UnexpectedErrors", unit="Count", value=1)
        return error_response(500, "internal", "an unexpected error occurred", request_id=request_id)

    return app
