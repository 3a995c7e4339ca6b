"""Sync rules, matched: which rules one change can make start to hold, found through an index.

A rule's ``when`` is a conjunction, so it can only start to hold when one of the things it names
changes. Each MA->CRM rule is filed under every such thing (an activity type or form, a tag added,
a list joined, a stage reached, a score threshold crossed, an MA campaign joined, a CRM campaign
whose membership changed, the contact fields, the subscription), and a ``Delta`` (what one round
of processing changed) looks up only those keys; candidates are then checked in full. CRM->MA
rules are filed under the CRM campaign, with the status they wait for.

"Reaching" a status means the membership's place in the campaign's order crosses it: statuses
only move forward for every writer but an admin, so a member moved straight from Sent to
Attended has reached Registered on the way. That is what makes the outcome of a set of rules
independent of the order in which they fire (tests/unit/test_sync_rules.py holds it).

Pure; built once per bundle and cached while the bundle is in use, like ``rule_index``.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Set
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from leadflow.definitions import Bundle
    from leadflow.definitions.campaigns import Campaign
    from leadflow.definitions.conditions import Condition
    from leadflow.definitions.sync import CrmToMaRule, MaToCrmRule
    from leadflow.domain.activities import Activity

Key = tuple[str, str]
"""An index key: (what changed, which one), such as ("tag", "vip") or ("form", "signup")."""

#: Activities after which capture may have changed the contact's fields or subscription.
_FIELD_ACTIVITIES = frozenset({"form_submit"})
_SUBSCRIPTION_ACTIVITIES = frozenset({"form_submit", "unsubscribe", "email_bounced", "email_complained"})


def reached_statuses(campaign: Campaign, previous: str | None, status: str) -> list[str]:
    """The statuses a membership passes moving from ``previous`` (``None``: not a member) to
    ``status``: those ranked above ``previous`` up to ``status``; none for a backward move."""
    names = campaign.status_names()
    if status not in names:
        return []
    start = names.index(previous) + 1 if previous in names else 0
    return names[start : names.index(status) + 1]


def crm_event_matches(
    campaign: str, status: str | None, changed: Set[str], reached: Set[tuple[str, str]]
) -> bool:
    """A CRM->MA rule's or a ``crm_member_status`` trigger's event: the membership of ``campaign``
    reached ``status``, or (no status) changed at all."""
    return campaign in changed if status is None else (campaign, status) in reached


@dataclass(slots=True)
class Delta:
    """What one round of processing changed; the index keys a rule may start to hold on."""

    activity: Activity | None = None
    tags_added: set[str] = field(default_factory=set)
    lists_joined: set[str] = field(default_factory=set)
    stage: str | None = None
    """the stage reached, if it changed"""
    score_before: int = 0
    score_after: int = 0
    temperature_changed: bool = False
    ma_campaign_joined: str | None = None
    crm_changed: set[str] = field(default_factory=set)
    """CRM campaigns whose membership was added or changed status (either way)"""
    crm_reached: set[tuple[str, str]] = field(default_factory=set)
    """(campaign, status) pairs a membership reached, in the sense of ``reached_statuses``"""
    fields_changed: bool = False
    subscription_changed: bool = False

    def index_keys(self) -> set[Key]:
        keys: set[Key] = set()
        if self.activity is not None:
            keys.add(("activity", self.activity.type))
            form_id = self.activity.properties.get("form_id")
            if self.activity.type == "form_submit" and form_id is not None:
                keys.add(("form", str(form_id)))
            if self.activity.type in _FIELD_ACTIVITIES:
                keys.add(("fields", ""))
            if self.activity.type in _SUBSCRIPTION_ACTIVITIES or self.activity.facts.contact_created:
                keys.add(("subscribed", ""))
            if self.activity.facts.contact_created:
                keys.add(("created", ""))
        keys |= {("tag", tag) for tag in self.tags_added}
        keys |= {("list", list_id) for list_id in self.lists_joined}
        keys |= {("crm", campaign) for campaign, _ in self.crm_reached}
        keys |= {("crm", campaign) for campaign in self.crm_changed}
        if self.stage is not None:
            keys.add(("stage", self.stage))
        if self.temperature_changed:
            keys.add(("temperature", ""))
        if self.ma_campaign_joined is not None:
            keys.add(("ma_campaign", self.ma_campaign_joined))
        if self.fields_changed:
            keys.add(("fields", ""))
        if self.subscription_changed:
            keys.add(("subscribed", ""))
        return keys

    def __bool__(self) -> bool:
        return bool(
            self.activity is not None
            or self.tags_added
            or self.lists_joined
            or self.stage is not None
            or self.score_before != self.score_after
            or self.temperature_changed
            or self.ma_campaign_joined is not None
            or self.crm_changed
            or self.crm_reached
            or self.fields_changed
            or self.subscription_changed
        )


def condition_keys(when: Condition) -> list[Key]:
    """The keys under which a change can make ``when`` start to hold (score thresholds aside)."""
    keys: list[Key] = []
    if when.activity is not None:
        keys.append(("form", when.form) if when.form is not None else ("activity", str(when.activity)))
    if when.has_tag is not None:
        keys.append(("tag", when.has_tag))
    if when.in_list is not None:
        keys.append(("list", when.in_list))
    keys += [("stage", str(stage)) for stage in when.stage_in or []]
    if when.temperature is not None:
        keys.append(("temperature", ""))
    if when.ma_campaign is not None:
        keys.append(("ma_campaign", when.ma_campaign))
    if when.crm_campaign is not None:
        keys.append(("crm", when.crm_campaign))
    if when.field:
        keys.append(("fields", ""))
    if when.subscribed is not None:
        keys.append(("subscribed", ""))
    if not keys and when.score_at_least is None and when.score_below is None:
        keys.append(("created", ""))  # an empty ``when`` holds for everyone: it starts with the contact
    return keys


@dataclass(frozen=True, slots=True)
class CrmToMaMatch:
    """A CRM->MA rule, with the rest of its ``when`` (the CRM keys are matched by the index)."""

    rule: CrmToMaRule
    rest: Condition


class SyncRuleIndex:
    """The enabled sync rules of a bundle, filed under what can make each start to hold."""

    def __init__(self, bundle: Bundle) -> None:
        from leadflow.definitions.sync import CrmToMaRule, MaToCrmRule

        self._order: dict[str, int] = {}
        self._by_key: dict[Key, list[MaToCrmRule]] = {}
        self._at_least: list[tuple[int, int, MaToCrmRule]] = []
        self._below: list[tuple[int, int, MaToCrmRule]] = []
        self._crm: dict[str, list[CrmToMaMatch]] = {}
        self.ma_to_crm_count = 0
        self.crm_to_ma_count = 0
        for position, rule in enumerate(bundle.sync_rules):
            self._order[rule.id] = position
            if not rule.enabled:
                continue
            if isinstance(rule, MaToCrmRule):
                self.ma_to_crm_count += 1
                for key in condition_keys(rule.when):
                    self._by_key.setdefault(key, []).append(rule)
                if rule.when.score_at_least is not None:
                    self._at_least.append((rule.when.score_at_least, position, rule))
                if rule.when.score_below is not None:
                    self._below.append((rule.when.score_below, position, rule))
            elif isinstance(rule, CrmToMaRule):
                self.crm_to_ma_count += 1
                rest = rule.when.model_copy(update={"crm_campaign": None, "status": None})
                campaign = rule.when.crm_campaign or ""
                self._crm.setdefault(campaign, []).append(CrmToMaMatch(rule, rest))
        self._at_least.sort(key=lambda entry: entry[0])
        self._below.sort(key=lambda entry: entry[0])
        self._at_least_keys = [entry[0] for entry in self._at_least]
        self._below_keys = [entry[0] for entry in self._below]

    def ma_to_crm(self, delta: Delta) -> list[MaToCrmRule]:
        """The MA->CRM rules ``delta`` may have made hold, in bundle order, each once."""
        found: dict[str, MaToCrmRule] = {}
        for key in delta.index_keys():
            for rule in self._by_key.get(key, ()):
                found.setdefault(rule.id, rule)
        low, high = delta.score_before, delta.score_after
        if high > low:  # score_at_least t starts to hold when the score goes from below t to t or more
            for _, _, rule in self._at_least[
                bisect_right(self._at_least_keys, low) : bisect_right(self._at_least_keys, high)
            ]:
                found.setdefault(rule.id, rule)
        elif high < low:  # score_below t starts to hold when the score falls from t or more to below t
            for _, _, rule in self._below[
                bisect_left(self._below_keys, high + 1) : bisect_right(self._below_keys, low)
            ]:
                found.setdefault(rule.id, rule)
        return sorted(found.values(), key=lambda rule: self._order[rule.id])

    def crm_to_ma(self, delta: Delta) -> list[CrmToMaMatch]:
        """The CRM->MA rules whose membership event ``delta`` holds (their status reached; with no
        status, any change), in bundle order; the rest of each rule's ``when`` is still to be checked."""
        found: list[CrmToMaMatch] = []
        for campaign in delta.crm_changed | {campaign for campaign, _ in delta.crm_reached}:
            for match in self._crm.get(campaign, ()):
                wanted = match.rule.when.status
                if crm_event_matches(campaign, wanted, delta.crm_changed, delta.crm_reached):
                    found.append(match)
        return sorted(found, key=lambda match: self._order[match.rule.id])

    @property
    def empty(self) -> bool:
        return not (self.ma_to_crm_count or self.crm_to_ma_count)


_cache: dict[int, tuple[Any, SyncRuleIndex]] = {}


def sync_rule_index(bundle: Bundle) -> SyncRuleIndex:
    """The index of a bundle's sync rules; the cache holds the bundle itself, so its id stays unique."""
    entry = _cache.get(id(bundle))
    if entry is None or entry[0] is not bundle:
        if len(_cache) >= 4:
            _cache.clear()
        entry = (bundle, SyncRuleIndex(bundle))
        _cache[id(bundle)] = entry
    return entry[1]
