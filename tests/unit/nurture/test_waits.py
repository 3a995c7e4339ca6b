"""wait_for: keyed waits (the abandoned cart), of_step emails, timeouts, late and early activities."""

from __future__ import annotations

from datetime import timedelta

from leadflow.domain.nurture.engine import advance
from leadflow.domain.nurture.enrollment import EnrollmentState, Hold
from leadflow.domain.nurture.inputs import Wake
from leadflow.domain.nurture.wakes import interesting_types
from tests.unit.nurture.conftest import MONDAY, Driver, activity, days, flow_of

CART = """
  - id: cart
    trigger: {activity: {activity: custom, name: cart_abandoned}}
    steps:
      - {id: bought, wait_for: {activity: custom, name: purchase, same: [cart_id], within: 1d}, then: thanks, else: remind}
      - {id: remind, send_email: {template: t1}, next: end}
      - {id: thanks, send_email: {template: t2}}
"""


def _cart_driver(cart_id: object = "A") -> Driver:
    driver = Driver(flow_of(CART))
    abandoned = activity(
        "custom", MONDAY, "a_abandon", name="cart_abandoned", cart_id=cart_id, items=[{"name": "x"}]
    )
    driver.start(MONDAY, abandoned)
    return driver


def test_the_abandoned_cart_waits_for_the_purchase_of_the_same_cart() -> None:
    driver = _cart_driver("A")
    waiting = driver.enrollment
    assert waiting is not None
    assert (waiting.state, waiting.hold, waiting.due_at) == (
        EnrollmentState.WAITING,
        Hold.WAIT_FOR,
        MONDAY + days(1),
    )
    assert waiting.awaiting is not None
    assert (waiting.awaiting.activity, waiting.awaiting.name, waiting.awaiting.keys) == (
        "custom",
        "purchase",
        {"cart_id": "A"},
    )
    # a purchase of cart B changes nothing
    other = driver.step(
        MONDAY + timedelta(hours=1),
        activity("custom", MONDAY + timedelta(hours=1), name="purchase", cart_id="B"),
    )
    assert not other.changed
    assert other.enrollment == waiting
    assert other.effects == ()
    # another event type, or a purchase without the key, changes nothing either
    assert not driver.step(
        MONDAY + timedelta(hours=2),
        activity("custom", MONDAY + timedelta(hours=2), name="wishlist", cart_id="A"),
    ).changed
    assert not driver.step(
        MONDAY + timedelta(hours=2), activity("custom", MONDAY + timedelta(hours=2), name="purchase")
    ).changed
    # the purchase of cart A moves it to then
    driver.step(
        MONDAY + timedelta(hours=3),
        activity("custom", MONDAY + timedelta(hours=3), name="purchase", cart_id="A"),
    )
    assert driver.sent() == ["t2"]
    assert driver.enrollment is not None
    assert driver.enrollment.state is EnrollmentState.COMPLETED
    thanks = driver.effects[0]
    assert thanks.trigger["items"] == [{"name": "x"}]  # type: ignore[union-attr]  # the cart, for the email


def test_without_the_purchase_the_timeout_goes_to_else() -> None:
    driver = _cart_driver("A")
    driver.step(
        MONDAY + timedelta(hours=1),
        activity("custom", MONDAY + timedelta(hours=1), name="purchase", cart_id="B"),
    )
    driver.run_until(MONDAY + days(2))
    assert driver.sent() == ["t1"]
    timed_out = [entry for entry in driver.enrollment.path if entry.outcome == "timed_out"]  # type: ignore[union-attr]
    assert [entry.step_id for entry in timed_out] == ["bought"]


def test_key_values_compare_as_text() -> None:
    driver = _cart_driver(42)
    driver.step(
        MONDAY + timedelta(hours=1),
        activity("custom", MONDAY + timedelta(hours=1), name="purchase", cart_id="42"),
    )
    assert driver.sent() == ["t2"]


def test_a_trigger_without_the_key_can_only_time_out_and_says_so() -> None:
    driver = Driver(flow_of(CART))
    driver.start(MONDAY, activity("custom", MONDAY, "a_abandon", name="cart_abandoned"))
    assert driver.enrollment is not None
    assert driver.enrollment.awaiting is not None
    assert driver.enrollment.awaiting.missing_keys == ["cart_id"]
    assert "lacks cart_id" in (driver.enrollment.path[-1].why or "")
    assert not driver.step(
        MONDAY + timedelta(hours=1), activity("custom", MONDAY + timedelta(hours=1), name="purchase")
    ).changed
    driver.run_until(MONDAY + days(2))
    assert driver.sent() == ["t1"]


