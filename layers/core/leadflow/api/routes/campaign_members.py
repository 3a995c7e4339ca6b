"""``/v1/admin/campaigns/{id}/members`` and ``/history``: a campaign's members, an admin's adds,
status changes and removals, and the membership history (IAM-authorised in AWS, bearer token locally).

Routes parse and reply; :mod:`leadflow.services.campaign_members` decides.
"""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from leadflow.api import bodies, contract, views
from leadflow.api.models import CampaignHistoryView, CampaignMembersView
from leadflow.errors import UnsupportedMediaType, ValidationFailed
from leadflow.services import campaign_members

router = Router()

CampaignId = Annotated[str, Path(max_length=64, description="The campaign's id (definitions)")]
ContactId = Annotated[str, Path(max_length=64, description="The contact's id")]
Cursor = Annotated[str | None, Query(description="From the previous page", max_length=2048)]
MAX_BODY_BYTES = 4 * 1024
_NO_STORE = {"Cache-Control": "no-store"}
#: The body may be left out (a new member gets the default status).
_OPTIONAL_BODY = contract.request_body(
    "The status to set; optional", {bodies.JSON: contract.ref("MembershipBody")}
)
_OPTIONAL_BODY["requestBody"]["required"] = False


@router.get(
    "/v1/admin/campaigns/<campaign_id>/members",
    summary="A campaign's members, paginated",
    description="CRM and MA campaigns alike (an MA campaign's members have the status `joined`). "
    "`status=` keeps one of the campaign's member statuses.",
    tags=["Campaigns"],
    security=contract.ADMIN_SECURITY,
    responses={
        200: contract.reply(contract.ref("CampaignMembersView"), "One page of members"),
        404: contract.error("No such campaign"),
        422: contract.error(
            "A status the campaign does not define, or a cursor or limit this API cannot use"
        ),
        **contract.admin_errors(),
    },
)
def list_members(
    campaign_id: CampaignId,
    status: Annotated[str | None, Query(description="Only members of this status", max_length=64)] = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=200, description="Members per page")] = 50,
) -> CampaignMembersView:
    page = campaign_members.members(campaign_id, status=status, cursor=cursor, limit=limit)
    return views.campaign_members_view(page)


@router.put(
    "/v1/admin/campaigns/<campaign_id>/members/<contact_id>",
    summary="Add a member to a CRM campaign, or set its status",
    description='Body `{"status": "..."}`, or `{}` (or no body): a new member gets the default status, '
    "an existing one keeps its own. The source is `manual`; an admin may set any status the campaign "
    "defines, backwards too. 201 when the member was added, 200 otherwise (`changed` says whether "
    "its status moved); a replay changes nothing.",
    tags=["Campaigns"],
    security=contract.ADMIN_SECURITY,
    responses={
        200: contract.reply(contract.ref("MembershipReply"), "The membership (already a member)"),
        201: contract.reply(contract.ref("MembershipReply"), "The membership (added by this call)"),
        404: contract.error("No such campaign or contact"),
        409: contract.error(
            "An MA campaign (joined by behaviour only), or a completed or aborted campaign for a new member"
        ),
        413: contract.error("Body over 4 KiB"),
        415: contract.error("A body that is not JSON"),
        422: contract.error("A status the campaign does not define, or a body this route cannot use"),
        503: contract.error("The contact changed too often meanwhile; send the same request again"),
        **contract.admin_errors(),
    },
    openapi_extensions=_OPTIONAL_BODY,
)
def put_member(campaign_id: CampaignId, contact_id: ContactId) -> Response[Any]:
    status = _requested_status()
    outcome = campaign_members.put_member(campaign_id, contact_id, status)
    return Response(
        status_code=201 if outcome.created else 200,
        content_type=content_types.APPLICATION_JSON,
        body=views.membership_reply(outcome).model_dump_json(),
        headers=_NO_STORE,
    )


@router.delete(
    "/v1/admin/campaigns/<campaign_id>/members/<contact_id>",
    summary="Remove a member from a CRM campaign (its history stays)",
    tags=["Campaigns"],
    security=contract.ADMIN_SECURITY,
    responses={
        204: contract.empty("Removed"),
        404: contract.error("No such campaign or contact, or the contact is no member"),
        409: contract.error("An MA campaign: its members are never removed by hand"),
        422: contract.error("A campaign or contact id longer than 64 characters"),
        503: contract.error("The contact changed too often meanwhile; send the same request again"),
        **contract.admin_errors(),
    },
)
def delete_member(campaign_id: CampaignId, contact_id: ContactId) -> Response[Any]:
    campaign_members.remove_member(campaign_id, contact_id)
    return Response(status_code=204, headers=_NO_STORE)


@router.get(
    "/v1/admin/campaigns/<campaign_id>/history",
    summary="A campaign's membership changes, paginated",
    description="Every add, status change and removal (`to` null), kept when a membership is removed. "
    "A page walks the campaign's member shards in turn, each oldest first.",
    tags=["Campaigns"],
    security=contract.ADMIN_SECURITY,
    responses={
        200: contract.reply(contract.ref("CampaignHistoryView"), "One page of changes"),
        404: contract.error("No such campaign"),
        422: contract.error("A cursor or limit this API cannot use"),
        **contract.admin_errors(),
    },
)
def get_history(
    campaign_id: CampaignId,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=200, description="Changes per page")] = 50,
) -> CampaignHistoryView:
    page = campaign_members.history(campaign_id, cursor=cursor, limit=limit)
    return views.campaign_history_view(page)


def _requested_status() -> str | None:
    """The body's ``status``: no body means none; anything else must be the JSON object the
    ``MembershipBody`` model allows (extra keys refused)."""
    from pydantic import ValidationError

    from leadflow.api.models import MembershipBody

    event = router.current_event
    data = bodies.raw_body(event.body, bool(event.is_base64_encoded), limit=MAX_BODY_BYTES)
    if not data.strip():
        return None
    media = bodies.MediaType.parse(event.headers.get("content-type"))
    if media is not None and media.essence != bodies.JSON:
        raise UnsupportedMediaType("send the body as application/json")
    document = bodies.json_object(data, media.charset if media else None)
    try:
        return MembershipBody.model_validate(document).status
    except ValidationError as invalid:
        raise ValidationFailed.for_fields(
            {".".join(str(part) for part in item["loc"]) or "body": item["msg"] for item in invalid.errors()}
        ) from None
