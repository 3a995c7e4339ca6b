"""Flows: triggers, reentry, quiet hours, every step type, and the step graph checks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time, timedelta
from typing import Any

import pytest

from leadflow.definitions import (
    END,
    ActivityTrigger,
    AddToCrmCampaignStep,
    BranchStep,
    Bundle,
    CrmMemberStatusTrigger,
    DateFieldTrigger,
    EndStep,
    FormSubmittedTrigger,
    ListJoinedTrigger,
    OnChange,
    ReentryAfter,
    ReentryMode,
    SalesTaskStep,
    ScoreReachedTrigger,
    SendEmailStep,
    StepKind,
    TagAddedTrigger,
    TriggerKind,
    WaitBestTime,
    WaitForStep,
    WaitStep,
    WaitUntil,
    Weekday,
    parse_bundle,
)


def _flow(doc: dict[str, Any], **changes: Any) -> dict[str, Any]:
    doc["flows"][0].update(changes)
    return doc


def _steps(doc: dict[str, Any], *steps: dict[str, Any]) -> dict[str, Any]:
    return _flow(doc, steps=list(steps))


@pytest.mark.parametrize(
    ("trigger", "model", "kind"),
    [
        ({"form_submitted": "signup"}, FormSubmittedTrigger, TriggerKind.FORM_SUBMITTED),
        ({"tag_added": "vip"}, TagAddedTrigger, TriggerKind.TAG_ADDED),
        ({"score_reached": 100}, ScoreReachedTrigger, TriggerKind.SCORE_REACHED),
        ({"list_joined": "hot"}, ListJoinedTrigger, TriggerKind.LIST_JOINED),
        (
            {"crm_member_status": {"campaign": "crm-webinar", "status": "Attended"}},
            CrmMemberStatusTrigger,
            TriggerKind.CRM_MEMBER_STATUS,
        ),
        ({"date_field": {"field": "birthday"}}, DateFieldTrigger, TriggerKind.DATE_FIELD),
        (
            {"activity": {"activity": "custom", "name": "cart_abandoned"}},
            ActivityTrigger,
            TriggerKind.ACTIVITY,
        ),
    ],
)
def test_every_trigger_kind(
    doc: dict[str, Any], trigger: dict[str, Any], model: type, kind: TriggerKind
) -> None:
    flow = parse_bundle(_flow(doc, trigger=trigger)).flows[0]
    assert isinstance(flow.trigger, model)
    assert flow.trigger.kind is kind


def test_date_field_trigger_defaults() -> None:
    trigger = DateFieldTrigger.model_validate({"date_field": {"field": "birthday"}})
    assert trigger.date_field.yearly
    assert trigger.date_field.days_before == 0
    assert trigger.date_field.time == time(9, 0)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("never", ReentryMode.NEVER),
        ("always", ReentryMode.ALWAYS),
        ({"after": "90d"}, ReentryAfter(after=timedelta(days=90))),
        ("after: 90d", ReentryAfter(after=timedelta(days=90))),
        ("after 2w", ReentryAfter(after=timedelta(days=14))),
    ],
)
def test_reentry_forms(doc: dict[str, Any], written: Any, expected: Any) -> None:
    flow = parse_bundle(_flow(doc, reentry=written)).flows[0]
    assert flow.reentry == expected


def test_reentry_defaults_to_never_and_reports_bad_values(
    doc: dict[str, Any], problems: Callable[..., list[str]]
) -> None:
    flow = parse_bundle(doc).flows[0]
    assert flow.reentry is ReentryMode.NEVER
    assert flow.reentry_after is None
    _flow(doc, reentry="sometimes")
    assert problems(doc) == ["flows[0].reentry: should be 'never' or 'always' (got \"sometimes\")"]
    _flow(doc, reentry=5)
    assert problems(doc) == ["flows[0].reentry: reentry is never, always, or {after: 90d} (got 5)"]


def test_quiet_hours_and_exit_when(doc: dict[str, Any], problems: Callable[..., list[str]]) -> None:
    _flow(doc, quiet_hours={"start": "20:00", "end": "08:00"}, exit_when={"stage_in": ["sql", "customer"]})
    flow = parse_bundle(doc).flows[0]
    assert flow.quiet_hours is not None
    assert (flow.quiet_hours.start, flow.quiet_hours.end) == (
        time(20),
        time(8),
    )
    _flow(doc, quiet_hours={"start": "20:00", "end": "20:00"})
    assert problems(doc) == ["flows[0].quiet_hours: start and end are the same time"]


def test_every_step_type(doc: dict[str, Any]) -> None:
    _steps(
        doc,
        {"id": "invite", "send_email": {"template": "invite"}},
        {
            "id": "opened",
            "wait_for": {"activity": "email_open", "of_step": "invite", "within": "3d"},
            "then": "call",
        },
        {"id": "again", "send_email": {"template": "invite", "send_time": "best"}},
        {"id": "pause", "wait": "2d"},
        {"id": "thursday", "wait": {"until": {"weekday": "thu", "time": "22:00"}}},
        {"id": "check", "branch": {"if": {"score_at_least": 50}, "then": "call", "else": "end"}},
        {
            "id": "call",
            "sales_task": {"channel": "phone", "note": "Warm lead: call", "due_in": "1d"},
            "next": "end",
        },
    )
    flow = parse_bundle(doc).flows[0]
    kinds = [type(step) for step in flow.steps]
    assert kinds == [SendEmailStep, WaitForStep, SendEmailStep, WaitStep, WaitStep, BranchStep, SalesTaskStep]
    assert flow.steps[2].send_email.send_time == "best"  # type: ignore[union-attr]
    assert flow.steps[3].wait == timedelta(days=2)  # type: ignore[union-attr]
    until = flow.steps[4].wait  # type: ignore[union-attr]
    assert isinstance(until, WaitUntil)
    assert until.until.weekday is Weekday.THU
    assert until.until.time == time(22)
    assert flow.steps[1].wait_for.within == timedelta(days=3)  # type: ignore[union-attr]
    assert flow.steps[5].branch.if_.score_at_least == 50  # type: ignore[union-attr]


def test_successors_fall_through_unless_named(doc: dict[str, Any]) -> None:
    flow = parse_bundle(doc).flows[0]
    invite, pause, check, call = flow.steps
    assert flow.successors(invite) == ["pause"]
    assert flow.successors(check) == ["call", END]
    assert flow.successors(call) == [END]  # the last step falls through to the end
    assert flow.step("pause") is pause
    assert flow.step("gone") is None
    assert flow.first_step is invite


def test_step_shape_errors(doc: dict[str, Any], problems: Callable[..., list[str]]) -> None:
    _steps(
        doc,
        {"id": "a", "send_email": {"template": "invite"}, "wait": "2d"},
        {"id": "b"},
        {"id": "end", "wait": "1d"},
        {"id": "c", "wait": "tomorrow"},
        {"id": "d", "wait": ["1d"]},
        {"id": "e", "wait": {"until": {"weekday": "someday", "time": "25:00"}}},
        {"id": "f", "send_email": {"template": "invite", "send_time": "asap"}},
        {"id": "g", "sales_task": {"channel": "fax"}, "then": "a"},
    )
    assert problems(doc) == [
        "flows[0].steps[0]: a step needs exactly one of: send_email, wait, wait_for, branch, update, "
        "add_to_list, add_to_crm_campaign, sales_task, goto, end",
        "flows[0].steps[1]: a step needs exactly one of: send_email, wait, wait_for, branch, update, "
        "add_to_list, add_to_crm_campaign, sales_task, goto, end",
        'flows[0].steps[2].id: "end" is reserved: it is how a step finishes the flow',
        'flows[0].steps[3].wait: "tomorrow" is not a duration: write a number and a unit, such as 30s, '
        "30m, 1h, "
        "2d, 2w",
        'flows[0].steps[4].wait: wait takes a duration such as 2d, {until: {weekday: thu, time: "22:00"}}, '
        "or {send_time: best}",
        "flows[0].steps[5].wait.until.weekday: should be 'mon', 'tue', 'wed', 'thu', 'fri', 'sat' or 'sun' "
        '(got "someday")',
        "flows[0].steps[5].wait.until.time: '25:00' is not a time of day: write 24-hour \"HH:MM\" in quotes, "
        'such as "08:00" or "22:00"',
        "flows[0].steps[6].send_email.send_time: should be 'best' (got \"asap\")",
        "flows[0].steps[7].sales_task.channel: should be 'phone', 'email', 'meeting', 'social' or 'other' "
        '(got "fax")',
        "flows[0].steps[7].then: unknown key; allowed here: id, name, next, sales_task",
    ]


def test_unknown_successor_is_reported_with_the_documented_path(
    doc: dict[str, Any], problems: Callable[..., list[str]]
) -> None:
    # Given the fourth step names a step the flow does not have
    doc["flows"][0]["steps"][3]["next"] = "s9"
    # Then the problem reads exactly as DEFINITIONS.md shows
    assert problems(doc) == ['flows[0].steps[3].next: unknown step "s9"']


def test_every_successor_key_is_checked(doc: dict[str, Any], problems: Callable[..., list[str]]) -> None:
    _steps(
        doc,
        {"id": "a", "send_email": {"template": "invite"}, "next": "x1"},
        {"id": "b", "wait_for": {"activity": "email_open", "within": "1d"}, "then": "x2", "else": "x3"},
        {"id": "c", "branch": {"if": {"has_tag": "t"}, "then": "x4", "else": "x5"}},
        {"id": "d", "wait": "1d", "next": "x6"},
        {"id": "e", "sales_task": {}, "next": "x7"},
    )
    assert problems(doc) == [
        'flows[0].steps[0].next: unknown step "x1"',
        'flows[0].steps[1].then: unknown step "x2"',
        'flows[0].steps[1].else: unknown step "x3"',
        'flows[0].steps[2].branch.then: unknown step "x4"',
        'flows[0].steps[2].branch.else: unknown step "x5"',
        'flows[0].steps[3].next: unknown step "x6"',
        'flows[0].steps[4].next: unknown step "x7"',
    ]


def test_duplicate_step_ids(doc: dict[str, Any], problems: Callable[..., list[str]]) -> None:
    doc["flows"][0]["steps"][2]["id"] = "invite"
    assert problems(doc) == ['flows[0].steps[2].id: duplicate step id "invite" (also steps[0])']


def test_wait_for_of_step_names_a_send_email_step(
    doc: dict[str, Any], problems: Callable[..., list[str]]
) -> None:
    _steps(
        doc,
        {"id": "a", "send_email": {"template": "invite"}},
        {"id": "b", "wait_for": {"activity": "email_click", "of_step": "c", "within": "1d"}},
        {"id": "c", "wait_for": {"activity": "email_open", "of_step": "nope", "within": "1d"}},
        {"id": "d", "wait_for": {"activity": "page_view", "of_step": "a", "within": "1d"}},
        {"id": "e", "wait_for": {"activity": "email_open", "of_step": "a", "within": "1d"}},
    )
    assert problems(doc) == [
        'flows[0].steps[1].wait_for.of_step: "c" is a wait_for step; of_step names a send_email step',
        'flows[0].steps[2].wait_for.of_step: unknown step "nope"',
        "flows[0].steps[3].wait_for.of_step: of_step only applies to email activities, not page_view",
    ]


def test_unreachable_steps_are_errors(doc: dict[str, Any], problems: Callable[..., list[str]]) -> None:
    _steps(
        doc,
        {"id": "a", "send_email": {"template": "invite"}, "next": "c"},
        {"id": "b", "wait": "1d"},
        {"id": "c", "wait": "1d", "next": "end"},
        {"id": "d", "send_email": {"template": "invite"}},
    )
    assert problems(doc) == [
        'flows[0].steps[1]: step "b" is never reached: no step leads to it',
        'flows[0].steps[3]: step "d" is never reached: no step leads to it',
    ]


def test_a_loop_without_a_wait_is_an_error(doc: dict[str, Any], problems: Callable[..., list[str]]) -> None:
    _steps(
        doc,
        {"id": "a", "send_email": {"template": "invite"}},
        {"id": "b", "branch": {"if": {"has_tag": "x"}, "then": "a"}},
        {"id": "c", "sales_task": {}, "next": "c"},
    )
    assert problems(doc) == [
        "flows[0].steps[1].branch.then: endless loop without a wait: a -> b -> a",
        "flows[0].steps[2].next: endless loop without a wait: c -> c",
    ]


def test_a_loop_through_a_wait_is_fine(doc: dict[str, Any]) -> None:
    _steps(
        doc,
        {"id": "a", "send_email": {"template": "invite"}},
        {"id": "b", "wait": "30d"},
        {"id": "c", "branch": {"if": {"subscribed": True}, "then": "a", "else": "end"}},
    )
    assert [step.id for step in parse_bundle(doc).flows[0].steps] == ["a", "b", "c"]


def test_flow_references(doc: dict[str, Any], problems: Callable[..., list[str]]) -> None:
    doc["flows"].append(
        {
            "id": "second",
            "campaign": "crm-webinar",
            "trigger": {"crm_member_status": {"campaign": "crm-webinar", "status": "Lost"}},
            "exit_when": {"in_list": "nope", "crm_campaign": "webinar"},
            "steps": [
                {"id": "a", "send_email": {"template": "nope"}},
                {"id": "b", "branch": {"if": {"ma_campaign": "nope"}, "then": "end"}},
            ],
        }
    )
    doc["flows"].append(
        {"id": "third", "trigger": {"list_joined": "nope"}, "steps": [{"id": "a", "wait": "1d"}]}
    )
    doc["flows"].append(
        {
            "id": "fourth",
            "trigger": {"activity": {"activity": "form_submit", "form": "nope"}},
            "steps": [{"id": "a", "wait": "1d"}],
        }
    )
    doc["flows"].append(
        {"id": "fifth", "trigger": {"form_submitted": "nope"}, "steps": [{"id": "a", "wait": "1d"}]}
    )
    assert problems(doc) == [
        'flows[1].campaign: "crm-webinar" is a CRM campaign; this needs an MA campaign',
        'flows[1].trigger.crm_member_status.status: unknown member status "Lost" of campaign "crm-webinar" '
        "(it has: Sent, Registered, Attended)",
        'flows[1].exit_when.in_list: unknown list "nope"',
        'flows[1].exit_when.crm_campaign: "webinar" is an MA campaign; this needs a CRM campaign',
        'flows[1].steps[0].send_email.template: unknown email template "nope"',
        'flows[1].steps[1].branch.if.ma_campaign: unknown campaign "nope"',
        'flows[2].trigger.list_joined: unknown list "nope"',
        'flows[3].trigger.activity.form: unknown form "nope"',
        'flows[4].trigger.form_submitted: unknown form "nope"',
    ]


def test_trigger_shape_errors(doc: dict[str, Any], problems: Callable[..., list[str]]) -> None:
    _flow(doc, trigger={"form_submitted": "signup", "tag_added": "x"})
    assert problems(doc) == [
        "flows[0].trigger: a trigger needs exactly one of: form_submitted, tag_added, score_reached, "
        "list_joined, "
        "crm_member_status, date_field, activity"
    ]
    _flow(doc, trigger={"activity": {"name": "x"}})
    assert problems(doc) == [
        "flows[0].trigger.activity: name tests an activity's properties: add activity (such as page_view) "
        "to say which activity"
    ]
    _flow(doc, trigger={"activity": {"has_tag": "x"}})
    assert problems(doc) == [
        "flows[0].trigger.activity: an activity trigger needs activity (such as custom): triggers are "
        "indexed by it"
    ]


# ---- the steps, waits and policies the engine added


def test_new_step_kinds_parse(doc: dict[str, Any]) -> None:
    _steps(
        doc,
        {
            "id": "up",
            "update": {"score": -5, "add_tags": ["a"], "remove_tags": ["b"], "fields": {"plan": "pro"}},
        },
        {"id": "stage", "update": {"stage": "mql"}},
        {"id": "list", "add_to_list": "registrants"},
        {"id": "crm", "add_to_crm_campaign": {"campaign": "crm-webinar", "status": "Attended"}},
        {"id": "crm2", "add_to_crm_campaign": "crm-events"},
        {"id": "best", "wait": {"send_time": "best"}},
        {"id": "again", "branch": {"if": {"recommended_channel": "phone"}, "then": "done", "else": "loop"}},
        {"id": "loop", "goto": "up"},
        {"id": "done", "end": "converted"},
    )
    flow = parse_bundle(doc).flows[0]
    assert [step.kind for step in flow.steps] == [
        StepKind.UPDATE,
        StepKind.UPDATE,
        StepKind.ADD_TO_LIST,
        StepKind.ADD_TO_CRM_CAMPAIGN,
        StepKind.ADD_TO_CRM_CAMPAIGN,
        StepKind.WAIT,
        StepKind.BRANCH,
        StepKind.GOTO,
        StepKind.END,
    ]
    crm2 = flow.steps[4]
    assert isinstance(crm2, AddToCrmCampaignStep)
    assert (crm2.add_to_crm_campaign.campaign, crm2.add_to_crm_campaign.status) == ("crm-events", None)
    assert isinstance(flow.steps[5], WaitStep)
    assert isinstance(flow.steps[5].wait, WaitBestTime)
    assert flow.successors(flow.steps[7]) == ["up"]
    assert flow.successors(flow.steps[8]) == []
    end = flow.steps[8]
    assert isinstance(end, EndStep)
    assert end.reason == "converted"
    assert EndStep.model_validate({"id": "x", "end": True}).reason == "end_step"
    assert flow.on_change is OnChange.MOVE_IF_STEP_EXISTS
    assert parse_bundle(doc).to_json_dict()["flows"][0]["steps"][5] == {
        "id": "best",
        "wait": {"send_time": "best"},
    }


def test_new_step_shapes_are_checked(doc: dict[str, Any], problems: Callable[..., list[str]]) -> None:
    _steps(
        doc,
        {"id": "a", "update": {}},
        {"id": "b", "update": {"score": 0}},
        {"id": "c", "update": {"add_tags": ["x"], "remove_tags": ["x"]}},
        {"id": "d", "update": {"stage": "king"}},
        {"id": "e", "end": False},
        {"id": "f", "wait": {"send_time": "soon"}},
        {"id": "g", "wait_for": {"activity": "email_open", "name": "x", "within": "1d"}},
        {"id": "h", "wait_for": {"activity": "custom", "same": ["cart_id", "cart_id"], "within": "1d"}},
    )
    found = problems(doc)
    assert found[:4] == [
        "flows[0].steps[0].update: update needs at least one of score (not 0), add_tags, remove_tags, fields, stage",
        "flows[0].steps[1].update: update needs at least one of score (not 0), add_tags, remove_tags, fields, stage",
        "flows[0].steps[2].update: x: added and removed in the same update",
        "flows[0].steps[3].update.stage: should be 'subscriber', 'lead', 'mql', 'sql', 'opportunity' or "
        "'customer' (got \"king\")",
    ]
    assert any(line.startswith("flows[0].steps[4].end") for line in found)
    assert "flows[0].steps[5].wait.send_time: should be 'best' (got \"soon\")" in found
    assert "flows[0].steps[6].wait_for: name only applies to activity custom, not email_open" in found
    assert "flows[0].steps[7].wait_for: same lists a property twice" in found


def test_step_references_of_the_new_kinds(doc: dict[str, Any], problems: Callable[..., list[str]]) -> None:
    _steps(
        doc,
        {"id": "a", "add_to_list": "hot"},
        {"id": "b", "add_to_list": "nope"},
        {"id": "c", "add_to_crm_campaign": {"campaign": "webinar"}},
        {"id": "d", "add_to_crm_campaign": {"campaign": "crm-webinar", "status": "Lost"}},
        {"id": "e", "goto": "nowhere"},
    )
    assert problems(doc) == [
        'flows[0].steps[4].goto: unknown step "nowhere"',
        'flows[0].steps[0].add_to_list: "hot" is a segment; contacts can only be added to a static list',
        'flows[0].steps[1].add_to_list: unknown list "nope"',
        'flows[0].steps[2].add_to_crm_campaign.campaign: "webinar" is an MA campaign; this needs a CRM campaign',
        'flows[0].steps[3].add_to_crm_campaign.status: unknown member status "Lost" of campaign "crm-webinar" '
        "(it has: Sent, Registered, Attended)",
    ]


def test_a_goto_loop_without_a_wait_is_refused_and_one_through_a_wait_is_fine(
    doc: dict[str, Any], problems: Callable[..., list[str]]
) -> None:
    _steps(
        doc,
        {"id": "a", "send_email": {"template": "invite"}},
        {"id": "b", "update": {"score": 1}},
        {"id": "c", "goto": "a"},
    )
    assert problems(doc) == ["flows[0].steps[2].goto: endless loop without a wait: a -> b -> c -> a"]
    _steps(
        doc,
        {"id": "a", "send_email": {"template": "invite"}},
        {"id": "b", "wait_for": {"activity": "email_open", "of_step": "a", "within": "1d"}, "else": "c"},
        {"id": "c", "goto": "a"},
    )
    assert [step.id for step in parse_bundle(doc).flows[0].steps] == ["a", "b", "c"]


def test_of_step_must_come_before_the_wait(doc: dict[str, Any], problems: Callable[..., list[str]]) -> None:
    _steps(
        doc,
        {"id": "opened", "wait_for": {"activity": "email_open", "of_step": "later", "within": "1d"}},
        {"id": "later", "send_email": {"template": "invite"}},
    )
    assert problems(doc) == [
        'flows[0].steps[0].wait_for.of_step: "later" does not come before this step: no path leads from it to '
        '"opened"'
    ]


def test_a_keyed_wait_needs_an_activity_trigger(
    doc: dict[str, Any], problems: Callable[..., list[str]]
) -> None:
    keyed = {
        "id": "bought",
        "wait_for": {"activity": "custom", "name": "purchase", "same": ["cart_id"], "within": "1d"},
    }
    _steps(doc, keyed)
    assert problems(doc) == [
        "flows[0].steps[0].wait_for.same: a keyed wait compares with the activity that enrolled the contact; "
        "this flow's trigger is form_submitted, which has none: use an activity trigger"
    ]
    _flow(doc, trigger={"activity": {"activity": "custom", "name": "cart_abandoned"}})
    step = parse_bundle(doc).flows[0].steps[0]
    assert isinstance(step, WaitForStep)
    assert step.wait_for.same == ["cart_id"]


def test_on_change_and_default_time_zone(doc: dict[str, Any], problems: Callable[..., list[str]]) -> None:
    _flow(doc, on_change="keep_version")
    doc["default_time_zone"] = "Europe/Berlin"
    bundle = parse_bundle(doc)
    assert bundle.flows[0].on_change is OnChange.KEEP_VERSION
    assert bundle.default_time_zone == "Europe/Berlin"
    assert parse_bundle(bundle.to_json_dict()) == bundle
    assert (
        parse_bundle(_flow(doc, on_change="move_if_step_exists")).flows[0].on_change
        is OnChange.MOVE_IF_STEP_EXISTS
    )
    _flow(doc, on_change="whenever")
    doc["default_time_zone"] = "Mars/Olympus"
    assert problems(doc) == [
        'default_time_zone: unknown time zone "Mars/Olympus": write an IANA name such as "Europe/Berlin"',
        "flows[0].on_change: should be 'move_if_step_exists' or 'keep_version' (got \"whenever\")",
    ]
    doc["default_time_zone"] = "../etc/passwd"
    _flow(doc, on_change="keep_version")
    assert problems(doc) == [
        'default_time_zone: "../etc/passwd" is not a time zone: write an IANA name such as "Europe/Berlin"'
    ]
    assert Bundle.model_validate({}).default_time_zone == "UTC"


def test_a_branch_on_an_activity_is_refused(doc: dict[str, Any], problems: Callable[..., list[str]]) -> None:
    _steps(
        doc,
        {"id": "a", "send_email": {"template": "invite"}},
        {"id": "b", "branch": {"if": {"activity": "email_open"}, "then": "end"}},
    )
    assert problems(doc) == [
        "flows[0].steps[1].branch.if: a branch tests the contact as it is now, not an activity (activity): "
        "wait for it with wait_for"
    ]


def test_channel_keys_only_in_flow_branches_and_goals(
    doc: dict[str, Any], problems: Callable[..., list[str]]
) -> None:
    _flow(doc, exit_when={"recommended_channel": "phone"})
    doc["flows"][0]["steps"][2]["branch"]["if"] = {"channel_engagement": {"email": {"below": 0.05}}}
    assert parse_bundle(doc).flows[0].exit_when is not None
    doc["scoring"]["rules"][0]["when"]["recommended_channel"] = "email"
    doc["lists"][1]["where"]["channel_engagement"] = {"phone": {"at_least": 0.5}}
    doc["sync_rules"][0]["when"]["recommended_channel"] = "phone"
    assert problems(doc) == [
        "scoring.rules[0].when.recommended_channel: recommended_channel is only known in a flow's branch or "
        "exit_when, not in a scoring rule",
        "lists[1].where.channel_engagement: channel_engagement is only known in a flow's branch or exit_when, "
        "not in a segment",
        "sync_rules[0].when.recommended_channel: recommended_channel is only known in a flow's branch or "
        "exit_when, not in a sync rule",
    ]


def test_a_stored_bundle_with_a_zone_this_python_lacks_still_loads(doc: dict[str, Any]) -> None:
    from leadflow.definitions import load_stored

    stored = parse_bundle(doc).to_json_dict()
    stored["default_time_zone"] = "Atlantis/Capital"
    assert load_stored(stored).default_time_zone == "Atlantis/Capital"
