"""Effects: what the runner must do for an advance, in order, each with a deterministic id.

The runner carries out each effect at most once by its ``effect_id`` (a conditional write, or the
SES idempotency of its outbox), so replaying an advance after a crash repeats no email, task or
change. ``Ended`` tells it the enrollment is over (to drop it from the due-time index).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from leadflow.domain.nurture.enrollment import Model


class _Effect(Model):
    effect_id: str
    enrollment_id: str
    step_id: str | None


class SendEmail(_Effect):
    """Render and send ``template`` to the contact. Put ``effect_id`` in the tracking links and pixel:
    the open and click activities must carry ``properties.effect_id`` for ``wait_for.of_step``."""

    kind: Literal["send_email"] = "send_email"
    template: str
    send_at: datetime
    flow_id: str
    flow_version: int
    contact_id: str
    trigger: dict[str, Any] = Field(default_factory=dict, description="for the template: {{ trigger.* }}")


class CreateSalesTask(_Effect):
    """Emit ``SalesTaskCreated`` for the CRM connector."""

    kind: Literal["sales_task"] = "sales_task"
    channel: str
    note: str | None = None
    due_at: datetime | None = None


class UpdateContact(_Effect):
    kind: Literal["update_contact"] = "update_contact"
    score_delta: int = 0
    add_tags: list[str] = Field(default_factory=list)
    remove_tags: list[str] = Field(default_factory=list)
    set_fields: dict[str, Any] = Field(default_factory=dict)
    stage: str | None = Field(default=None, description="move forward to this stage (never back)")


class AddToList(_Effect):
    kind: Literal["add_to_list"] = "add_to_list"
    list_id: str


class AddToCrmCampaign(_Effect):
    kind: Literal["add_to_crm_campaign"] = "add_to_crm_campaign"
    campaign: str
    status: str | None = Field(default=None, description="None: the campaign's default status")


class Ended(_Effect):
    kind: Literal["ended"] = "ended"
    state: str
    reason: str


Effect = Annotated[
    SendEmail | CreateSalesTask | UpdateContact | AddToList | AddToCrmCampaign | Ended,
    Field(discriminator="kind"),
]
