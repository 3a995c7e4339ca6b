"""Each ready-made flow of examples/flow-templates/ end to end on the local stack, as a marketer
tries it: the template's bundle applied through the admin API, forms and shop events posted over
HTTP, the stack's clock moved with ``POST /_local/clock``, and the emails read from the outbox
(``GET /_local/outbox?format=json``): subjects, flow and step ids, and the path the enrollment took
(the admin contact view). Nothing sleeps: time moves on the stack's clock, queues settle with
``POST /_local/drain``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from leadflow_local.stack import DevStack
from tests.e2e.conftest import TOKEN
from tests.e2e.flow_client import FlowClient, template_bundle

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack() -> Iterator[DevStack]:
    """A stack with no bundle: each test applies its template. The templates send from
    example.com, verified in the stack's SES as a deployment verifies its sending domain."""
    with DevStack(port=0, definitions=None, admin_token=TOKEN, max_schedule_steps=24) as started:
        started.client("sesv2").create_email_identity(EmailIdentity="example.com")
        yield started


@pytest.fixture
def client(stack: DevStack) -> Iterator[FlowClient]:
    flows = FlowClient(stack.url, TOKEN)
    yield flows
    flows.http.close()


def next_weekday(client: FlowClient, weekday: int, hour: int) -> datetime:
    """The next ``weekday`` (Monday 0) at ``hour``:00 UTC on the stack's clock, at least an hour ahead."""
    now = client.now() + timedelta(hours=1)
    day = now.date() + timedelta(days=(weekday - now.weekday()) % 7)
    moment = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
    return moment if moment > now else moment + timedelta(days=7)


CONSENTING_SIGNUP: dict[str, Any] = {
    "id": "signup",
    "fields": [
        {"name": "email", "type": "email", "required": True},
        {"name": "first_name", "type": "text"},
        {"name": "preferred_channel", "type": "text"},
        {"name": "consent", "type": "consent", "required": True, "text": "Email me. I can unsubscribe."},
    ],
    "allowed_origins": ["*"],
}
"""For the templates without a form: how the contacts they email come in, with consent."""


def with_signup(bundle: dict[str, Any], **form: Any) -> dict[str, Any]:
    return {**bundle, "forms": [*bundle.get("forms", []), {**CONSENTING_SIGNUP, **form}]}


def steps_sent(client: FlowClient, email: str) -> list[str | None]:
    return [step for _, step, _ in client.subjects(email)]


def test_welcome_series_holds_until_the_double_opt_in_then_sends_three_emails_without_a_click(
    client: FlowClient,
) -> None:
    client.apply(template_bundle("welcome-series"))
    client.advance_to(next_weekday(client, 1, 10))  # a Tuesday 10:00 UTC: outside quiet hours
    email = "wendy@example.com"
    contact_id = client.submit("newsletter-signup", email=email, first_name="Wendy", consent=True)
    client.drain()
    held = client.enrollment(email, "welcome-series")
    assert (held["state"], held["step"], held["hold"]) == ("waiting", "welcome", "consent")
    # pending: the double opt-in confirmation is the only email, and no flow email comes before it
    [confirmation] = client.outbox(to=email)
    assert (confirmation["kind"], confirmation["contact_id"]) == ("confirmation", contact_id)
    assert confirmation["subject"] == "Please confirm your subscription"
    assert confirmation["open_pixel"] is None  # no tracking in a confirmation
    assert not confirmation["list_unsubscribe"]
    [link] = [
        link["href"] for link in confirmation["links"] if link["kind"] == "confirm" and link["part"] == "html"
    ]
    confirmed = client.http.get(link, timeout=30)
    assert confirmed.status_code == 200, confirmed.text
    assert client.contact(email)["status"] == "subscribed"
    client.advance("1d")  # the held step is rechecked daily
    assert client.subjects(email)[1:] == [("welcome-series", "welcome", "Welcome, Wendy!")]
    assert client.enrollment(email, "welcome-series")["hold"] == "wait"

    client.advance("3d")
    assert steps_sent(client, email)[1:] == ["welcome", "best-of"]
    client.advance("8d")  # no click on welcome-2 within a week
    assert client.subjects(email)[1:] == [
        ("welcome-series", "welcome", "Welcome, Wendy!"),
        ("welcome-series", "best-of", "Our three most-read articles"),
        ("welcome-series", "last-try", "Still interested?"),
    ]
    ended = client.enrollment(email, "welcome-series")
    assert (ended["state"], ended["end_reason"]) == ("completed", "completed")
    assert ("engaged", "timed_out") in client.path(email, "welcome-series")


