"""``/v1/admin/connectors/...``: a connector's credentials (write only), status and dead letters."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from leadflow.api import bodies, contract, views
from leadflow.api.models import ConnectorView, ReplayView
from leadflow.errors import UnsupportedMediaType
from leadflow.services import connectors

router = Router()

MAX_CREDENTIALS_BYTES = 16 * 1024
_CREDENTIALS = {
    "oneOf": [
        {
            "type": "object",
            "title": "salesforce, dynamics",
            "required": ["client_id", "client_secret"],
            "properties": {"client_id": {"type": "string"}, "client_secret": {"type": "string"}},
            "additionalProperties": False,
        },
        {
            "type": "object",
            "title": "sugarcrm",
            "required": ["username", "password"],
            "properties": {
                "username": {"type": "string"},
                "password": {"type": "string"},
                "client_secret": {"type": "string"},
            },
            "additionalProperties": False,
        },
    ]
}
ConnectorId = Annotated[str, Path(max_length=64, description="A connector id from the definitions")]


@router.put(
    "/v1/admin/connectors/<connector_id>/credentials",
    summary="Store a connector's credentials",
    description="Stored in Secrets Manager and never returned. Salesforce and Dynamics: "
    "`{client_id, client_secret}` (OAuth 2.0 client credentials); SugarCRM: `{username, password, "
    "client_secret?}`. Memberships that waited for credentials are sent again.",
    tags=["Connectors"],
    security=contract.ADMIN_SECURITY,
    responses={
        204: contract.empty("Stored"),
        404: contract.error("No such connector in the active definitions"),
        413: contract.error("Body over 16 KiB"),
        415: contract.error("Not JSON"),
        422: contract.error("Not the credentials this connector's kind takes"),
        503: contract.error("Secrets Manager could not be reached"),
        **contract.admin_errors(),
    },
    openapi_extensions=contract.request_body("The credentials, per kind", {"application/json": _CREDENTIALS}),
)
def put_credentials(connector_id: ConnectorId) -> Response[Any]:
    event = router.current_event
    media = bodies.MediaType.parse(event.headers.get("content-type"))
    if media is None or media.essence != "application/json":
        raise UnsupportedMediaType("send the credentials as application/json")
    data = bodies.raw_body(event.body, bool(event.is_base64_encoded), limit=MAX_CREDENTIALS_BYTES)
    body = bodies.json_object(data, media.charset)
    connectors.set_credentials(connector_id, body)
    return Response(status_code=204, headers={"Cache-Control": "no-store"})


@router.get(
    "/v1/admin/connectors/<connector_id>",
    summary="A connector's status",
    description="Configured or not, the last success and the last error, pending and failed "
    "memberships, and the sync dead-letter queue's depth.",
    tags=["Connectors"],
    security=contract.ADMIN_SECURITY,
    responses={
        200: contract.reply(contract.ref("ConnectorView"), "The connector"),
        404: contract.error("No such connector in the active definitions"),
        422: contract.error("Not a connector id"),
        503: contract.error("Secrets Manager could not be reached"),
        **contract.admin_errors(),
    },
)
def get_connector(connector_id: ConnectorId) -> ConnectorView:
    return views.connector_view(connectors.status(connector_id))


@router.post(
    "/v1/admin/connectors/<connector_id>/replay",
    summary="Send a connector's dead letters back to the sync queue",
    tags=["Connectors"],
    security=contract.ADMIN_SECURITY,
    responses={
        200: contract.reply(contract.ref("ReplayView"), "How many went back"),
        404: contract.error("No such connector in the active definitions"),
        422: contract.error("Not a connector id, or a limit out of range"),
        **contract.admin_errors(),
    },
)
def replay(
    connector_id: ConnectorId,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many messages")] = 100,
) -> ReplayView:
    result = connectors.replay(connector_id, limit)
    return ReplayView(connector_id=connector_id, replayed=result.replayed, other_connectors=result.kept)
