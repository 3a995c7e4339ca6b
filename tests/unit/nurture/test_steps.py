"""Every step kind, run by the engine on a controlled clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from leadflow.definitions.conditions import Channel
from leadflow.domain.nurture.channels import ChannelView
from leadflow.domain.nurture.effects import (
    AddToCrmCampaign,
    AddToList,
    CreateSalesTask,
    SendEmail,
    UpdateContact,
)
from leadflow.domain.nurture.enrollment import EnrollmentState, Hold
from leadflow.domain.nurture.inputs import NurtureSettings
from leadflow.domain.nurture.send_time import Engagement
from tests.unit.nurture.conftest import MONDAY, Driver, contact, days, flow_of

EXTRA = """
lists:
  - {id: vips, kind: static}
campaigns:
  - id: crm-x
    kind: crm
    name: X
    member_statuses: [{name: Sent, default: true}, {name: Called, responded: true}]
"""


def test_send_wait_send_falls_through_to_the_end() -> None:
    driver = Driver(
        flow_of(
            """
  - id: f
    trigger: {tag_added: x}
    steps:
      - {id: a, send_email: {template: t1}}
      - {id: w, wait: 2d}
      - {id: b, send_email: {template: t2}}
"""
        )
    )
    started = driver.start(MONDAY)
    assert (started.state, started.step_id, started.hold) == (EnrollmentState.WAITING, "w", Hold.WAIT)
    assert started.due_at == MONDAY + days(2)
    assert driver.sent() == ["t1"]
    early = driver.step(MONDAY + days(1))  # a re-drive before the due time changes nothing
    assert not early.changed
    assert early.effects == ()
    driver.run_until(MONDAY + days(3))
    assert driver.sent() == ["t1", "t2"]
    assert driver.enrollment is not None
    assert driver.enrollment.state is EnrollmentState.COMPLETED
    assert driver.enrollment.end_reason == "completed"
    assert driver.kinds()[-1] == "ended"
    send = driver.effects[1]
    assert isinstance(send, SendEmail)
    assert (send.template, send.step_id, send.send_at, send.flow_id) == ("t2", "b", MONDAY + days(2), "f")


def test_update_list_crm_and_sales_task_emit_effects_in_order() -> None:
    driver = Driver(
        flow_of(
            """
  - id: f
    trigger: {tag_added: x}
    steps:
      - {id: up, update: {score: 15, add_tags: [warm], remove_tags: [cold], fields: {plan: pro}, stage: mql}}
      - {id: down, update: {stage: lead}}
      - {id: list, add_to_list: vips}
      - {id: crm, add_to_crm_campaign: {campaign: crm-x, status: Called}}
      - {id: crm2, add_to_crm_campaign: crm-x}
      - {id: task, sales_task: {channel: phone, note: call them, due_in: 1d}}
""",
            EXTRA,
        ),
        contact(tags={"cold"}),
    )
    driver.start(MONDAY)
    update, down, to_list, crm, crm2, task, ended = driver.effects
    assert isinstance(update, UpdateContact)
    assert (update.score_delta, update.add_tags, update.remove_tags, update.set_fields, update.stage) == (
        15,
        ["warm"],
        ["cold"],
        {"plan": "pro"},
        "mql",
    )
    assert isinstance(down, UpdateContact)
    assert down.stage == "lead"
    assert isinstance(to_list, AddToList)
    assert to_list.list_id == "vips"
    assert isinstance(crm, AddToCrmCampaign)
    assert (crm.campaign, crm.status) == ("crm-x", "Called")
    assert isinstance(crm2, AddToCrmCampaign)
    assert crm2.status is None
    assert isinstance(task, CreateSalesTask)
    assert (task.channel, task.note, task.due_at) == ("phone", "call them", MONDAY + days(1))
    assert ended.kind == "ended"
    assert len({effect.effect_id for effect in driver.effects}) == 7


def test_a_branch_sees_the_update_before_it_and_records_why() -> None:
    driver = Driver(
        flow_of(
            """
  - id: f
    trigger: {tag_added: x}
    steps:
      - {id: up, update: {score: 60}}
      - {id: check, branch: {if: {score_at_least: 50}, then: hot, else: end}}
      - {id: hot, send_email: {template: t1}}
"""
        ),
        contact(score=0),
    )
    enrollment = driver.start(MONDAY)
    assert driver.sent() == ["t1"]
    check = next(entry for entry in enrollment.path if entry.step_id == "check")
    assert check.outcome == "then"
    assert check.why == 'if {"score_at_least":50}: True'


def test_branch_else_and_each_contact_condition() -> None:
    conditions = [
        "{has_tag: vip}",
        "{stage_in: [sql]}",
        "{in_list: vips}",
        "{crm_campaign: crm-x, status: Called}",
        "{field: {name: country, op: eq, value: DE}}",
    ]
    for condition in conditions:
        flow = flow_of(
            f"""
  - id: f
    trigger: {{tag_added: x}}
    steps:
      - {{id: check, branch: {{if: {condition}, then: yes, else: no}}}}
      - {{id: yes, send_email: {{template: t1}}, next: end}}
      - {{id: no, send_email: {{template: t2}}}}
