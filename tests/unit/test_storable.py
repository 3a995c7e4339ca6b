"""What the store can keep, and the text rule: the pure checks every validator and the serialiser share.

The property tests are the contract of issue 11: whatever the tracking validator accepts, the
activity model parses back and the store's serialiser (and boto3's under it) writes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadflow.domain import storable, text, tracking
from leadflow.domain.activities import Activity
from leadflow.domain.storable import UnstorableValueError
from leadflow.domain.tracking import InvalidEventError, clean_event
from leadflow.store import dynamo

NOW = datetime(2026, 11, 24, 12, 0, 30, tzinfo=UTC)
BOTO3 = TypeSerializer()

# ---------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        (0, Decimal(0)),
        (-0.0, Decimal(0)),
        (100, Decimal(100)),
        (0.1, Decimal("0.1")),
        (1e125, Decimal("1E+125")),
        (1e-130, Decimal("1E-130")),
        (10**39, Decimal("1E+39")),  # one significant digit: DynamoDB keeps it, boto3 needs it folded
        (-(10**38 - 1), Decimal(-(10**38 - 1))),
    ],
)
def test_numbers_dynamodb_keeps(value, stored):
    assert storable.number(value) == stored
    assert BOTO3.serialize(storable.number(value))["N"]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (1e126, "too large"),
        (1e300, "too large"),
        (1e-131, "too small"),
        (5e-324, "too small"),
        (10**38 + 1, "significant digits"),
        (10**1000, "too large"),
        (float("nan"), "finite"),
        (float("-inf"), "finite"),
        (Decimal("NaN"), "finite"),
        (True, "boolean"),
    ],
)
def test_numbers_dynamodb_refuses(value, reason):
    with pytest.raises(UnstorableValueError, match=reason):
        storable.number(value)


@given(st.integers() | st.floats(allow_nan=False, allow_infinity=False))
def test_every_number_the_check_accepts_boto3_writes_exactly(value):
    try:
        kept = storable.number(value)
    except UnstorableValueError:
        return
    written = BOTO3.serialize(kept)["N"]
    assert Decimal(written) == Decimal(value if isinstance(value, int) else repr(value))


# ---------------------------------------------------------------- documents


def test_nesting_is_counted_by_maps_and_lists():
    assert storable.storable({"a": [{"b": 1}]}, max_depth=3) == {"a": [{"b": Decimal(1)}]}
    with pytest.raises(UnstorableValueError, match="nested more than 2 levels") as caught:
        storable.storable({"a": [{"b": 1}]}, max_depth=2)
    assert caught.value.path == "a[0]"


def test_a_thousand_levels_cost_no_recursion_error():
    deep: Any = 1
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(UnstorableValueError, match="nested more than 32"):
        storable.storable(deep)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"": 1}, "a key must be non-empty text"),
        ({1: "x"}, "a key must be non-empty text"),
        ({"\ud800": 1}, "a key must not contain a lone surrogate"),
        ("\udfff", "lone surrogate"),
        (object(), "cannot be stored"),
    ],
)
def test_what_dynamodb_refuses_in_a_document(value, message):
    with pytest.raises(UnstorableValueError, match=message):
        storable.storable(value)


def test_the_serialiser_refuses_what_the_check_refuses_before_any_request():
    with pytest.raises(UnstorableValueError, match=r"properties\.n: number too large"):
        dynamo.serialize({"pk": "x", "properties": {"n": 1e300}})
    deep: Any = {}
    for _ in range(40):
        deep = {"a": deep}
    with pytest.raises(UnstorableValueError, match="nested more than 32 levels"):
        dynamo.serialize({"pk": "x", "properties": deep})


def test_the_serialiser_writes_sets_bytes_and_plain_values_as_before():
    item = dynamo.serialize(
        {"pk": "x", "n": 3, "f": 0.5, "b": b"\x00", "ok": True, "tags": {"a"}, "none": None}
    )
    assert item == {
        "pk": {"S": "x"},
        "n": {"N": "3"},
        "f": {"N": "0.5"},
        "b": {"B": b"\x00"},
        "ok": {"BOOL": True},
        "tags": {"SS": ["a"]},
    }


# ---------------------------------------------------------------- the text rule


@pytest.mark.parametrize(
    ("value", "multiline", "problem"),
    [
        ("plain", False, None),
        ("tab\there", False, None),
        ("\u05e9\u05dc\u05d5\u05dd\u200f", False, None),  # right-to-left text and its mark
        ("a\nb", True, None),
        ("a\r\nb", True, None),
        ("a\nb", False, "must not contain a line break (U+000A)"),
        ("a\x00b", True, "must not contain a NUL character (U+0000)"),
        ("a\x1bb", True, "must not contain a control character (U+001B)"),
        ("a\x7fb", True, "must not contain a control character (U+007F)"),
        ("a\x85b", True, "must not contain a control character (U+0085)"),
        ("a\u202ab", True, "must not contain a bidirectional control character (U+202A)"),
        ("a\u202eb", True, "must not contain a bidirectional control character (U+202E)"),
        ("a\u2066b", True, "must not contain a bidirectional control character (U+2066)"),
        ("a\u2069b", True, "must not contain a bidirectional control character (U+2069)"),
        ("a\ud800b", True, "must not contain a lone surrogate (U+D800)"),
    ],
)
def test_the_text_rule(value, multiline, problem):
    assert text.problem(value, multiline=multiline) == problem


# ---------------------------------------------------------------- the contract, as properties

_hostile_text = st.text(st.characters(exclude_categories=()), max_size=12)
_plain_text = st.text(st.characters(categories=["L", "N", "P", "Zs"]), max_size=12)
_text = _plain_text | _hostile_text
_key = st.text("abc_-.", min_size=1, max_size=5) | _hostile_text
_numbers = (
    st.integers(min_value=-(10**45), max_value=10**45)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([1e300, -1e-300, 1e125, 1e-130, 10**39, 10**38 - 1])
)
_json = st.recursive(
    st.none() | st.booleans() | _numbers | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_key, inner, max_size=3),
    max_leaves=12,
)


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"k": value}
    return value


def _named(raw: dict[str, Any]) -> dict[str, Any]:
    if raw["type"] != "custom":
        return raw
    return {**raw, "properties": {**raw["properties"], "name": "calculator_used"}}


_properties = st.dictionaries(_key, _json, max_size=4) | st.integers(1, 40).map(_nested)
#: Mostly valid identity and page fields, so that most events are judged on their properties.
_events = st.fixed_dictionaries(
    {
        "type": st.sampled_from(tracking.EVENT_TYPES),
        "anonymous_id": st.just("a1b2c3") | st.sampled_from(["anon\n", "", "x" * 129]),
        "url": st.just("https://www.example.com/p?utm_source=x")
        | _text.map("https://www.example.com/".__add__),
        "properties": _properties,
    },
    optional={
        "title": _text,
        "referrer": _text,
        "event_id": st.text("0123456789abcdef", min_size=1, max_size=32) | _hostile_text,
        "email": st.sampled_from(["ann@example.com", "ann\u202e@example.com"]),
        "occurred_at": st.sampled_from(["2026-11-24T12:00:00Z", "0001-01-01T00:00:00+01:00"]),
    },
).map(_named)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(_events)
def test_whatever_tracking_accepts_the_activity_model_parses_and_the_serialiser_writes(raw):
    try:
        event = clean_event(raw, NOW)
    except InvalidEventError:
        return
    activity = tracking.activity_for("www", event, "rcpt_1")
    # the activity survives the queue: the processor reads back exactly what was sent
    assert Activity.from_message(activity.to_message()) == activity
    # and the store writes it, through the project's serialiser and boto3's under it
    item = {"pk": "CONTACT#c_1", "sk": "ACT#x", **activity.model_dump(mode="json", exclude_defaults=True)}
    wire = dynamo.serialize(item)
    assert wire["properties"]["M"]["site_id"] == {"S": "www"}
    for name, value in item.items():
        BOTO3.serialize(storable.storable(value))
        assert name in wire


@given(_json)
def test_whatever_the_storable_check_accepts_boto3_serialises(value):
    try:
        kept = storable.storable(value)
    except UnstorableValueError:
        return
    BOTO3.serialize(kept)
