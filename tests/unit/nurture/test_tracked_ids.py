"""The tracker's opens and clicks name their email by ``message_id`` (the token's), and a flow
email's message id is its step's effect id: ``of_step`` waits and channel rates must find them by
it. The e2e journey found both reading only ``effect_id``, which the tracker never writes."""

from __future__ import annotations

from datetime import timedelta

from leadflow.definitions.conditions import Channel
from leadflow.domain.activities import Activity
from leadflow.domain.nurture import channels
from leadflow.domain.tokens import Kind, TokenPayload
from leadflow.domain.tracking import email_activity
from tests.unit.nurture.conftest import MONDAY, Driver, flow_of

FLOW = """
  - id: f
    trigger: {tag_added: x}
    steps:
      - {id: invite, send_email: {template: t1}}
      - {id: opened, wait_for: {activity: email_open, of_step: invite, within: 3d}, then: yes, else: no}
      - {id: yes, send_email: {template: t2}, next: end}
      - {id: no, send_email: {template: t3}}
"""


def _tracked(kind: Kind, message_id: str, minutes: int) -> Activity:
    """What ``GET /v1/t/o/{token}`` (or ``/c/``) records for a genuine token."""
    payload = TokenPayload(
        kind=kind,
        contact_id="c_1",
        message_id=message_id,
        issued_at=int(MONDAY.timestamp()),
        flow_id="f",
        step_id="invite",
        url="https://www.example.com/" if kind is Kind.CLICK else None,
    )
    return email_activity(payload, MONDAY + timedelta(minutes=minutes))


def test_an_open_recorded_by_the_tracker_wakes_the_wait_for_its_email() -> None:
    driver = Driver(flow_of(FLOW))
    driver.start(MONDAY)
    invite = driver.effects[0]
    other = _tracked(Kind.OPEN, "eff_another_email", 30)
    assert not driver.step(other.occurred_at, other).changed
    opened = _tracked(Kind.OPEN, invite.effect_id, 60)
    assert "effect_id" not in opened.properties
    driver.step(opened.occurred_at, opened)
    assert driver.sent() == ["t1", "t2"]


def test_tracked_opens_count_as_engagement_with_the_email_they_were_on() -> None:
    sent = [
        Activity(
            activity_id=f"s{n}",
            type="email_sent",
            occurred_at=MONDAY - timedelta(days=n),
            properties={"message_id": f"m{n}", "effect_id": f"m{n}"},
        )
        for n in range(1, 5)
    ]
    opens = [_tracked(Kind.OPEN, "m1", 0), _tracked(Kind.OPEN, "m1", 5), _tracked(Kind.CLICK, "m2", 0)]
    view = channels.channel_view(channels.touches(sent + opens), {}, MONDAY + timedelta(days=1))
    assert (view.received[Channel.EMAIL], view.engaged[Channel.EMAIL]) == (4, 2)  # each email once
    assert view.rate("email") == 0.5
