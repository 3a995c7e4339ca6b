"""``/v1/admin/contacts/{contact_id}/enrollments/{flow_id}/...``: re-drive or end an enrollment by hand."""

from typing import Annotated, cast

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from leadflow.api import contract, views
from leadflow.api.models import EnrollmentView

router = Router()

ContactId = Annotated[str, Path(max_length=64, description="The contact id")]
FlowId = Annotated[
    str, Path(pattern=r"^[a-z0-9_-]{1,64}$", description="The flow id (as in the definitions bundle)")
]

_ERRORS = {
    404: contract.error("No such contact, or the contact has no enrollment in that flow"),
    409: contract.error("The enrollment is already over (completed, exited or failed)"),
    422: contract.error("Not a contact id or a flow id"),
    503: contract.error("The enrollment kept changing while ending it; try again"),
    **contract.admin_errors(),
}


def _caller() -> str | None:
    """The IAM principal that signed the request (absent on the local stack)."""
    event = cast(APIGatewayProxyEventV2, router.current_event)
    iam = getattr(event.request_context.authorizer, "iam", None)
    return getattr(iam, "user_arn", None) if iam else None


@router.post(
    "/v1/admin/contacts/<contact_id>/enrollments/<flow_id>/redrive",
    summary="Re-drive an enrollment now",
    description="Sends the enrollment to the step queue, as the watchdog does for an overdue one: "
    "what is due runs at once; a wait that is not over stays (a re-drive never skips a wait or repeats "
    "an effect). Answers the enrollment as it was when sent.",
    tags=["Contacts"],
    security=contract.ADMIN_SECURITY,
    responses={
        200: contract.reply(contract.ref("EnrollmentView"), "The enrollment, sent to the step queue"),
        **_ERRORS,
    },
)
def redrive_enrollment(contact_id: ContactId, flow_id: FlowId) -> EnrollmentView:
    from leadflow.services.nurture import manual

    return views.enrollment_view(manual.redrive(contact_id, flow_id))


@router.post(
    "/v1/admin/contacts/<contact_id>/enrollments/<flow_id>/end",
    summary="End an enrollment by hand",
    description="Ends a live enrollment: state `exited`, reason `ended_by_admin`, nothing more is sent. "
    "Its path records who ended it. The flow's re-entry policy applies to later triggers as usual.",
    tags=["Contacts"],
    security=contract.ADMIN_SECURITY,
    responses={200: contract.reply(contract.ref("EnrollmentView"), "The ended enrollment"), **_ERRORS},
)
def end_enrollment(contact_id: ContactId, flow_id: FlowId) -> EnrollmentView:
    from leadflow.services.nurture import manual

    return views.enrollment_view(manual.end(contact_id, flow_id, who=_caller()))