def test_event_invitation_follows_attendees_and_no_shows_apart(client: FlowClient) -> None:
    client.apply(template_bundle("event-invitation"))
    client.advance_to(next_weekday(client, 1, 10))  # registered on a Tuesday
    monday = next_weekday(client, 0, 9)
    client.submit("event-registration", email="ann@example.com", first_name="Ann", consent=True)
    client.submit("event-registration", email="bob@example.com", first_name="Bob", consent=True)
    client.drain()
    for email in ("ann@example.com", "bob@example.com"):
        assert client.subjects(email) == [("event-invitation", "confirm", "You are registered")]
        waiting = client.enrollment(email, "event-invitation")
        assert (waiting["step"], waiting["due_at"][:16]) == ("next-monday", monday.isoformat()[:16])

    client.advance("6d")  # past Monday 09:00: the reminder, then the wait for attendance
    for email in ("ann@example.com", "bob@example.com"):
        assert steps_sent(client, email) == ["confirm", "remind"]
        assert client.enrollment(email, "event-invitation")["step"] == "attended"

    marked = client.set_member_status("crm-event", "ann@example.com", "Attended")  # sales marks attendance
    assert (marked["status"], marked["responded"]) == ("Attended", True)
    client.drain()  # the wake-up: at once, not at the next minute run
    assert client.subjects("ann@example.com")[-1] == ("event-invitation", "thanks", "Thanks for coming")
    assert "event-attendees" in client.contact("ann@example.com")["lists"]
    assert client.enrollment("ann@example.com", "event-invitation")["step"] == "two-days"

    client.advance("15d")  # Bob never attended: two weeks pass
    assert steps_sent(client, "bob@example.com") == ["confirm", "remind", "recording"]
    assert client.path("bob@example.com", "event-invitation")[-3:] == [
        ("attended", "timed_out"),
        ("recording", "sent"),
        ("no-show", "added"),
    ]
    assert steps_sent(client, "ann@example.com") == ["confirm", "remind", "thanks"]
    assert client.enrollment("ann@example.com", "event-invitation")["state"] == "completed"
    assert ("hot", "else") in client.path("ann@example.com", "event-invitation")  # score under 50: no call


def test_abandoned_cart_is_keyed_on_the_cart_id_and_shows_the_items(client: FlowClient) -> None:
    client.apply(with_signup(template_bundle("abandoned-cart")))
    client.advance_to(next_weekday(client, 1, 9))  # 10:00 in Berlin, the bundle's zone
    shop = "wk_shop_change_me"
    for email, name in (("carl@example.com", "Carl"), ("dora@example.com", "Dora")):
        client.submit("signup", email=email, first_name=name, consent=True)
    client.drain()
    items = [{"name": "Blue mug", "price": 12}, {"name": "Green tea"}]
    client.track(shop, "carl@example.com", "cart_abandoned", cart_id="A", items=items)
    client.track(shop, "dora@example.com", "cart_abandoned", cart_id=42, items=items)
    client.drain()
    client.track(shop, "carl@example.com", "purchase", cart_id="B")  # another cart: the wait goes on
    client.track(shop, "dora@example.com", "purchase", cart_id="42")  # this cart (values compare as text)
    client.drain()
    assert client.enrollment("dora@example.com", "abandoned-cart")["state"] == "completed"
    assert client.path("dora@example.com", "abandoned-cart")[-1] == ("bought-soon", "happened")
    assert client.enrollment("carl@example.com", "abandoned-cart")["step"] == "bought-soon"

    client.advance("2h")  # an hour without buying cart A: the reminder, with the cart's items
    [reminder] = client.outbox(to="carl@example.com")
    assert (reminder["flow_id"], reminder["step_id"], reminder["subject"]) == (
        "abandoned-cart",
        "remind",
        "You left something in your cart",
    )
    assert "Your cart is waiting, Carl." in reminder["html"]
    assert "<li>Blue mug</li><li>Green tea</li>" in reminder["html"]
    assert "Blue mug" in reminder["text"]

    client.track(shop, "carl@example.com", "purchase", cart_id="A")
    client.drain()
    carl = client.contact("carl@example.com")
    assert "customer" in carl["tags"]
    assert carl["score"] == 20
    assert client.enrollment("carl@example.com", "abandoned-cart")["state"] == "completed"
    client.advance("3d")
    assert steps_sent(client, "carl@example.com") == ["remind"]  # no last call after the purchase
    assert client.subjects("dora@example.com") == []


