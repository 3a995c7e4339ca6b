"""Actions: what a form submission or a qualification does (tags, flows, lists, CRM campaigns).

Each action is a one-key mapping, ``- add_tags: [webinar]``, so a list of them reads as steps.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from leadflow.definitions.base import DefinitionModel, Slug, TagName, one_of_keys, variant


class CrmMembership(DefinitionModel):
    """Membership of a CRM campaign with a member status (the campaign's default when left out)."""

    campaign: Annotated[Slug, Field(description="a CRM campaign id")]
    status: Annotated[
        str | None,
        Field(min_length=1, description="one of the campaign's member statuses; default: its default status"),
    ] = None


def _campaign_shorthand(value: Any) -> Any:
    """``add_to_crm_campaign: crm-x`` is short for ``{campaign: crm-x}``."""
    return {"campaign": value} if isinstance(value, str) else value


class AddTagsAction(DefinitionModel):
    """Tag the contact."""

    add_tags: Annotated[list[TagName], Field(min_length=1, description="tags to add")]


class EnrollAction(DefinitionModel):
    """Enroll the contact in a flow (subject to the flow's reentry rule)."""

    enroll: Annotated[Slug, Field(description="a flow id")]


class AddToListAction(DefinitionModel):
    """Add the contact to a static list."""

    add_to_list: Annotated[Slug, Field(description="a static list id")]


class AddToCrmCampaignAction(DefinitionModel):
    """Make the contact a member of a CRM campaign, with a status."""

    add_to_crm_campaign: Annotated[
        CrmMembership,
        BeforeValidator(_campaign_shorthand),
        Field(description="{campaign, status}, or just the campaign id for its default status"),
    ]


ACTION_KEYS = ("add_tags", "enroll", "add_to_list", "add_to_crm_campaign")

Action = Annotated[
    Annotated[AddTagsAction, variant("add_tags")]
    | Annotated[EnrollAction, variant("enroll")]
    | Annotated[AddToListAction, variant("add_to_list")]
    | Annotated[AddToCrmCampaignAction, variant("add_to_crm_campaign")],
    one_of_keys(ACTION_KEYS, "an action"),
    Field(description="one of add_tags, enroll, add_to_list, add_to_crm_campaign"),
]
"""A completion action of a form, or an action on qualification."""

FormAction = Action
"""The name form code uses for ``on_submit`` items: the same actions as qualification."""
