"""Lists: static lists (members added by actions and imports) and segments (members by a condition)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, ValidationInfo, field_validator

from leadflow.definitions.base import DefinitionModel, DisplayName, Slug
from leadflow.definitions.conditions import Condition


class ListKind(StrEnum):
    STATIC = "static"
    SEGMENT = "segment"


class ContactList(DefinitionModel):
    """A list of contacts; a segment's members are whoever matches ``where`` now."""

    id: Annotated[Slug, Field(description="unique among lists")]
    kind: Annotated[ListKind, Field(description="static or segment")]
    name: Annotated[DisplayName | None, Field(description="the list's name in reports")] = None
    description: Annotated[str | None, Field(description="free text for the team")] = None
    where: Annotated[
        Condition | None,
        Field(validate_default=True, description="segment only (and required there): who is in it"),
    ] = None

    @field_validator("where")
    @classmethod
    def _where(cls, value: Condition | None, info: ValidationInfo) -> Condition | None:
        kind = info.data.get("kind")
        if kind is ListKind.SEGMENT:
            if value is None:
                raise ValueError("a segment needs where: the condition its members meet")
            if value.tests_activity:
                raise ValueError(
                    "a segment is about contacts, not activities: "
                    f"remove {', '.join(value.activity_keys_set)}"
                )
        elif kind is ListKind.STATIC and value is not None:
            raise ValueError(
                "a static list has no where; use kind: segment for a list defined by a condition"
            )
        return value

    @property
    def is_static(self) -> bool:
        return self.kind is ListKind.STATIC

    @property
    def is_segment(self) -> bool:
        return self.kind is ListKind.SEGMENT