def test_customer_education_calls_the_phone_person_and_hands_the_email_person_to_sales(
    client: FlowClient,
) -> None:
    client.apply(with_signup(template_bundle("customer-education"), on_submit=[{"add_tags": ["customer"]}]))
    client.advance_to(next_weekday(client, 1, 10))
    client.submit("signup", email="ed@example.com", consent=True, preferred_channel="phone")
    client.submit("signup", email="fay@example.com", consent=True)
    client.drain()
    for email in ("ed@example.com", "fay@example.com"):
        assert client.subjects(email) == [("customer-education", "lesson-1", "Lesson 1: getting started")]
    client.advance("1w")
    for email in ("ed@example.com", "fay@example.com"):
        assert steps_sent(client, email) == ["lesson-1", "lesson-2"]
    client.advance("1w")  # no click on lesson 2
    assert client.path("ed@example.com", "customer-education")[-5:] == [
        ("clicked", "timed_out"),
        ("how", "then"),  # prefers the phone
        ("call", "created"),
        ("lesson-3", "sent"),
        ("graduated", "updated"),
    ]
    assert client.path("fay@example.com", "customer-education")[-5:] == [
        ("clicked", "timed_out"),
        ("how", "else"),
        ("help", "created"),
        ("lesson-3", "sent"),
        ("graduated", "updated"),
    ]
    for email in ("ed@example.com", "fay@example.com"):
        assert steps_sent(client, email) == ["lesson-1", "lesson-2", "lesson-3"]
        assert "onboarded" in client.contact(email)["tags"]
        assert client.enrollment(email, "customer-education")["state"] == "completed"


def test_birthday_comes_round_every_year_at_nine_local_time(client: FlowClient) -> None:
    client.apply(template_bundle("birthday"))
    client.advance_to(next_weekday(client, 1, 10))
    birthday = (client.now() + timedelta(days=3)).date()
    client.submit(
        "profile",
        email="bea@example.com",
        first_name="Bea",
        birthday=f"1990-{birthday:%m-%d}",
        consent=True,
    )
    client.submit("profile", email="no.date@example.com", first_name="Nils", consent=True)
    client.drain()
    assert client.subjects("bea@example.com") == []
    client.advance("4d")  # the daily date job finds her through the month-day index
    [greeting] = client.outbox(to="bea@example.com")
    assert (greeting["flow_id"], greeting["step_id"], greeting["subject"]) == (
        "birthday",
        "greet",
        "Happy birthday, Bea!",
    )
    sent_at = datetime.fromisoformat(greeting["sent_at"])
    assert sent_at.date() == birthday
    assert sent_at.hour >= 9  # 09:00 in her zone (the default, UTC)
    client.advance("2d")
    assert len(client.outbox(to="bea@example.com")) == 1  # once that year, however often the job runs
    next_year = datetime(birthday.year + 1, birthday.month, birthday.day, tzinfo=UTC)
    client.advance_to(next_year - timedelta(days=2))
    assert len(client.outbox(to="bea@example.com")) == 1
    client.advance("3d")
    assert [mail["subject"] for mail in client.outbox(to="bea@example.com")] == ["Happy birthday, Bea!"] * 2
    assert client.outbox(to="no.date@example.com") == []
