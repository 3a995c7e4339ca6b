"""``GET /v1/openapi.json``: the OpenAPI document, generated from every router in the code."""

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

router = Router()

TITLE = "Leadflow"


def openapi_document() -> dict[str, Any]:
    """Builds the document from all routers, so it can never drift from the handlers."""
    import json

    from leadflow import __version__
    from leadflow.api.resolver import build_resolver
    from leadflow.api.routes import all_routers

    app = build_resolver(*all_routers())
    return json.loads(app.get_openapi_json_schema(title=TITLE, version=__version__))


@router.get(
    "/v1/openapi.json",
    summary="This API's OpenAPI 3 document",
    tags=["Documentation"],
    include_in_schema=False,
)
def openapi() -> dict[str, Any]:
    return openapi_document()
