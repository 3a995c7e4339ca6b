"""What one activity does to one contact: points, tags, lists, stage, qualification, events.

Pure: given the definitions, the contact's state and the activity, it returns the new state
and everything to write and announce. The processor commits all of it in one conditional
transaction, so an activity's effects happen exactly once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from leadflow import clock
from leadflow.domain import crm_membership
from leadflow.domain.conditions import holds
from leadflow.domain.crm_membership import MembershipChange, MembershipRefused
from leadflow.domain.rule_index import index_for
from leadflow.domain.state import ContactState
from leadflow.domain.sync_rules import Delta, reached_statuses, sync_rule_index
from leadflow.domain.temperature import temperature_for

if TYPE_CHECKING:
    from leadflow.definitions import Bundle
    from leadflow.definitions.actions import Action
    from leadflow.definitions.campaigns import Campaign
    from leadflow.definitions.flows import Flow
    from leadflow.domain.activities import Activity
    from leadflow.domain.nurture.triggers import Happening

STAGES = ("subscriber", "lead", "mql", "sql", "opportunity", "customer")
#: Activities that show a known person's intent: they make a subscriber a lead.
_LEAD_ACTIVITIES = {"form_submit", "download", "event_registration", "trial_signup"}
_TAG = re.compile(r"[^a-z0-9_-]+")


def stage_rank(stage: str) -> int:
    return STAGES.index(stage) if stage in STAGES else 0


def tag_of(value: Any) -> str | None:
    """An activity property turned into a tag: lower-case, dashes for anything else."""
    text = _TAG.sub("-", str(value).strip().lower()).strip("-")
    return text[:64] or None


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    rule_id: str
    points: int
    activity_id: str
    activity_type: str
    occurred_at: str
    score_after: int


@dataclass(slots=True)
class Outcome:
    before: ContactState
    after: ContactState
    ledger: list[LedgerEntry] = field(default_factory=list)
    tags_added: list[str] = field(default_factory=list)
    lists_joined: list[str] = field(default_factory=list)
    lists_left: list[str] = field(default_factory=list)
    crm_memberships: list[MembershipChange] = field(default_factory=list)
    #: membership changes the definitions asked for but the campaign refused (closed, unknown status)
    crm_refused: list[tuple[str, str]] = field(default_factory=list)
    #: (campaign, status) a membership reached in this pass, by a change made here or recorded by
    #: the activity, walking the campaign's order (sync_rules.reached_statuses)
    crm_reached: list[tuple[str, str]] = field(default_factory=list)
    #: CRM campaigns whose membership was added or changed status in this pass
    crm_changed: list[str] = field(default_factory=list)
    sync_rules_fired: list[str] = field(default_factory=list)
    flows_to_enroll: list[str] = field(default_factory=list)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    qualified: bool = False

    @property
    def points(self) -> int:
        return sum(entry.points for entry in self.ledger)

    @property
    def changes_contact(self) -> bool:
        before, after = self.before, self.after
        return (
            before.score != after.score
            or before.stage != after.stage
            or before.tags != after.tags
            or before.lists != after.lists
            or before.rule_days != after.rule_days
            or before.qualified_at != after.qualified_at
            or before.crm_statuses != after.crm_statuses
        )


def process(bundle: Bundle, state: ContactState, activity: Activity) -> Outcome:
    """Applies the bundle's scoring, completion actions, lifecycle and segments to one activity."""
    outcome = Outcome(before=state, after=state.copy())
    after = outcome.after
    _score(bundle, outcome, activity)
    if activity.type == "form_submit":
        form = bundle.form(str(activity.properties.get("form_id", "")))
        for action in form.on_submit if form else []:
            _run_action(bundle, outcome, action, source="form", at=clock.iso(activity.occurred_at))
    if activity.type in _LEAD_ACTIVITIES and stage_rank(after.stage) < stage_rank("lead"):
        after.stage = "lead"
    _qualify(bundle, outcome, activity)
    _connected(bundle, outcome, activity)
    _recorded_crm_change(bundle, outcome, activity)
    _segments(bundle, outcome)
    sync(bundle, outcome, first_delta(bundle, outcome, activity), activity, clock.iso(activity.occurred_at))
    after.last_activity_at = max(filter(None, (state.last_activity_at, activity.occurred_at)))
    _announce(bundle, outcome, activity)
    return outcome