""",
            EXTRA,
        )
        matching = contact(
            score=500,
            tags={"vip"},
            stage="sql",
            lists={"vips"},
            crm_statuses={"crm-x": "Called"},
            fields={"country": "DE"},
        )
        yes, no = Driver(flow, matching), Driver(flow, contact())
        yes.start(MONDAY)
        no.start(MONDAY)
        assert (yes.sent(), no.sent()) == (["t1"], ["t2"]), condition


def test_a_contact_who_ignores_email_but_answers_calls_gets_a_call() -> None:
    flow = flow_of(
        """
  - id: f
    trigger: {tag_added: x}
    steps:
      - {id: how, branch: {if: {recommended_channel: phone}, then: call, else: mail}}
      - {id: call, sales_task: {channel: phone}, next: end}
      - {id: mail, send_email: {template: t1}}
"""
    )
    caller = ChannelView(
        received={Channel.EMAIL: 20, Channel.PHONE: 3}, engaged={Channel.EMAIL: 0, Channel.PHONE: 2}
    )
    phone = Driver(flow, contact(channels=caller))
    phone.start(MONDAY)
    email = Driver(flow, contact())
    email.start(MONDAY)
    assert phone.kinds() == ["sales_task", "ended"]
    assert email.kinds() == ["send_email", "ended"]


def test_goto_loops_back_through_a_wait_with_new_effect_ids_each_visit() -> None:
    driver = Driver(
        flow_of(
            """
  - id: f
    trigger: {tag_added: x}
    steps:
      - {id: monthly, send_email: {template: t1}}
      - {id: month, wait: 30d}
      - {id: still, branch: {if: {subscribed: true}, then: again, else: end}}
      - {id: again, goto: monthly}
"""
        )
    )
    driver.start(MONDAY)
    driver.run_until(MONDAY + days(95))
    assert driver.sent() == ["t1"] * 4
    ids = [effect.effect_id for effect in driver.effects]
    assert len(set(ids)) == len(ids)
    assert driver.enrollment is not None
    assert driver.enrollment.visits["monthly"] == 4


def test_end_step_finishes_with_its_reason() -> None:
    driver = Driver(
        flow_of(
            """
  - id: f
    trigger: {tag_added: x}
    steps:
      - {id: a, send_email: {template: t1}}
      - {id: stop, end: converted}
"""
        )
    )
    enrollment = driver.start(MONDAY)
    assert (enrollment.state, enrollment.end_reason, enrollment.step_id) == (
        EnrollmentState.COMPLETED,
        "converted",
        "stop",
    )
    ended = driver.effects[-1]
    assert ended.kind == "ended"
    assert ended.reason == "converted"


def test_wait_until_and_wait_best_time_in_the_contact_zone() -> None:
    flow = flow_of(
        """
  - id: f
    trigger: {tag_added: x}
    steps:
      - {id: thursday, wait: {until: {weekday: thu, time: "10:00"}}}
      - {id: a, send_email: {template: t1}}
      - {id: best, wait: {send_time: best}}
      - {id: b, send_email: {template: t2}}
"""
    )
    tuesday_nights = tuple(
        Engagement(datetime(2026, 2, 3, 21, 10, tzinfo=UTC) + timedelta(days=7 * week)) for week in range(5)
    )
    person = contact(fields={"time_zone": "America/New_York"}, engagement=tuesday_nights)
    driver = Driver(flow, person)
    first = driver.start(MONDAY)
    assert first.due_at == datetime(2026, 3, 5, 15, 0, tzinfo=UTC)  # Thursday 10:00 EST
    second = driver.step(first.due_at)
    assert driver.sent() == ["t1"]
    assert second.enrollment.hold is Hold.WAIT
    # opens at 21:10 UTC = 16:10 New York (EST): the best hour is Tuesday 16:00 New York
    assert second.enrollment.due_at == datetime(2026, 3, 10, 20, 0, tzinfo=UTC)  # EDT since 8 March


def test_send_time_best_holds_the_email_until_then() -> None:
    flow = flow_of(
        """
  - id: f
    trigger: {tag_added: x}
    steps:
      - {id: a, send_email: {template: t1, send_time: best}}
"""
    )
    driver = Driver(flow, contact(), NurtureSettings(audience_best_hour=3 * 24 + 9))  # Thursday 09:00 UTC
    held = driver.start(MONDAY)
    assert (held.hold, held.due_at, driver.effects) == (
        Hold.SEND_TIME,
        datetime(2026, 3, 5, 9, tzinfo=UTC),
        [],
    )
    driver.step(held.due_at)
    send = driver.effects[0]
    assert isinstance(send, SendEmail)
    assert send.send_at == datetime(2026, 3, 5, 9, tzinfo=UTC)


def test_the_step_budget_bounds_a_run_and_the_rest_continues_at_once() -> None:
    steps = "\n".join(f"      - {{id: s{n}, update: {{score: 1}}}}" for n in range(12))
    flow = flow_of(f"  - id: f\n    trigger: {{tag_added: x}}\n    steps:\n{steps}\n")
    driver = Driver(flow, settings=NurtureSettings(step_budget=5))
    first = driver.start(MONDAY)
    assert (first.state, first.step_id, first.due_at, len(driver.effects)) == (
        EnrollmentState.ACTIVE,
        "s5",
        MONDAY,
        5,
    )
    driver.run_until(MONDAY)
    assert driver.enrollment is not None
    assert driver.enrollment.state is EnrollmentState.COMPLETED
    assert driver.kinds() == ["update_contact"] * 12 + ["ended"]
