"""parse_bundle: YAML and JSON text, syntax errors, and every problem reported at once."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from leadflow.definitions import DefinitionsError, parse_bundle


def test_yaml_text_and_bytes_parse(doc: dict[str, Any]) -> None:
    import yaml

    text = yaml.safe_dump(doc)
    assert parse_bundle(text) == parse_bundle(text.encode()) == parse_bundle(doc)


def test_json_text_parses_with_or_without_a_json_content_type(doc: dict[str, Any]) -> None:
    text = json.dumps(doc)
    assert parse_bundle(text, content_type="application/json") == parse_bundle(text) == parse_bundle(doc)
    assert parse_bundle(text.encode(), content_type="application/json; charset=utf-8") == parse_bundle(doc)


def test_json_syntax_errors_say_json(problems: Callable[..., list[str]]) -> None:
    assert problems('{"forms": [}', content_type="application/json") == [
        "JSON syntax error at line 1, column 12: Expecting value"
    ]
    assert problems('{\n "forms": [],\n "forms": []\n}', content_type="application/json") == [
        'JSON error: duplicate key "forms"'
    ]


def test_yaml_syntax_errors_give_line_and_column(problems: Callable[..., list[str]]) -> None:
    text = "forms:\n  - id: a\n   fields: []\n"
    assert problems(text) == [
        "YAML syntax error at line 3, column 4: while parsing a block collection: did not find expected "
        "'-' indicator"
    ]


def test_yaml_duplicate_keys_are_errors(problems: Callable[..., list[str]]) -> None:
    assert problems("forms: []\nflows: []\nforms: []\n") == [
        'YAML syntax error at line 3, column 1: duplicate key "forms"'
    ]


def test_yaml_reads_times_and_yes_no_as_text(doc: dict[str, Any]) -> None:
    # Given YAML 1.1 traps: an unquoted 20:00 (sexagesimal 1200) and [Yes, No] (booleans)
    text = """
forms:
  - id: f
    fields:
      - {name: email, type: email}
      - {name: ok, type: select, options: [Yes, No, on, 010]}
flows:
  - id: fl
    trigger: {tag_added: x}
    quiet_hours: {start: 20:00, end: 8:00}
    steps: [{id: a, wait: 1d}]
"""
    bundle = parse_bundle(text)
    # Then they stay the text the marketer wrote
    assert bundle.forms[0].field("ok").options == ["Yes", "No", "on", "010"]  # type: ignore[union-attr]
    assert str(bundle.flows[0].quiet_hours.start) == "20:00:00"  # type: ignore[union-attr]
    assert str(bundle.flows[0].quiet_hours.end) == "08:00:00"  # type: ignore[union-attr]


def test_yaml_numbers_booleans_and_dates_still_work() -> None:
    text = """
campaigns:
  - {id: c, kind: crm, name: C, budgeted_cost: 1.5e3, actual_cost: 42, start_date: 2026-07-01}
forms:
  - id: f
    double_opt_in: true
    fields: [{name: email, type: email, required: True}]