def test_an_activity_from_before_the_wait_or_after_its_timeout_does_not_count_as_then() -> None:
    driver = _cart_driver("A")
    before = activity("custom", MONDAY - timedelta(minutes=1), name="purchase", cart_id="A")
    assert not driver.step(MONDAY + timedelta(minutes=5), before).changed
    # delivered late, it happened after the timeout: the timeout wins
    late = activity("custom", MONDAY + days(1) + timedelta(minutes=1), name="purchase", cart_id="A")
    driver.step(MONDAY + days(1) + timedelta(minutes=2), late)
    assert driver.sent() == ["t1"]


def test_a_purchase_inside_the_window_counts_even_when_delivered_after_it() -> None:
    driver = _cart_driver("A")
    inside = activity("custom", MONDAY + days(1) - timedelta(minutes=1), name="purchase", cart_id="A")
    assert driver.enrollment is not None
    result = advance(
        driver.versions(),
        driver.enrollment,
        driver.person,
        MONDAY + days(1) + timedelta(minutes=3),
        Wake(inside),
    )
    assert [effect.kind for effect in result.effects] == ["send_email", "ended"]
    assert result.effects[0].template == "t2"  # type: ignore[union-attr]


def test_of_step_matches_only_the_email_that_step_sent() -> None:
    flow = flow_of(
        """
  - id: f
    trigger: {tag_added: x}
    steps:
      - {id: invite, send_email: {template: t1}}
      - {id: opened, wait_for: {activity: email_open, of_step: invite, within: 3d}, then: yes, else: no}
      - {id: yes, send_email: {template: t2}, next: end}
      - {id: no, send_email: {template: t3}}
"""
    )
    driver = Driver(flow)
    driver.start(MONDAY)
    invite = driver.effects[0]
    assert driver.enrollment is not None
    assert driver.enrollment.awaiting is not None
    assert driver.enrollment.awaiting.message == invite.effect_id
    assert interesting_types(flow, driver.enrollment) == {"email_open"}
    other_email = activity("email_open", MONDAY + timedelta(hours=1), effect_id="eff_someone_else")
    assert not driver.step(MONDAY + timedelta(hours=1), other_email).changed
    click = activity("email_click", MONDAY + timedelta(hours=1), effect_id=invite.effect_id)
    assert not driver.step(MONDAY + timedelta(hours=1), click).changed
    driver.step(
        MONDAY + timedelta(hours=2),
        activity("email_open", MONDAY + timedelta(hours=2), effect_id=invite.effect_id),
    )
    assert driver.sent() == ["t1", "t2"]


def test_of_step_whose_email_was_never_sent_waits_for_the_timeout() -> None:
    flow = flow_of(
        """
  - id: f
    trigger: {tag_added: x}
    steps:
      - {id: check, branch: {if: {has_tag: vip}, then: invite, else: opened}}
      - {id: invite, send_email: {template: t1}}
      - {id: opened, wait_for: {activity: email_open, of_step: invite, within: 3d}, then: end, else: no}
      - {id: no, send_email: {template: t3}}
"""
    )
    driver = Driver(flow)
    driver.start(MONDAY)
    assert driver.enrollment is not None
    assert driver.enrollment.awaiting is not None
    assert driver.enrollment.awaiting.message_missing
    assert not driver.step(MONDAY + days(1), activity("email_open", MONDAY + days(1), effect_id="x")).changed
    driver.run_until(MONDAY + days(4))
    assert driver.sent() == ["t3"]


def test_wait_for_with_fixed_properties() -> None:
    flow = flow_of(
        """
  - id: f
    trigger: {tag_added: x}
    steps:
      - {id: attended, wait_for: {activity: crm_status_changed, properties: {crm_campaign: crm-x, status: Attended}, within: 2w}, then: thanks, else: sorry}
      - {id: thanks, send_email: {template: t1}, next: end}
      - {id: sorry, send_email: {template: t2}}
"""
    )
    driver = Driver(flow)
    driver.start(MONDAY)
    registered = activity("crm_status_changed", MONDAY + days(1), crm_campaign="crm-x", status="Registered")
    assert not driver.step(MONDAY + days(1), registered).changed
    attended = activity("crm_status_changed", MONDAY + days(3), crm_campaign="crm-x", status="Attended")
    driver.step(MONDAY + days(3), attended)
    assert driver.sent() == ["t1"]