def _score(bundle: Bundle, outcome: Outcome, activity: Activity) -> None:
    after = outcome.after
    day = activity.occurred_at.date()
    index = index_for(bundle.scoring)
    for rule in index.candidates(activity):
        if not index.url_matches(rule, activity):
            continue
        if not holds(rule.when, outcome.before, activity=activity, scoring=bundle.scoring, url_checked=True):
            continue
        fired = after.fired_today(rule.id, day)
        if rule.max_per_day is not None:
            if fired >= rule.max_per_day:
                continue
            after.rule_days[rule.id] = (day, fired + 1)
        after.score += rule.points
        outcome.ledger.append(
            LedgerEntry(
                rule_id=rule.id,
                points=rule.points,
                activity_id=activity.activity_id,
                activity_type=activity.type,
                occurred_at=clock.iso(activity.occurred_at),
                score_after=after.score,
            )
        )
        tags = list(rule.add_tags)
        if rule.tag_from and activity.properties.get(rule.tag_from) not in (None, ""):
            tags.append(tag_of(activity.properties[rule.tag_from]) or "")
        _add_tags(outcome, [tag for tag in tags if tag])


def _add_tags(outcome: Outcome, tags: list[str]) -> None:
    for tag in tags:
        if tag not in outcome.after.tags:
            outcome.after.tags.add(tag)
            outcome.tags_added.append(tag)


def _run_action(bundle: Bundle, outcome: Outcome, action: Action, *, source: str, at: str) -> None:
    after = outcome.after
    if add_tags := getattr(action, "add_tags", None):
        _add_tags(outcome, list(add_tags))
    list_id = getattr(action, "add_to_list", None)
    if list_id and list_id not in after.lists:
        after.lists.add(list_id)
        outcome.lists_joined.append(list_id)
    if flow_id := getattr(action, "enroll", None):
        outcome.flows_to_enroll.append(flow_id)
    if membership := getattr(action, "add_to_crm_campaign", None):
        change_crm_membership(bundle, outcome, membership.campaign, membership.status, source=source, at=at)


def change_crm_membership(
    bundle: Bundle,
    outcome: Outcome,
    campaign_id: str,
    status: str | None,
    *,
    source: str,
    at: str,
) -> MembershipChange | None:
    """A forward-only CRM membership change made by the definitions (an action, a rule, a step):
    decided on the profile's view, recorded in ``outcome`` (written and announced by the caller)."""
    campaign = bundle.campaign(campaign_id)
    if campaign is None:
        outcome.crm_refused.append((campaign_id, "unknown_campaign"))
        return None
    current = crm_membership.snapshot_in(outcome.after, campaign_id)
    try:
        change = crm_membership.decide(
            campaign, outcome.after.contact_id, current, status, mode="forward", source=source, at=at
        )
    except MembershipRefused as refused:
        outcome.crm_refused.append((campaign_id, refused.code))
        return None
    if change is not None:
        crm_membership.record_in(outcome.after, change)
        outcome.crm_memberships.append(change)
        _note_reached(campaign, outcome, change)
    return change


def _qualify(bundle: Bundle, outcome: Outcome, activity: Activity) -> None:
    rules = bundle.scoring.qualify
    after = outcome.after
    if rules is None or after.qualified_at is not None or stage_rank(after.stage) >= stage_rank("mql"):
        return
    by_score = rules.mql_score is not None and after.score >= rules.mql_score
    by_activity = activity.type in rules.or_activity
    if not (by_score or by_activity):
        return
    after.stage = "mql"
    after.qualified_at = clock.iso(activity.occurred_at)
    outcome.qualified = True
    for action in rules.actions:
        _run_action(bundle, outcome, action, source="qualify", at=clock.iso(activity.occurred_at))


