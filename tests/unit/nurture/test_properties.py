"""Properties over random timelines: determinism, unique effect ids, bounded runs, never stuck."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadflow.definitions import Flow, parse_bundle
from leadflow.domain.activities import Activity
from leadflow.domain.nurture.engine import advance
from leadflow.domain.nurture.inputs import FlowVersions, NurtureSettings, Wake
from tests.unit.nurture.conftest import EXAMPLES, MONDAY, Driver, activity, contact

FLOWS: list[Flow] = [
    flow
    for path in [*sorted(EXAMPLES.glob("*.yaml")), Path(EXAMPLES).parent / "demo.yaml"]
    for flow in parse_bundle(path.read_text(encoding="utf-8")).flows
]

FLOWS.append(
    parse_bundle(
        """
flows:
  - id: daily
    trigger: {tag_added: x}
    quiet_hours: {start: "22:00", end: "06:00"}
    steps:
      - {id: mail, send_email: {template: t1, send_time: best}}
      - {id: opened, wait_for: {activity: email_open, of_step: mail, within: 1d}, then: again, else: again}
      - {id: again, goto: mail}
email_templates:
  - {id: t1, subject: one, html: "<p>1</p>"}
"""
    ).flows[0]
)  # a loop that always comes round: every visit must get new ids

_TYPES = ["email_open", "email_click", "custom", "crm_status_changed", "page_view"]


@st.composite
def _timeline(draw: st.DrawFn) -> list[tuple[int, dict[str, object] | None]]:
    """Minutes after the start, and an activity's shape (None: the timer, which fires at the due time
    at the earliest)."""
    events = []
    for _ in range(draw(st.integers(1, 25))):
        gap = draw(st.integers(0, 60 * 24 * 4))
        if draw(st.booleans()):
            events.append((gap, None))
        else:
            shape: dict[str, object] = {"type": draw(st.sampled_from(_TYPES))}
            shape["name"] = draw(st.sampled_from(["purchase", "cart_abandoned", "order_placed"]))
            shape["cart_id"] = draw(st.sampled_from(["A", "B"]))
            shape["status"] = draw(st.sampled_from(["Attended", "No-show"]))
            shape["sent"] = draw(st.integers(0, 5))  # which sent email it is about
            events.append((gap, shape))
    return events


def _wake(shape: dict[str, object], at: object, sent: list[str], n: int) -> Activity:
    effect = sent[int(shape["sent"]) % len(sent)] if sent else "eff_none"  # type: ignore[call-overload]
    return activity(
        str(shape["type"]),
        at,  # type: ignore[arg-type]
        f"a_{n}",
        name=shape["name"],
        cart_id=shape["cart_id"],
        crm_campaign="crm-event",
        status=shape["status"],
        effect_id=effect,
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    flow_index=st.integers(0, len(FLOWS) - 1),
    timeline=_timeline(),
    budget=st.integers(1, 8),
    score=st.integers(0, 200),
)
def test_advance_is_deterministic_bounded_and_ids_never_repeat(
    flow_index: int, timeline: list[tuple[int, dict[str, object] | None]], budget: int, score: int
) -> None:
    flow = FLOWS[flow_index]
    options = NurtureSettings(step_budget=budget, audience_best_hour=50)
    driver = Driver(flow, contact(score=score, fields={"time_zone": "Europe/Berlin"}), options)
    trigger = activity("custom", MONDAY, "a_trigger", name="cart_abandoned", cart_id="A")
    driver.start(MONDAY, trigger)
    now = MONDAY
    seen: set[str] = {effect.effect_id for effect in driver.effects}
    for n, (gap, shape) in enumerate(timeline):
        now += timedelta(minutes=gap)
        assert driver.enrollment is not None
        if shape is None and driver.enrollment.due_at is not None:
            now = max(
                now, driver.enrollment.due_at
            )  # a timer fires when due (or later, when the runner is late)
        sent = [effect.effect_id for effect in driver.effects if effect.kind == "send_email"]
        wake = Wake(_wake(shape, now, sent, n)) if shape is not None else None
        before = driver.enrollment
        first = advance(FlowVersions(flow, 1), before, driver.person, now, wake, options)
        replay = advance(FlowVersions(flow, 1), before, driver.person, now, wake, options)
        assert first == replay  # the same inputs give the same enrollment, effects and ids
        assert len([e for e in first.effects if e.kind != "ended"]) <= budget  # the budget bounds a run
        ids = [effect.effect_id for effect in first.effects]
        assert len(ids) == len(set(ids))
        assert not seen & set(ids), "an effect id came back in a later advance"
        seen |= set(ids)
        if not first.changed:
            assert first.enrollment == before
            assert first.effects == ()
        driver.enrollment = first.enrollment
        driver.effects.extend(first.effects)
        # never stuck: a live enrollment is always due at some time, or waits on a paused flow
        if first.enrollment.live:
            assert first.enrollment.due_at is not None


@settings(max_examples=40, deadline=None)
@given(length=st.integers(1, 40), budget=st.integers(1, 10))
def test_a_long_flow_completes_in_bounded_runs(length: int, budget: int) -> None:
    steps = "\n".join(f"      - {{id: s{n}, update: {{score: 1}}}}" for n in range(length))
    flow = parse_bundle(f"flows:\n  - id: f\n    trigger: {{tag_added: x}}\n    steps:\n{steps}\n").flows[0]
    driver = Driver(flow, settings=NurtureSettings(step_budget=budget))
    driver.start(MONDAY)
    runs = 1
    while driver.enrollment is not None and driver.enrollment.live:
        driver.step(MONDAY)
        runs += 1
    assert runs == -(-length // budget)  # ceil: each run spends the whole budget but the last
    assert driver.kinds() == ["update_contact"] * length + ["ended"]
