"""``/v1/admin/...``: definitions and contact look-up (IAM-authorised in AWS, bearer token locally)."""

from typing import Annotated, cast

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from leadflow.api import bodies, contract, views
from leadflow.api.models import (
    ActiveDefinitionsView,
    ContactView,
    DefinitionsApplied,
    ListMembersView,
    ScoreLedgerView,
)
from leadflow.errors import UnsupportedMediaType, ValidationFailed
from leadflow.services import contacts, definitions

router = Router()

#: A bundle's sections, as DEFINITIONS.md describes them; the apply validates it as a whole.
_BUNDLE = {"type": "object", "description": "campaigns, forms, sites, scoring, lists, flows, ..."}

MAX_DEFINITIONS_BYTES = 1024 * 1024
_DEFINITION_TYPES = {
    "application/json",
    "application/yaml",
    "application/x-yaml",
    "text/yaml",
    "text/x-yaml",
    "text/plain",
}


def _caller() -> str | None:
    """The IAM principal that signed the request (absent on the local stack)."""
    event = cast(APIGatewayProxyEventV2, router.current_event)
    authorizer = event.request_context.authorizer
    iam = getattr(authorizer, "iam", None)
    return getattr(iam, "user_arn", None) if iam else None


@router.put(
    "/v1/admin/definitions",
    summary="Apply a definitions bundle",
    description="YAML or JSON; validated as a whole. `dry_run=true` validates and reports the diff only. "
    "A bundle that removes live campaigns, forms, lists, flows or sites is refused (409, with "
    "`removals`) unless `allow_removals=true`.",
    tags=["Definitions"],
    security=contract.ADMIN_SECURITY,
    responses={
        200: contract.reply(
            contract.ref("DefinitionsApplied"), "Applied (or, with dry_run, what applying would change)"
        ),
        409: contract.error("Another apply changed the definitions meanwhile"),
        413: contract.error("Bundle over 1 MiB"),
        415: contract.error("Not YAML or JSON"),
        422: contract.error("The bundle's problems, each under its path"),
        **contract.admin_errors(),
    },
    openapi_extensions=contract.request_body(
        "The whole bundle (see DEFINITIONS.md), as YAML or JSON",
        {"application/yaml": _BUNDLE, "application/json": _BUNDLE},
    ),
)
def apply_definitions(
    dry_run: Annotated[bool, Query(description="Validate and diff without storing")] = False,
    simulate: Annotated[
        bool, Query(description="Also replay the last 30 days through the new scoring (implies dry_run)")
    ] = False,
    allow_removals: Annotated[
        bool, Query(description="Confirm that live campaigns, forms, lists, flows or sites may be removed")
    ] = False,
) -> DefinitionsApplied:
    from leadflow.definitions import DefinitionsError

    event = router.current_event
    media = bodies.MediaType.parse(event.headers.get("content-type"))
    if media is None or media.essence not in _DEFINITION_TYPES:
        raise UnsupportedMediaType("send the bundle as application/yaml or application/json")
    data = bodies.raw_body(event.body, bool(event.is_base64_encoded), limit=MAX_DEFINITIONS_BYTES)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed.for_fields({"body": "the body is not valid UTF-8"}) from None
    try:
        result = definitions.apply(
            text,
            content_type=media.essence,
            dry_run=dry_run or simulate,
            applied_by=_caller(),
            allow_removals=allow_removals,
        )
    except DefinitionsError as error:
        problems = {problem.path or "bundle": problem.message for problem in error.problems}
        raise ValidationFailed(f"the bundle has {len(error.problems)} problem(s)", problems) from None
    report = None
    if simulate:
        from leadflow.services import simulation  # the replay and its domain: only simulations pay for them

        report = simulation.simulate_scoring(result.bundle)
    return DefinitionsApplied(
        version=result.version,
        previous_version=result.previous_version,
        dry_run=result.dry_run,
        applied_at=result.applied_at,
        diff=result.diff,
        removals=result.removals,
        simulation=report,
    )


@router.get(
    "/v1/admin/definitions",
    summary="The active definitions bundle",
    tags=["Definitions"],
    security=contract.ADMIN_SECURITY,
    responses={
        200: contract.reply(contract.ref("ActiveDefinitionsView"), "The active bundle"),
        **contract.admin_errors(),
    },
)
def get_definitions() -> ActiveDefinitionsView:
    active = definitions.active()
    return ActiveDefinitionsView(
        version=active.version, applied_at=active.applied_at, bundle=active.bundle.to_json_dict()
    )


@router.get(
    "/v1/admin/contacts",
    summary="Find a contact by email",
    tags=["Contacts"],
    security=contract.ADMIN_SECURITY,
    responses={
        200: contract.reply(contract.ref("ContactView"), "The contact"),
        404: contract.error("No contact has that email"),
        422: contract.error("Not an email address"),
        **contract.admin_errors(),
    },
)
def find_contact(
    email: Annotated[str, Query(description="The contact's email address", max_length=254)],
) -> ContactView:
    return views.contact_view(contacts.contact_by_email(email))


@router.get(
    "/v1/admin/contacts/<contact_id>",
    summary="A contact with campaigns and recent activities",
    tags=["Contacts"],
    security=contract.ADMIN_SECURITY,
    responses={
        200: contract.reply(contract.ref("ContactView"), "The contact"),
        404: contract.error("No such contact"),
        422: contract.error("Not a contact id"),
        **contract.admin_errors(),
    },
)
def get_contact(contact_id: Annotated[str, Path(max_length=64)]) -> ContactView:
    return views.contact_view(contacts.contact_by_id(contact_id))


@router.get(
    "/v1/admin/contacts/<contact_id>/score",
    summary="A contact's score ledger: each rule that fired, its points, its activity",
    tags=["Contacts"],
    security=contract.ADMIN_SECURITY,
    responses={
        200: contract.reply(contract.ref("ScoreLedgerView"), "The ledger, newest first"),
        404: contract.error("No such contact"),
        422: contract.error("Not a contact id"),
        **contract.admin_errors(),
    },
)
def get_score_ledger(contact_id: Annotated[str, Path(max_length=64)]) -> ScoreLedgerView:
    return views.score_ledger_view(contacts.score_ledger(contact_id))


@router.get(
    "/v1/admin/segments/<list_id>/members",
    summary="Members of a segment or list, paginated",
    tags=["Lists"],
    security=contract.ADMIN_SECURITY,
    responses={
        200: contract.reply(contract.ref("ListMembersView"), "One page of members"),
        404: contract.error("No such list or segment"),
        422: contract.error("Invalid parameters: a list id, cursor or limit this API cannot use"),
        **contract.admin_errors(),
    },
)
def get_list_members(
    list_id: Annotated[str, Path(max_length=64)],
    cursor: Annotated[str | None, Query(description="From the previous page", max_length=2048)] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="Members per page")] = 100,
) -> ListMembersView:
    return views.list_members_view(contacts.list_members(list_id, cursor, limit))