def _segments(bundle: Bundle, outcome: Outcome) -> None:
    after = outcome.after
    for segment in bundle.lists:
        if str(segment.kind) != "segment" or segment.where is None:
            continue
        inside = holds(segment.where, after, scoring=bundle.scoring)
        if inside and segment.id not in after.lists:
            after.lists.add(segment.id)
            outcome.lists_joined.append(segment.id)
        elif not inside and segment.id in after.lists:
            after.lists.discard(segment.id)
            outcome.lists_left.append(segment.id)


def _announce(bundle: Bundle, outcome: Outcome, activity: Activity) -> None:
    before, after = outcome.before, outcome.after
    contact = {"contact_id": after.contact_id}
    facts = activity.facts
    events = outcome.events
    if facts.contact_created:
        events.append(
            (
                "ContactCreated",
                {
                    **contact,
                    "status": facts.status,
                    "source": activity.type,
                    "ma_campaign_id": after.ma_campaign_id,
                },
            )
        )
    if facts.ma_campaign_joined:
        events.append(("MaCampaignJoined", {**contact, "ma_campaign_id": facts.ma_campaign_joined}))
    if activity.type == "form_submit":
        events.append(
            (
                "FormSubmitted",
                {
                    **contact,
                    "form_id": activity.properties.get("form_id"),
                    "submission_id": activity.activity_id,
                },
            )
        )
    if outcome.ledger:
        bands = bundle.scoring.temperature
        events.append(
            (
                "ContactScored",
                {
                    **contact,
                    "score": after.score,
                    "delta": outcome.points,
                    "temperature": temperature_for(after.score, bands),
                    "previous_temperature": temperature_for(before.score, bands),
                    "rules": [entry.rule_id for entry in outcome.ledger],
                },
            )
        )
    if before.stage != after.stage:
        events.append(
            (
                "LifecycleStageChanged",
                {**contact, "from": before.stage, "to": after.stage, "ma_campaign_id": after.ma_campaign_id},
            )
        )
    if outcome.qualified:
        events.append(
            (
                "LeadQualified",
                {
                    **contact,
                    "score": after.score,
                    "temperature": temperature_for(after.score, bundle.scoring.temperature),
                    "ma_campaign_id": after.ma_campaign_id,
                    "trigger": _qualify_trigger(bundle, activity),
                    "activity_type": activity.type,
                },
            )
        )
    if activity.type in ("crm_status_changed", "crm_member_removed"):
        events.append(_recorded_member_event(activity))
    events += [crm_membership.member_event(change) for change in outcome.crm_memberships]


def _recorded_member_event(activity: Activity) -> tuple[str, dict[str, Any]]:
    """The event of a membership change made outside processing (an admin, an import, a CRM
    connector), written with the activity that records it and announced once, here."""
    at = clock.iso(activity.occurred_at)
    properties = dict(activity.properties)
    contact_id = activity.contact_id or ""
    if activity.type == "crm_member_removed":
        member = crm_membership.MemberSnapshot(
            campaign_id=str(properties.get("campaign_id")),
            contact_id=contact_id,
            status=str(properties.get("previous_status")),
            responded=properties.get("responded") is True,
        )
        return crm_membership.removal_event(member, source=str(properties.get("source") or "manual"), at=at)
    change = crm_membership.change_from_activity(contact_id, properties, at)
    if change is None:
        return "CrmCampaignMemberStatusChanged", {"contact_id": contact_id, **properties, "at": at}
    return crm_membership.member_event(change)


# ---------------------------------------------------------------- CRM sync rules and connected campaigns


def _note_reached(campaign: Campaign, outcome: Outcome, change: MembershipChange) -> None:
    """What a membership change means for the rest of the pass: CRM->MA rules and the
    ``crm_member_status`` triggers read the statuses it reached."""
    outcome.crm_changed.append(change.campaign_id)
    outcome.crm_reached += [
        (change.campaign_id, name)
        for name in reached_statuses(campaign, change.previous_status, change.status)
    ]