"""
    bundle = parse_bundle(text)
    campaign = bundle.campaigns[0]
    assert (campaign.budgeted_cost, campaign.actual_cost, str(campaign.start_date)) == (
        1500,
        42,
        "2026-07-01",
    )
    assert bundle.forms[0].double_opt_in
    assert bundle.forms[0].fields[0].required


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("", "the document is empty: a bundle has sections such as forms: and flows:"),
        ("- a\n- b\n", "a bundle maps sections (forms:, flows:, ...), not a list"),
        (b"\xff\xfe\xfa", "the document is not UTF-8 text (byte 0)"),
    ],
)
def test_documents_that_are_not_bundles(data: Any, message: str, problems: Callable[..., list[str]]) -> None:
    assert problems(data) == [message]


def test_unknown_keys_suggest_the_intended_one(
    doc: dict[str, Any], problems: Callable[..., list[str]]
) -> None:
    doc["form"] = doc.pop("forms")
    doc["flows"][0]["steps"][0]["send_emial"] = doc["flows"][0]["steps"][0].pop("send_email")
    doc["lists"][0]["kindd"] = "static"
    doc["flows"][0]["trigger"]["when"] = {}
    found = problems(doc)
    assert 'form: unknown key (did you mean "forms"?)' in found
    assert 'lists[0].kindd: unknown key (did you mean "kind"?)' in found
    assert "flows[0].trigger.when: unknown key; allowed here: form_submitted" in found
    assert (
        "flows[0].steps[0]: a step needs exactly one of: send_email, wait, wait_for, branch, update, "
        "add_to_list, add_to_crm_campaign, sales_task, goto, end" in found
    )


def test_every_problem_at_once_shape_and_references(
    doc: dict[str, Any], problems: Callable[..., list[str]]
) -> None:
    # Given one shape problem in a form, and reference problems in other sections
    doc["forms"][0]["fields"][1]["type"] = "txt"
    doc["flows"][0]["steps"][0]["send_email"]["template"] = "nope"
    doc["sync_rules"][0]["then"]["status"] = "Won"
    doc["sites"][0]["allowed_origins"] = ["not an origin"]
    # When the bundle is parsed
    found = problems(doc)
    # Then every problem is listed, in document order; the broken form is not reported as unknown
    assert [line.split(":")[0] for line in found] == [
        "forms[0].fields[1].type",
        "flows[0].steps[0].send_email.template",
        "sync_rules[0].then.status",
        "sites[0].allowed_origins[0]",
    ]


def test_references_to_an_invalid_item_are_not_reported_twice(
    doc: dict[str, Any], problems: Callable[..., list[str]]
) -> None:
    # Given the flow that the form and a sync rule enroll into is itself invalid
    doc["flows"][0]["steps"] = []
    # Then the flow's own problem is listed, and not "unknown flow" at each reference
    assert problems(doc) == ["flows[0].steps: needs at least 1 item"]


def test_error_object_carries_problems_and_a_readable_message(doc: dict[str, Any]) -> None:
    doc["forms"][0]["on_submit"] = [{"enroll": "nope"}]
    with pytest.raises(DefinitionsError) as caught:
        parse_bundle(doc)
    assert (
        str(caught.value)
        == '1 problem in the definitions:\n  forms[0].on_submit[0].enroll: unknown flow "nope"'
    )
    assert caught.value.problems[0].path == "forms[0].on_submit[0].enroll"


def test_a_section_left_empty_in_yaml_is_empty() -> None:
    bundle = parse_bundle("version_note: nothing yet\nforms:\nflows:\nscoring:\n")
    assert bundle.forms == []
    assert bundle.flows == []
    assert bundle.scoring.rules == []


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_json_nan_and_infinity_are_refused(constant: str, problems: Callable[..., list[str]]) -> None:
    campaign = '{"id": "c", "kind": "crm", "name": "C", "custom_fields": {"x": ' + constant + "}}"
    text = '{"campaigns": [' + campaign + "]}"
    assert problems(text, content_type="application/json") == [
        f"JSON error: {constant} is not a number a bundle can hold; numbers must be finite"
    ]


def test_yaml_numbers_beyond_a_double_are_refused(problems: Callable[..., list[str]]) -> None:
    found = problems("campaigns:\n  - {id: c, kind: crm, name: C, custom_fields: {x: 1e999}}\n")
    assert found == ["campaigns[0].custom_fields.x: numbers must be finite"]


def test_yaml_inf_and_nan_are_text_not_numbers() -> None:
    text = "campaigns:\n  - {id: c, kind: crm, name: C, custom_fields: {a: .inf, b: -.inf, c: .nan}}\n"
    campaign = parse_bundle(text).campaigns[0]
    assert campaign.custom_fields == {"a": ".inf", "b": "-.inf", "c": ".nan"}
