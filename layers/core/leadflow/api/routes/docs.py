"""``GET /v1/openapi.json``: the OpenAPI document, generated from every router in the code."""

import json
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

router = Router()

TITLE = "Leadflow"
#: Powertools' own error shapes, which this API never sends (its errors are all ``ErrorReply``).
_POWERTOOLS_ERRORS = ("HTTPValidationError", "ValidationError", "ResponseValidationError")


def openapi_document() -> dict[str, Any]:
    """Builds the document from all routers, so it can never drift from the handlers."""
    from leadflow import __version__
    from leadflow.api import contract
    from leadflow.api.resolver import build_resolver
    from leadflow.api.routes import all_routers

    app = build_resolver(*all_routers())
    document = json.loads(
        app.get_openapi_json_schema(
            title=TITLE, version=__version__, security_schemes=contract.security_schemes()
        )
    )
    _add_documented_models(document)
    _add_request_headers(document)
    _drop_powertools_defaults(document)
    return document


def _add_request_headers(document: dict[str, Any]) -> None:
    """Headers routes read themselves (``contract.request_headers``), as header parameters."""
    from leadflow.api.contract import REQUEST_HEADERS

    for item in document["paths"].values():
        for operation in item.values():
            headers = operation.pop(REQUEST_HEADERS, None)
            if headers:
                operation["parameters"] = [*operation.get("parameters", []), *headers]


def _add_documented_models(document: dict[str, Any]) -> None:
    """The models routes name by reference, with the models they nest, as components."""
    from leadflow.api.contract import COMPONENTS
    from leadflow.api.models import DOCUMENTED

    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for model in DOCUMENTED:
        schema = model.model_json_schema(ref_template=COMPONENTS + "{model}")
        for name, nested in schema.pop("$defs", {}).items():
            schemas.setdefault(name, nested)
        schemas.setdefault(model.__name__, schema)


def _drop_powertools_defaults(document: dict[str, Any]) -> None:
    """Powertools documents a 422 in its own shape for every validated route, and an empty
    ``content`` where a reply has no body: routes that can answer 422 document it themselves."""
    from leadflow.api.contract import COMPONENTS

    default_422 = {"$ref": COMPONENTS + "HTTPValidationError"}
    for item in document["paths"].values():
        for operation in item.values():
            responses = operation["responses"]
            for status in list(responses):
                content = responses[status].get("content")
                if content == {}:
                    del responses[status]["content"]
                elif (content or {}).get("application/json", {}).get("schema") == default_422:
                    del responses[status]
    paths = json.dumps(document["paths"])
    schemas = document["components"]["schemas"]
    for name in _POWERTOOLS_ERRORS:
        if f'"{COMPONENTS}{name}"' not in paths:
            schemas.pop(name, None)


@router.get(
    "/v1/openapi.json",
    summary="This API's OpenAPI 3 document",
    tags=["Documentation"],
    include_in_schema=False,
)
def openapi() -> dict[str, Any]:
    return openapi_document()