def _connected(bundle: Bundle, outcome: Outcome, activity: Activity) -> None:
    """A contact who joins an MA campaign is mirrored, once, into its connected CRM campaign with
    that campaign's default status (never the other way: CRM members never join an MA campaign)."""
    joined = activity.facts.ma_campaign_joined
    campaign = bundle.campaign(joined) if joined else None
    target = campaign.connected_crm_campaign if campaign is not None and campaign.is_ma else None
    if target is not None and target not in outcome.after.crm_statuses:
        change_crm_membership(
            bundle, outcome, target, None, source="connected", at=clock.iso(activity.occurred_at)
        )


def _recorded_crm_change(bundle: Bundle, outcome: Outcome, activity: Activity) -> None:
    """A ``crm_status_changed`` activity: the membership service wrote the change already (row,
    history, the profile's status); the pass learns what it reached, for the CRM->MA rules."""
    if activity.type != "crm_status_changed":
        return
    change = crm_membership.change_from_activity(
        outcome.after.contact_id, dict(activity.properties), clock.iso(activity.occurred_at)
    )
    campaign = bundle.campaign(change.campaign_id) if change is not None else None
    if change is not None and campaign is not None and campaign.is_crm:
        _note_reached(campaign, outcome, change)


def first_delta(bundle: Bundle, outcome: Outcome, activity: Activity | None) -> Delta:
    """Everything the pass has changed so far, as the sync rule index reads it."""
    before, after = outcome.before, outcome.after
    bands = bundle.scoring.temperature
    return Delta(
        activity=activity,
        tags_added=set(outcome.tags_added),
        lists_joined=set(outcome.lists_joined),
        stage=after.stage if after.stage != before.stage else None,
        score_before=before.score,
        score_after=after.score,
        temperature_changed=temperature_for(before.score, bands) != temperature_for(after.score, bands),
        ma_campaign_joined=activity.facts.ma_campaign_joined if activity is not None else None,
        crm_changed=set(outcome.crm_changed),
        crm_reached=set(outcome.crm_reached),
        fields_changed=before.fields != after.fields,
        subscription_changed=before.status != after.status,
    )


def sync(bundle: Bundle, outcome: Outcome, delta: Delta, activity: Activity | None, at: str) -> None:
    """Applies the sync rules ``delta`` makes hold, then those their own changes make hold, to a
    fixpoint, all inside this one pass (one transaction).

    The bound: each rule fires at most once per pass, and every round after the first exists only
    because a rule fired in the round before, so a pass has at most (enabled rules + 1) rounds. A
    loop (rule A adds to X; X's status adds a tag or list that matches A again) ends with A fired
    once; as statuses only move forward, A firing again could not have changed anything."""
    index = sync_rule_index(bundle)
    if index.empty:
        return
    fired: set[str] = set()
    after = outcome.after
    while delta:
        marks = (len(outcome.tags_added), len(outcome.lists_joined), len(outcome.crm_reached))
        changed_mark = len(outcome.crm_changed)
        for rule in index.ma_to_crm(delta):
            if rule.id not in fired and holds(rule.when, after, activity=activity, scoring=bundle.scoring):
                fired.add(rule.id)
                outcome.sync_rules_fired.append(rule.id)
                target = rule.then
                change_crm_membership(
                    bundle, outcome, target.add_to_crm_campaign, target.status, source="rule", at=at
                )
        for match in index.crm_to_ma(delta):
            back, then = match.rule, match.rule.then
            if back.id not in fired and holds(match.rest, after, activity=activity, scoring=bundle.scoring):
                fired.add(back.id)
                outcome.sync_rules_fired.append(back.id)
                _add_tags(outcome, list(then.add_tags))
                if then.add_to_list is not None and then.add_to_list not in after.lists:
                    after.lists.add(then.add_to_list)
                    outcome.lists_joined.append(then.add_to_list)
                if then.enroll is not None:
                    outcome.flows_to_enroll.append(then.enroll)
        _segments(bundle, outcome)
        delta = Delta(
            tags_added=set(outcome.tags_added[marks[0] :]),
            lists_joined=set(outcome.lists_joined[marks[1] :]),
            crm_reached=set(outcome.crm_reached[marks[2] :]),
            crm_changed=set(outcome.crm_changed[changed_mark:]),
        )


