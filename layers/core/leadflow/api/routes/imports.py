"""``/v1/admin/.../imports``: CSV files into CRM campaigns, Pinpoint exports, uploads, progress."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from leadflow.api import bodies, contract
from leadflow.api.models import ImportCountsView, ImportErrorView, ImportView, UploadOffered
from leadflow.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed

router = Router()

_CSV_TYPES = {"text/csv", "application/csv"}
_NDJSON_TYPES = {"application/x-ndjson", "application/jsonl", "application/x-jsonlines", "application/ndjson"}
_UPLOAD_REQUEST = {
    "type": "object",
    "properties": {"upload": {"type": "boolean", "const": True}},
    "required": ["upload"],
    "description": "Ask for an upload URL instead of sending the file (files over 4 MiB)",
}
_FILE = {"type": "string", "format": "binary"}
_ENCODING = {"Content-Encoding": "gzip when the body is gzip-compressed"}


def _body(limit: int) -> tuple[bodies.MediaType | None, bytes]:
    event = router.current_event
    media = bodies.MediaType.parse(event.headers.get("content-type"))
    try:
        data = bodies.raw_body(event.body, bool(event.is_base64_encoded), limit=limit)
    except PayloadTooLarge:
        raise PayloadTooLarge(
            f'the body is larger than {limit // (1024 * 1024)} MiB: send {{"upload": true}} as JSON for an '
            "upload URL, PUT the file there, then POST /v1/admin/imports/{upload_id}/start"
        ) from None
    return media, data


def _wants_upload(data: bytes, media: bodies.MediaType) -> bool:
    request = bodies.json_object(data, media.charset)
    if request != {"upload": True}:
        raise ValidationFailed.for_fields({"upload": 'send {"upload": true} to ask for an upload URL'})
    return True


def _accepted(import_id: str) -> Response[Any]:
    return Response(
        status_code=202,
        content_type=content_types.APPLICATION_JSON,
        body={"import_id": import_id},
        headers={"Location": f"/v1/admin/imports/{import_id}"},
    )


def _offered(offer: Any) -> Response[Any]:
    body = UploadOffered(upload_id=offer.upload_id, upload_url=offer.url, expires_in=offer.expires_in)
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=body.model_dump())


_ACCEPT_ERRORS = {
    413: contract.error("Over 4 MiB (ask for an upload URL), or over 256 MiB uncompressed"),
    415: contract.error("Not the file type this import reads"),
    **contract.admin_errors(),
}


@router.post(
    "/v1/admin/campaigns/<campaign_id>/imports",
    summary="Import a CSV file into a CRM campaign",
    description="The header needs an `email` column (any case; a UTF-8 BOM is fine), may have `status` "
    "(a member status of the campaign; empty: its default) and any contact field a form defines, "
    "or `time_zone`. Other columns are refused (422, listed). Rows are imported in the background: "
    "poll the import. The same file again answers the same import and changes nothing. For a file "
    'over 4 MiB send `{"upload": true}` as JSON instead, for an upload URL.',
    tags=["Imports"],
    security=contract.ADMIN_SECURITY,
    responses={
        201: contract.reply(contract.ref("UploadOffered"), "An upload URL (for the JSON request)"),
        202: contract.reply(contract.ref("ImportAccepted"), "Accepted: poll the import"),
        404: contract.error("No such campaign"),
        409: contract.error("An MA campaign, or a completed or aborted one"),
        422: contract.error(
            "The header cannot be imported (each column's problem), or the body is unreadable"
        ),
        **_ACCEPT_ERRORS,
    },
    openapi_extensions={
        **contract.request_body(
            "The CSV file, or a request for an upload URL",
            {"text/csv": _FILE, "application/json": _UPLOAD_REQUEST},
        ),
        **contract.request_headers(_ENCODING),
    },
)
def import_csv(campaign_id: Annotated[str, Path(max_length=64)]) -> Response[Any]:
    from leadflow.services.imports import accept, csv_import

    media, data = _body(accept.MAX_INLINE_BYTES)
    if media is not None and media.essence == bodies.JSON and _wants_upload(data, media):
        return _offered(csv_import.offer_upload(campaign_id))
    if media is None or media.essence not in _CSV_TYPES:
        raise UnsupportedMediaType('send the file as text/csv (or {"upload": true} as application/json)')
    accepted = csv_import.accept_file(campaign_id, data, router.current_event.headers.get("content-encoding"))
    return _accepted(accepted.import_id)


@router.post(
    "/v1/admin/imports/pinpoint",
    summary="Import an Amazon Pinpoint endpoint export",
    description="One endpoint (JSON) per line, as Pinpoint exports them; gzip with `Content-Encoding: gzip`. "
    "Endpoints of one `User.UserId` become one contact; `list` puts them in a static list. Lines that "
    "are not endpoints are reported by line number. For an export over 4 MiB send "
    '`{"upload": true}` as JSON instead, for an upload URL.',
    tags=["Imports"],
    security=contract.ADMIN_SECURITY,
    responses={
        201: contract.reply(contract.ref("UploadOffered"), "An upload URL (for the JSON request)"),
        202: contract.reply(contract.ref("ImportAccepted"), "Accepted: poll the import"),
        404: contract.error("No such list"),
        409: contract.error("The list is a segment"),
        422: contract.error("An empty export, or an unreadable body"),
        **_ACCEPT_ERRORS,
    },
    openapi_extensions={
        **contract.request_body(
            "The export's lines, or a request for an upload URL",
            {"application/x-ndjson": _FILE, "application/json": _UPLOAD_REQUEST},
        ),
        **contract.request_headers(_ENCODING),
    },
)
def import_pinpoint(
    list_id: Annotated[
        str | None, Query(alias="list", max_length=64, description="A static list the contacts join")
    ] = None,
) -> Response[Any]:
    from leadflow.services.imports import accept, pinpoint_import

    media, data = _body(accept.MAX_INLINE_BYTES)
    if media is not None and media.essence == bodies.JSON and _wants_upload(data, media):
        return _offered(pinpoint_import.offer_upload(list_id))
    if media is None or media.essence not in _NDJSON_TYPES:
        raise UnsupportedMediaType('send the export as application/x-ndjson (or {"upload": true} as JSON)')
    accepted = pinpoint_import.accept_file(
        list_id, data, router.current_event.headers.get("content-encoding")
    )
    return _accepted(accepted.import_id)


@router.post(
    "/v1/admin/imports/<upload_id>/start",
    summary="Start the import of an uploaded file",
    tags=["Imports"],
    security=contract.ADMIN_SECURITY,
    responses={
        202: contract.reply(contract.ref("ImportAccepted"), "Accepted: poll the import"),
        404: contract.error("No such upload (they expire after two days), or its campaign or list is gone"),
        409: contract.error(
            "Nothing uploaded yet, or the campaign takes no members, or the list is a segment"
        ),
        413: contract.error("The file is over 256 MiB"),
        422: contract.error("The header cannot be imported, the export is empty, or the file is unreadable"),
        **contract.admin_errors(),
    },
)
def start_upload(upload_id: Annotated[str, Path(max_length=64)]) -> Response[Any]:
    from leadflow.domain.imports.csv_file import MAX_HEADER_BYTES
    from leadflow.services.imports import accept, csv_import, pinpoint_import

    uploaded = accept.read_upload(upload_id, head_bytes=MAX_HEADER_BYTES)
    kind = csv_import if uploaded.upload.kind == csv_import.KIND else pinpoint_import
    return _accepted(kind.start_upload(uploaded).import_id)


@router.get(
    "/v1/admin/imports/<import_id>",
    summary="An import's progress: status, counts and the first errors",
    tags=["Imports"],
    security=contract.ADMIN_SECURITY,
    responses={
        200: contract.reply(contract.ref("ImportView"), "The import"),
        404: contract.error("No such import"),
        422: contract.error("Not an import id"),
        **contract.admin_errors(),
    },
)
def get_import(import_id: Annotated[str, Path(max_length=64)]) -> ImportView:
    from leadflow.services.imports import reports

    found = reports.report(import_id)
    record = found.record
    return ImportView(
        import_id=record.import_id,
        kind=record.kind,
        target=record.target,
        status=record.status,
        rows_total=record.rows_total,
        counts=ImportCountsView(**found.counts.as_json()),
        errors=[ImportErrorView.model_validate(item) for item in found.errors],
        errors_total=found.errors_total,
        failure=record.failure,
        created_at=record.created_at,
        finished_at=record.finished_at,
    )
