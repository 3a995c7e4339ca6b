"""Sync rules: explicit, one-directional rules between MA behaviour and CRM campaign membership.

There is never a two-way campaign sync: each rule says which way it goes, so a loop cannot form.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import Discriminator, Field, field_validator, model_validator

from leadflow.definitions.base import VARIANT_PREFIX, DefinitionModel, Slug, TagName, variant
from leadflow.definitions.conditions import Condition


class SyncDirection(StrEnum):
    MA_TO_CRM = "ma_to_crm"
    CRM_TO_MA = "crm_to_ma"


class CrmTarget(DefinitionModel):
    """``then`` of an MA->CRM rule: make the contact a member of a CRM campaign."""

    add_to_crm_campaign: Annotated[Slug, Field(description="a CRM campaign id")]
    status: Annotated[
        str | None,
        Field(min_length=1, description="one of its member statuses; default: its default status"),
    ] = None


class MaTarget(DefinitionModel):
    """``then`` of a CRM->MA rule: what happens to the contact on the MA side."""

    add_to_list: Annotated[Slug | None, Field(description="a static list id")] = None
    enroll: Annotated[Slug | None, Field(description="a flow id")] = None
    add_tags: Annotated[list[TagName], Field(description="tags to add")] = []

    @model_validator(mode="after")
    def _does_something(self) -> Self:
        if self.add_to_list is None and self.enroll is None and not self.add_tags:
            raise ValueError("then needs add_to_list, enroll or add_tags")
        return self


class MaToCrmRule(DefinitionModel):
    """When a contact's MA state matches ``when`` (checked per activity), add them to a CRM campaign."""

    id: Annotated[Slug, Field(description="unique among sync rules")]
    direction: Literal[SyncDirection.MA_TO_CRM]
    when: Annotated[Condition, Field(description="such as {ma_campaign: webinar-q3, score_at_least: 50}")]
    then: Annotated[CrmTarget, Field(description="{add_to_crm_campaign, status}")]
    enabled: Annotated[bool, Field(description="a disabled rule does nothing")] = True


class CrmToMaRule(DefinitionModel):
    """When a CRM campaign membership gets a status, act on the MA side."""

    id: Annotated[Slug, Field(description="unique among sync rules")]
    direction: Literal[SyncDirection.CRM_TO_MA]
    when: Annotated[Condition, Field(description="{crm_campaign, status}; status left out means any status")]
    then: Annotated[MaTarget, Field(description="{add_to_list, enroll, add_tags}")]
    enabled: Annotated[bool, Field(description="a disabled rule does nothing")] = True

    @field_validator("when")
    @classmethod
    def _crm_event(cls, value: Condition) -> Condition:
        if value.crm_campaign is None:
            raise ValueError("a crm_to_ma rule's when needs crm_campaign (and usually status)")
        return value


def _direction(value: object) -> str | None:
    direction = value.get("direction") if isinstance(value, dict) else getattr(value, "direction", None)
    known = {member.value for member in SyncDirection}
    return VARIANT_PREFIX + direction if isinstance(direction, str) and direction in known else None


SyncRule = Annotated[
    Annotated[MaToCrmRule, variant(SyncDirection.MA_TO_CRM)]
    | Annotated[CrmToMaRule, variant(SyncDirection.CRM_TO_MA)],
    Discriminator(
        _direction,
        custom_error_type="invalid_sync_direction",
        custom_error_message="direction must be ma_to_crm or crm_to_ma",
    ),
    Field(description="an MA->CRM or CRM->MA rule"),
]