def sync_after(bundle: Bundle, outcome: Outcome, at: str) -> None:
    """The sync rules a change made outside an activity (a flow's update or list step) sets off,
    and the events of the memberships they change."""
    sync(bundle, outcome, first_delta(bundle, outcome, None), None, at)
    outcome.events += [crm_membership.member_event(change) for change in outcome.crm_memberships]


def rebuild_segments(bundle: Bundle, state: ContactState, segment_ids: list[str], at: str) -> Outcome:
    """The contact's membership of ``segment_ids`` re-evaluated (their definition changed), and the
    sync rules the segments it joins set off, as an activity's pass would run them."""
    outcome = Outcome(before=state, after=state.copy())
    after = outcome.after
    for segment_id in segment_ids:
        segment = bundle.list(segment_id)
        inside = (
            segment is not None
            and str(segment.kind) == "segment"
            and segment.where is not None
            and holds(segment.where, after, scoring=bundle.scoring)
        )
        if inside and segment_id not in after.lists:
            after.lists.add(segment_id)
            outcome.lists_joined.append(segment_id)
        elif not inside and segment_id in after.lists:
            after.lists.discard(segment_id)
            outcome.lists_left.append(segment_id)
    if outcome.lists_joined:
        sync_after(bundle, outcome, at)
    return outcome


def crm_step(
    bundle: Bundle, state: ContactState, campaign_id: str, status: str | None, *, source: str, at: str
) -> Outcome:
    """A membership change made outside an activity (a flow's ``add_to_crm_campaign`` step): the
    same forward-only decision, then the sync rules it sets off, and the events to announce."""
    outcome = Outcome(before=state, after=state.copy())
    if change_crm_membership(bundle, outcome, campaign_id, status, source=source, at=at) is None:
        return outcome
    _segments(bundle, outcome)
    sync_after(bundle, outcome, at)
    return outcome


def _qualify_trigger(bundle: Bundle, activity: Activity) -> str:
    rules = bundle.scoring.qualify
    return "activity" if rules is not None and activity.type in rules.or_activity else "score"


def next_decay(bundle: Bundle, state: ContactState, after: datetime) -> datetime | None:
    """When this contact's score next decays, or None if it cannot (no decay, at the floor)."""
    decay = bundle.scoring.decay
    if decay is None or state.score <= decay.floor:
        return None
    return after + decay.every


def decay(bundle: Bundle, state: ContactState, due: datetime) -> Outcome:
    """One decay step that fell due: points towards the floor, then temperature and segments."""
    outcome = Outcome(before=state, after=state.copy())
    rules = bundle.scoring.decay
    if rules is None or state.score <= rules.floor:
        return outcome
    after = outcome.after
    after.score = max(rules.floor, state.score + rules.points)
    outcome.ledger.append(
        LedgerEntry(
            rule_id="decay",
            points=after.score - state.score,
            activity_id=f"decay-{clock.iso(due)}",
            activity_type="decay",
            occurred_at=clock.iso(due),
            score_after=after.score,
        )
    )
    _segments(bundle, outcome)
    sync_after(bundle, outcome, clock.iso(due))  # a segment it joins may set off an MA->CRM rule
    bands = bundle.scoring.temperature
    outcome.events.append(
        (
            "ContactScored",
            {
                "contact_id": after.contact_id,
                "score": after.score,
                "delta": after.score - state.score,
                "temperature": temperature_for(after.score, bands),
                "previous_temperature": temperature_for(state.score, bands),
                "rules": ["decay"],
            },
        )
    )
    return outcome


