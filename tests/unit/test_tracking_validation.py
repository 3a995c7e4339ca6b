"""Tracking events, judged one by one: every rule of POST /v1/events, and the activities they become."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from leadflow.domain import origins, tracking
from leadflow.domain.tokens import Kind, TokenPayload
from leadflow.domain.tracking import InvalidBatchError, InvalidEventError, clean_batch, clean_event
from leadflow.ids import stable_id

NOW = datetime(2026, 11, 24, 12, 0, 30, tzinfo=UTC)
PAGE = {"type": "page_view", "anonymous_id": "a1b2c3", "url": "https://www.example.com/pricing"}


def event(**changes: Any) -> dict[str, Any]:
    return {key: value for key, value in {**PAGE, **changes}.items() if value is not ...}


def rejected(raw: Any) -> str:
    with pytest.raises(InvalidEventError) as caught:
        clean_event(raw, NOW)
    return str(caught.value)


# ---------------------------------------------------------------- types


@pytest.mark.parametrize("kind", ["page_view", "download", "event_registration", "trial_signup"])
def test_each_type_is_accepted(kind):
    assert clean_event(event(type=kind), NOW).type == kind


@pytest.mark.parametrize("kind", ["pageview", "form_submit", "email_open", "", None, 3])
def test_other_types_are_refused(kind):
    assert "type: must be one of: page_view, download" in rejected(event(type=kind))


def test_custom_needs_a_name():
    assert clean_event(event(type="custom", properties={"name": "cart_abandoned"}), NOW).type == "custom"
    assert "properties.name: a custom event needs a name" in rejected(event(type="custom"))
    assert "properties.name: a custom event needs a name" in rejected(
        event(type="custom", properties={"name": " "})
    )
    assert "at most 255" in rejected(event(type="custom", properties={"name": "x" * 256}))


def test_download_properties_are_text():
    clean = clean_event(event(type="download", properties={"asset_id": "ebook-7", "topic": "pricing"}), NOW)
    assert clean.properties == {"asset_id": "ebook-7", "topic": "pricing"}
    assert "properties.asset_type: expected text" in rejected(
        event(type="download", properties={"asset_type": 7})
    )


# ---------------------------------------------------------------- identity


def test_an_event_needs_anonymous_id_or_email():
    assert "anonymous_id: an event needs anonymous_id or email" in rejected(event(anonymous_id=...))
    assert "anonymous_id or email" in rejected(event(anonymous_id="", email="  "))


def test_email_alone_identifies_and_is_normalised():
    clean = clean_event(event(anonymous_id=..., email="  Ann.Lee@Example.COM "), NOW)
    assert clean.anonymous_id is None
    assert clean.email is not None
    assert clean.email.address == "Ann.Lee@example.com"
    assert clean.email.key == "ann.lee@example.com"


@pytest.mark.parametrize(("value", "message"), [("not-an-email", "not a valid email"), (42, "expected text")])
def test_a_bad_email_is_refused_even_with_an_anonymous_id(value, message):
    assert f"email: {message}" in rejected(event(email=value))


@pytest.mark.parametrize("value", ["has space", "x" * 129, "<script>", 12])
def test_anonymous_and_event_ids_are_bounded_tokens(value):
    assert "anonymous_id: 1 to 128" in rejected(event(anonymous_id=value))
    assert "event_id: 1 to 128" in rejected(event(event_id=value))


# ---------------------------------------------------------------- time


def test_occurred_at_defaults_to_now():
    clean = clean_event(event(), NOW)
    assert clean.occurred_at == NOW
    assert clean.timestamped is False


@pytest.mark.parametrize(
    ("stated", "expected"),
    [
        ("2026-11-24T12:04:00Z", datetime(2026, 11, 24, 12, 4, tzinfo=UTC)),
        ("2026-11-24T13:00:00+01:00", datetime(2026, 11, 24, 12, 0, tzinfo=UTC)),
        ("2026-11-24T11:00:00", datetime(2026, 11, 24, 11, 0, tzinfo=UTC)),
        ("2026-10-26T12:00:00Z", datetime(2026, 10, 26, 12, 0, tzinfo=UTC)),
    ],
)
def test_a_stated_time_within_the_window_is_kept_in_utc(stated, expected):
    clean = clean_event(event(occurred_at=stated), NOW)
    assert clean.occurred_at == expected
    assert clean.timestamped is True


def test_more_than_five_minutes_in_the_future_is_refused():
    late = (NOW + timedelta(minutes=5, seconds=1)).isoformat()
    assert "occurred_at: more than 5 minutes in the future" in rejected(event(occurred_at=late))


def test_older_than_thirty_days_is_refused():
    old = (NOW - timedelta(days=30, seconds=1)).isoformat()
    assert "occurred_at: older than 30 days" in rejected(event(occurred_at=old))


@pytest.mark.parametrize("value", ["yesterday", "24/11/2026", 1795000000, "2" * 80])
def test_a_time_that_is_not_iso_8601_is_refused(value):
    assert "occurred_at: expected an ISO 8601 timestamp" in rejected(event(occurred_at=value))


# ---------------------------------------------------------------- properties


def test_properties_up_to_8_kib_are_kept_and_one_byte_more_is_refused():
    overhead = len(json.dumps({"blob": ""}, separators=(",", ":")))
    fits = {"blob": "x" * (8 * 1024 - overhead)}
    assert clean_event(event(properties=fits), NOW).properties == fits
    message = rejected(event(properties={"blob": "x" * (8 * 1024 - overhead + 1)}))
    assert "properties: at most 8 KiB as JSON, got 8193 bytes" in message


def test_property_size_counts_utf8_bytes():
    assert "at most 8 KiB" in rejected(event(properties={"text": "é" * 4100}))


@pytest.mark.parametrize("value", [[1, 2], "name=x", 3])
def test_properties_must_be_an_object(value):
    assert "properties: expected an object" in rejected(event(properties=value))


def test_non_finite_numbers_are_refused():
    assert "properties.n: numbers must be finite" in rejected(event(properties={"n": float("nan")}))
    assert "properties.a[1]: numbers must be finite" in rejected(event(properties={"a": [1, float("inf")]}))


# ---------------------------------------------------------------- what the store can keep
# Each of these was answered 202 and then failed five times on its way to a dead-letter queue.


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (1e300, "number too large"),
        (-1e300, "number too large"),
        (1e126, "number too large"),
        (1e-300, "number too small"),
        (1e-131, "number too small"),
        (10**40 + 1, "more than 38 significant digits"),
        (int("1234567890" * 4), "more than 38 significant digits"),
        (10**400, "number too large"),
    ],
)
def test_numbers_dynamodb_cannot_hold_are_refused(value, reason):
    assert f"properties.n: {reason}" in rejected(event(properties={"n": value}))


@pytest.mark.parametrize(
    "value", [0, -0.0, 1e125, 9.999e125, 1e-130, 10**39, 12345678901234567890123456789012345678, 0.1]
)
def test_numbers_at_dynamodbs_limits_are_kept(value):
    assert clean_event(event(properties={"n": value}), NOW).properties == {"n": value}


def nested(depth: int) -> dict[str, Any]:
    """``properties`` nested ``depth`` levels, the properties object itself being level 1."""
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def test_properties_nest_at_most_16_levels():
    assert clean_event(event(properties=nested(tracking.MAX_PROPERTY_DEPTH)), NOW)
    assert "nested more than 16 levels deep" in rejected(event(properties=nested(17)))
    assert "nested more than 16 levels deep" in rejected(event(properties=nested(33)))


def test_properties_nested_300_deep_are_refused_not_crashed():
    assert "nested more than 16 levels deep" in rejected(event(properties=nested(300)))
    deep: list[Any] = []
    for _ in range(5000):
        deep = [deep]
    assert "nested more than 16 levels deep" in rejected(event(properties={"x": deep}))


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        ({"": 1}, "properties: a key must be non-empty text"),
        ({"a": {"": 1}}, "properties.a: a key must be non-empty text"),
        ({"x" * 256: 1}, "at most 255 characters"),
        ({"a\x00b": 1}, "must not contain a NUL character"),
        ({"a\u202eb": 1}, "must not contain a bidirectional control character (U+202E)"),
        ({"ok": "text\ud800"}, "properties.ok: text must not contain a lone surrogate"),
        ({"ok": ["x", "a\x07"]}, "properties.ok[1]: must not contain a control character (U+0007)"),
        ({"ok": {"deeper": "\u2066isolate"}}, "properties.ok.deeper: must not contain a bidirectional"),
    ],
)
def test_property_names_and_nested_strings_follow_the_text_rule(properties, message):
    assert message in rejected(event(properties=properties))


def test_free_form_properties_may_hold_line_breaks_and_tabs():
    properties = {"note": "line one\nline two\tend", "rtl": "\u05e9\u05dc\u05d5\u05dd\u200f"}
    assert clean_event(event(properties=properties), NOW).properties == properties


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("title", "Pricing\x00"),
        ("title", "Pricing \u202egnp.exe"),
        ("referrer", "https://a.example/\x1b[2J"),
        ("url", "https://www.example.com/\u2067x"),
        ("title", "two\nlines"),
        ("email", "ann\u202e@example.com"),
    ],
)
def test_page_fields_follow_the_text_rule(name, value):
    assert f"{name}: must not contain" in rejected(event(**{name: value}))


@pytest.mark.parametrize("name", ["anonymous_id", "event_id"])
def test_identifiers_refuse_a_trailing_line_break(name):
    # "$" in a regex matches before a final newline: the id rule must hold for the whole value
    assert f"{name}: 1 to 128 letters" in rejected(event(**{name: "abc\n"}))


@pytest.mark.parametrize("stated", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_a_time_outside_the_calendar_in_utc_is_refused_not_crashed(stated):
    # astimezone(UTC) raised OverflowError, which failed the whole batch with a 500
    assert "occurred_at: expected an ISO 8601 timestamp" in rejected(event(occurred_at=stated))
    batch = clean_batch({"write_key": "wk", "events": [event(occurred_at=stated), event()]}, NOW)
    assert len(batch.events) == 1
    assert batch.rejected[0].index == 0


@pytest.mark.parametrize("name", ["email", "url", "site_id", "event_id"])
def test_reserved_property_names_are_refused(name):
    assert f"properties.{name}: reserved" in rejected(event(properties={name: "x"}))


# ---------------------------------------------------------------- page fields


def test_a_page_view_needs_an_http_url():
    assert "url: a page_view needs the page's url" in rejected(event(url=...))
    assert "url: must be an absolute http or https URL" in rejected(event(url="javascript:alert(1)"))
    assert "url: must be an absolute http or https URL" in rejected(event(url="/pricing"))
    assert clean_event(event(type="trial_signup", url=...), NOW).url is None


@pytest.mark.parametrize(("name", "limit"), [("url", 2048), ("title", 1024), ("referrer", 2048)])
def test_page_fields_are_bounded(name, limit):
    prefix = "https://www.example.com/" if name == "url" else ""
    assert clean_event(event(**{name: prefix + "a" * (limit - len(prefix))}), NOW)
    assert f"{name}: at most {limit} characters" in rejected(event(**{name: prefix + "a" * (limit + 1)}))
    assert f"{name}: expected text" in rejected(event(**{name: ["x"]}))


def test_blank_referrer_and_title_mean_none():
    clean = clean_event(event(referrer="", title="  "), NOW)
    assert clean.referrer is None
    assert clean.title is None


def test_unknown_keys_and_non_objects_are_refused():
    assert "colour: unknown key" in rejected(event(colour="blue"))
    assert "event: expected an object" in rejected("page_view")


def test_every_problem_of_an_event_is_reported_at_once():
    message = rejected({"type": "nope", "email": "bad", "occurred_at": "later", "properties": []})
    for field in ("type", "email", "occurred_at", "properties"):
        assert f"{field}:" in message


# ---------------------------------------------------------------- batches


def test_a_batch_keeps_good_events_and_reports_bad_ones_by_index():
    batch = clean_batch(
        {"write_key": "wk", "events": [event(), event(type="bogus"), "junk", event(type="download")]}, NOW
    )
    assert [item.type for item in batch.events] == ["page_view", "download"]
    assert [item.index for item in batch.rejected] == [1, 2]
    assert batch.rejected[1].as_json() == {"index": 2, "error": "event: expected an object"}


@pytest.mark.parametrize(
    ("document", "field", "message"),
    [
        ({"write_key": "wk"}, "events", "expected a list"),
        ({"write_key": "wk", "events": {"type": "page_view"}}, "events", "expected a list"),
        ({"write_key": "wk", "events": []}, "events", "expected 1 to 100 events, got 0"),
        ({"write_key": "wk", "events": [PAGE] * 101}, "events", "expected 1 to 100 events, got 101"),
        ({"write_key": "wk", "events": [PAGE], "extra": 1}, "extra", "unknown key"),
    ],
)
def test_a_batch_of_the_wrong_shape_is_refused_whole(document, field, message):
    with pytest.raises(InvalidBatchError) as caught:
        clean_batch(document, NOW)
    assert message in caught.value.errors[field]


def test_a_batch_of_exactly_100_is_accepted():
    assert len(clean_batch({"write_key": "wk", "events": [PAGE] * 100}, NOW).events) == 100


@pytest.mark.parametrize(
    ("document", "expected"), [({"write_key": "wk_1"}, "wk_1"), ({}, None), ({"write_key": 5}, None)]
)
def test_write_key_of(document, expected):
    assert tracking.write_key_of(document) == expected


# ---------------------------------------------------------------- origins


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        (None, True),
        ("https://www.example.com", True),
        ("HTTPS://WWW.EXAMPLE.COM/", True),
        ("https://shop.example.org", True),
        ("https://a.b.example.org", True),
        ("https://example.org", False),
        ("http://shop.example.org", False),
        ("https://evilexample.org", False),
        ("https://example.com", False),
        ("https://www.example.com:8443", False),
        ("null", False),
    ],
)
def test_origins_match_exactly_or_by_subdomain_wildcard(origin, allowed):
    assert origins.origin_allowed(["https://www.example.com", "https://*.example.org"], origin) is allowed


def test_star_allows_every_origin():
    assert origins.origin_allowed(["*"], "https://anything.example")


# ---------------------------------------------------------------- activities


def test_a_page_view_becomes_an_anonymous_activity_with_its_attribution():
    url = "https://www.example.com/pricing?utm_source=news&utm_medium=email&utm_campaign=q4&utm_term=&x=1"
    clean = clean_event(
        event(url=url, title="Pricing", referrer="https://google.com/", properties={"plan": "pro"}), NOW
    )
    activity = tracking.activity_for("www", clean)
    assert activity.type == "page_view"
    assert activity.contact_id is None
    assert activity.anonymous_id == "a1b2c3"
    assert activity.occurred_at == NOW
    assert activity.properties == {
        "plan": "pro",
        "url": url,
        "title": "Pricing",
        "referrer": "https://google.com/",
        "site_id": "www",
    }
    assert activity.context.model_dump(exclude_none=True) == {
        "utm_source": "news",
        "utm_medium": "email",
        "utm_campaign": "q4",
        "page_url": url,
        "referrer": "https://google.com/",
        "anonymous_id": "a1b2c3",
    }


def test_an_identified_download_carries_the_normalised_email_and_its_asset():
    clean = clean_event(
        event(type="download", email="Bo@Example.com", event_id="e-1", properties={"asset_id": "ebook-7"}),
        NOW,
    )
    properties = tracking.activity_for("www", clean).properties
    assert properties["email"] == "Bo@example.com"
    assert properties["asset_id"] == "ebook-7"
    assert properties["event_id"] == "e-1"


def _id(site: str = "www", now: datetime = NOW, **changes: Any) -> str:
    return tracking.activity_id(site, clean_event(event(**changes), now))


def test_the_activity_id_recipe_is_stable_across_releases():
    # A changed recipe would make every retry in flight during a deploy count twice: pin it.
    # Parts: site, anonymous id, email key, type, stated time ("" with an event id), url, properties, event id
    expected = stable_id(
        "act", "www", "a1b2c3", "", "page_view", "", "https://www.example.com/pricing", "{}", "e-1"
    )
    assert _id(event_id="e-1") == expected == "act_qw0q2n499qremeqxsqdhrr7v"


def test_an_event_id_makes_a_retry_the_same_activity_whenever_it_arrives():
    assert _id(event_id="e-1") == _id(event_id="e-1", now=NOW + timedelta(minutes=3))
    assert _id(event_id="e-1") != _id(event_id="e-2")


def test_a_stated_time_makes_the_id_repeatable():
    stated = "2026-11-24T11:59:00Z"
    assert _id(occurred_at=stated) == _id(occurred_at=stated, now=NOW + timedelta(seconds=10))


def test_without_event_id_or_time_each_arrival_is_its_own_activity():
    assert _id() != _id(now=NOW + timedelta(milliseconds=1))


@pytest.mark.parametrize(
    "changes",
    [
        {"site": "other"},
        {"anonymous_id": "zzz"},
        {"email": "a@example.com"},
        {"type": "download"},
        {"url": "https://www.example.com/other"},
        {"properties": {"plan": "pro"}},
    ],
)
def test_the_id_depends_on_site_identity_type_url_and_properties(changes):
    assert _id(event_id="e-1", **changes) != _id(event_id="e-1")


def _tracked(events: list[dict[str, Any]], receipt: str, now: datetime = NOW) -> tracking.TrackedBatch:
    batch = clean_batch({"write_key": "wk", "events": events}, now)
    return tracking.activities_for("www", batch.events, receipt)


def test_three_identical_events_without_id_or_time_are_three_activities():
    # They used to derive one id: answered {"accepted": 3}, applied once
    tracked = _tracked([event(), event(), event()], receipt="r1")
    assert len({activity.activity_id for activity in tracked.activities}) == 3
    assert tracked.duplicates == []


def test_each_arrival_of_an_event_without_id_or_time_counts_again():
    first, second = _tracked([event()], receipt="r1"), _tracked([event()], receipt="r2")
    assert first.activities[0].activity_id != second.activities[0].activity_id


def test_a_retried_batch_with_event_ids_gets_the_same_ids_later_and_under_a_new_receipt():
    events = [event(event_id="e-1"), event(event_id="e-2", url="https://www.example.com/docs")]
    first = _tracked(events, receipt="r1")
    retry = _tracked(events, receipt="r2", now=NOW + timedelta(seconds=4))
    assert [a.activity_id for a in first.activities] == [a.activity_id for a in retry.activities]
    assert len(first.activities) == 2


def test_a_repeated_event_id_in_one_batch_is_reported_as_a_duplicate_and_counted_once():
    tracked = _tracked([event(event_id="e-1"), event(), event(event_id="e-1")], receipt="r1")
    assert len(tracked.activities) == 2
    assert [item.as_json() for item in tracked.duplicates] == [{"index": 2, "duplicate_of": 0}]


def test_the_same_stated_time_and_content_twice_in_one_batch_is_one_event():
    stated = "2026-11-24T11:59:00Z"
    tracked = _tracked([event(occurred_at=stated), event(occurred_at=stated)], receipt="r1")
    assert len(tracked.activities) == 1
    assert tracked.duplicates[0].as_json() == {"index": 1, "duplicate_of": 0}


# ---------------------------------------------------------------- email opens and clicks

OPEN = TokenPayload(kind=Kind.OPEN, contact_id="c_1", message_id="m_1", issued_at=0, flow_id="f", step_id="s")


def test_opens_in_the_same_minute_are_one_activity_and_the_next_minute_another():
    first = tracking.email_activity(OPEN, NOW)
    again = tracking.email_activity(OPEN, NOW + timedelta(seconds=20))
    later = tracking.email_activity(OPEN, NOW + timedelta(seconds=40))
    assert first.activity_id == again.activity_id != later.activity_id
    assert first.type == "email_open"
    assert first.contact_id == "c_1"
    assert first.properties == {"message_id": "m_1", "flow_id": "f", "step_id": "s"}


def test_clicks_are_told_apart_by_link_and_carry_the_url():
    def click(url: str):
        payload = TokenPayload(kind=Kind.CLICK, contact_id="c_1", message_id="m_1", issued_at=0, url=url)
        return tracking.email_activity(payload, NOW)

    pricing, docs = click("https://x.io/pricing"), click("https://x.io/docs")
    assert pricing.type == "email_click"
    assert pricing.properties["url"] == "https://x.io/pricing"
    assert pricing.activity_id != docs.activity_id
    assert pricing.activity_id != tracking.email_activity(OPEN, NOW).activity_id


def test_unsubscribe_and_confirm_tokens_record_no_tracking_activity():
    payload = TokenPayload(kind=Kind.UNSUBSCRIBE, contact_id="c_1", message_id="m_1", issued_at=0)
    with pytest.raises(ValueError, match="records no activity"):
        tracking.email_activity(payload, NOW)
