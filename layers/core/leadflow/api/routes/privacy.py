"""``/v1/admin/contacts/{id}/export`` and ``DELETE /v1/admin/contacts/{id}``: the data subject's
rights of access and erasure."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from leadflow.api import contract
from leadflow.api.models import ContactExportView
from leadflow.services import privacy

router = Router()


@router.get(
    "/v1/admin/contacts/<contact_id>/export",
    summary="Everything stored about a contact (GDPR access)",
    description="The profile, the whole activity history and score ledger, enrollments and their "
    "effects, campaign and list memberships with their history, and the visitor activity from "
    "before the person was identified.",
    tags=["Contacts"],
    security=contract.ADMIN_SECURITY,
    responses={
        200: contract.reply(contract.ref("ContactExportView"), "Everything stored about the contact"),
        404: contract.error("No such contact"),
        422: contract.error("Not a contact id"),
        **contract.admin_errors(),
    },
)
def export_contact(contact_id: Annotated[str, Path(max_length=64)]) -> Response[str]:
    exported = privacy.export_contact(contact_id)
    view = ContactExportView.model_validate(asdict(exported))
    return Response(
        status_code=200,
        content_type="application/json",
        body=json.dumps(view.model_dump(mode="json"), default=str),
        headers={"Content-Disposition": f'attachment; filename="contact-{contact_id}.json"'},
    )


@router.delete(
    "/v1/admin/contacts/<contact_id>",
    summary="Erase a contact everywhere (GDPR erasure)",
    description="Deletes the profile, history, ledger, enrollments and memberships, keeping only a "
    "hash of the address so that an import cannot bring it back. Repeatable: erasing again "
    "finishes an interrupted erasure. `ContactErased` is announced on the bus.",
    tags=["Contacts"],
    security=contract.ADMIN_SECURITY,
    responses={
        204: contract.empty("Erased"),
        404: contract.error("No such contact, now or erased in the last 30 days"),
        422: contract.error("Not a contact id"),
        **contract.admin_errors(),
    },
)
def erase_contact(contact_id: Annotated[str, Path(max_length=64)]) -> Response[str]:
    privacy.erase_contact(contact_id)
    return Response(status_code=204, body="")