# ---------------------------------------------------------------- nurture: enrolling and flow updates

#: The trigger kinds one applied activity can fire (date fields come round through their index).
_ACTIVITY_TRIGGERS = (
    "form_submitted",
    "tag_added",
    "score_reached",
    "list_joined",
    "activity",
    "crm_member_status",
)


def happening_of(outcome: Outcome, activity: Activity) -> Happening:
    """What applying ``activity`` did, as the flow triggers read it."""
    from leadflow.domain.nurture.triggers import Happening  # the engine loads the flow models

    form_id = activity.properties.get("form_id") if activity.type == "form_submit" else None
    return Happening(
        activity=activity,
        form_id=str(form_id) if form_id is not None else None,
        tags_added=frozenset(outcome.tags_added),
        score_before=outcome.before.score,
        score_after=outcome.after.score,
        lists_joined=frozenset(outcome.lists_joined),
        crm_changed=frozenset(outcome.crm_changed),
        crm_reached=frozenset(outcome.crm_reached),
    )


def flows_to_start(bundle: Bundle, outcome: Outcome, activity: Activity) -> list[Flow]:
    """The flows this activity enrolls the contact in: the ``enroll`` actions it ran, then every
    flow whose trigger it fired, each once, in bundle order (the re-entry policy decides after)."""
    from leadflow.domain.nurture.triggers import starts

    chosen: dict[str, Flow] = {}
    for flow_id in outcome.flows_to_enroll:
        flow = bundle.flow(flow_id)
        if flow is not None and flow.enabled:
            chosen.setdefault(flow.id, flow)
    happening = happening_of(outcome, activity)
    for kind in _ACTIVITY_TRIGGERS:
        for flow in bundle.flows_with_trigger(kind):
            if flow.id not in chosen and starts(flow, happening, outcome.after, bundle.scoring):
                chosen[flow.id] = flow
    return list(chosen.values())


def flow_update(
    bundle: Bundle,
    state: ContactState,
    *,
    flow_id: str,
    effect_id: str,
    at: datetime,
    score_delta: int = 0,
    add_tags: list[str] | None = None,
    remove_tags: list[str] | None = None,
    set_fields: dict[str, Any] | None = None,
    stage: str | None = None,
) -> Outcome:
    """A flow's ``update`` step applied to a contact: points (a ledger row named after the flow),
    tags, fields and a forward-only stage, then segments and the events processing would announce."""
    outcome = Outcome(before=state, after=state.copy())
    after = outcome.after
    if score_delta:
        after.score += score_delta
        outcome.ledger.append(
            LedgerEntry(
                rule_id=f"flow:{flow_id}",
                points=score_delta,
                activity_id=effect_id,
                activity_type="flow_update",
                occurred_at=clock.iso(at),
                score_after=after.score,
            )
        )
    _add_tags(outcome, list(add_tags or []))
    for tag in remove_tags or []:
        after.tags.discard(tag)
    after.fields.update(set_fields or {})
    if stage is not None and stage_rank(stage) > stage_rank(after.stage):
        after.stage = stage
    _segments(bundle, outcome)
    contact = {"contact_id": after.contact_id}
    if outcome.ledger:
        bands = bundle.scoring.temperature
        outcome.events.append(
            (
                "ContactScored",
                {
                    **contact,
                    "score": after.score,
                    "delta": score_delta,
                    "temperature": temperature_for(after.score, bands),
                    "previous_temperature": temperature_for(state.score, bands),
                    "rules": [f"flow:{flow_id}"],
                },
            )
        )
    if state.stage != after.stage:
        outcome.events.append(
            (
                "LifecycleStageChanged",
                {**contact, "from": state.stage, "to": after.stage, "ma_campaign_id": after.ma_campaign_id},
            )
        )
    sync_after(bundle, outcome, clock.iso(at))
    return outcome
