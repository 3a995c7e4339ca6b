"""The scoring model: rules that add points per activity, decay, temperature bands, and qualification."""

from __future__ import annotations

from typing import Annotated, Any, Self

from pydantic import Field, PrivateAttr, field_validator, model_validator

from leadflow.definitions.actions import Action
from leadflow.definitions.activities import ActivityType
from leadflow.definitions.base import DefinitionModel, Identifier, Slug, TagName
from leadflow.definitions.conditions import Condition
from leadflow.definitions.durations import Duration
from leadflow.definitions.lifecycle import Temperature


class ScoringRule(DefinitionModel):
    """Points for an activity that matches ``when``; every matching rule fires."""

    id: Annotated[Slug, Field(description="unique among rules; the score ledger names it")]
    when: Annotated[Condition, Field(description="must include activity: rules are indexed by it")]
    points: Annotated[
        int, Field(ge=-10_000, le=10_000, description="points to add; negative lowers the score")
    ]
    max_per_day: Annotated[
        int | None,
        Field(ge=1, description="the rule fires at most this often per contact per day (UTC)"),
    ] = None
    tag_from: Annotated[
        Identifier | None,
        Field(description="also tag the contact with this activity property's value, such as topic"),
    ] = None
    add_tags: Annotated[list[TagName], Field(description="also add these tags when the rule fires")] = []

    @field_validator("when")
    @classmethod
    def _indexed(cls, value: Condition) -> Condition:
        if value.activity is None:
            raise ValueError(
                "a scoring rule's when needs activity (such as page_view): rules are indexed by it"
            )
        return value

    @property
    def activity(self) -> ActivityType:
        """The activity type this rule is indexed under."""
        assert self.when.activity is not None  # guaranteed by validation
        return self.when.activity


class Decay(DefinitionModel):
    """Inactivity lowers the score: ``points`` every ``every`` without activity, never below ``floor``."""

    points: Annotated[int, Field(lt=0, description="negative: points per period of inactivity")]
    every: Annotated[Duration, Field(description="the period, such as 30d")]
    floor: Annotated[int, Field(description="decay stops here")] = 0


class TemperatureBands(DefinitionModel):
    """Score thresholds: below ``warm`` is cold, from ``hot`` up is hot."""

    warm: Annotated[int, Field(description="the lowest warm score")]
    hot: Annotated[int, Field(description="the lowest hot score; greater than warm")]

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.hot <= self.warm:
            raise ValueError(f"hot ({self.hot}) must be greater than warm ({self.warm})")
        return self

    def of(self, score: int) -> Temperature:
        """The temperature of a score."""
        if score >= self.hot:
            return Temperature.HOT
        return Temperature.WARM if score >= self.warm else Temperature.COLD


class Qualify(DefinitionModel):
    """When a lead becomes an MQL and is handed to sales."""

    mql_score: Annotated[int | None, Field(description="qualify when the score reaches this")] = None
    or_activity: Annotated[
        list[ActivityType],
        Field(description="or when one of these activities happens, whatever the score"),
    ] = []
    actions: Annotated[list[Action], Field(description="what qualification does, once per contact")] = []

    @model_validator(mode="after")
    def _has_a_trigger(self) -> Self:
        if self.mql_score is None and not self.or_activity:
            raise ValueError("qualify needs mql_score or or_activity")
        return self


class Scoring(DefinitionModel):
    """The whole scoring model. Empty by default: no rules, no decay, everyone cold, nobody qualifies."""

    rules: Annotated[list[ScoringRule], Field(description="every matching rule fires")] = []
    decay: Annotated[Decay | None, Field(description="inactivity lowers the score")] = None
    temperature: Annotated[TemperatureBands | None, Field(description="{warm, hot} score thresholds")] = None
    qualify: Annotated[Qualify | None, Field(description="hand the lead to sales")] = None

    _by_activity: dict[str, list[ScoringRule]] = PrivateAttr(default_factory=dict)
    _by_id: dict[str, ScoringRule] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        for rule in self.rules:
            self._by_activity.setdefault(rule.activity, []).append(rule)
            self._by_id.setdefault(rule.id, rule)

    def rules_for(self, activity: ActivityType | str) -> list[ScoringRule]:
        """The rules indexed under an activity type, in bundle order; test their ``when`` next."""
        return self._by_activity.get(activity, [])  # a StrEnum member and its plain string are one key

    def rule(self, rule_id: str) -> ScoringRule | None:
        return self._by_id.get(rule_id)

    def temperature_of(self, score: int) -> Temperature:
        """Cold when the model sets no temperature bands."""
        return self.temperature.of(score) if self.temperature else Temperature.COLD
