"""Email templates: Jinja2 syntax checked in a sandbox, and the sender's address."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from leadflow.definitions import EmailTemplate, parse_bundle
from leadflow.definitions.templates import check_sender, jinja_environment


def test_template_fields(doc: dict[str, Any]) -> None:
    doc["email_templates"][0].update(
        text="Hi {{ first_name | default('there') }}", **{"from": "Ev <ev@example.com>"}
    )
    template = parse_bundle(doc).template("invite")
    assert isinstance(template, EmailTemplate)
    assert template.sender == "Ev <ev@example.com>" == template.from_
    assert parse_bundle(doc).to_json_dict()["email_templates"][0]["from"] == "Ev <ev@example.com>"


def test_checked_templates_render_in_the_sandbox() -> None:
    rendered = jinja_environment().from_string("{{ first_name | default('there') }}!").render()
    assert rendered == "there!"


def test_template_syntax_errors_name_the_key_and_line(
    doc: dict[str, Any], problems: Callable[..., list[str]]
) -> None:
    doc["email_templates"][0].update(
        subject="Hi {{ first_name }",
        html="<p>\n{% if vip %}VIP</p>",
        text="{{ name | no_such_filter }}",
    )
    assert problems(doc) == [
        "email_templates[0].subject: template error on line 1: unexpected '}'",
        "email_templates[0].html: template error on line 2: Unexpected end of template. Jinja was looking "
        "for "
        "the following tags: 'elif' or 'else' or 'endif'. The innermost block that needs to be closed is "
        "'if'.",
        "email_templates[0].text: template error on line 1: No filter named 'no_such_filter'.",
    ]


def test_template_check_can_be_skipped_for_stored_bundles(doc: dict[str, Any]) -> None:
    doc["email_templates"][0]["subject"] = "Hi {{ first_name }"
    assert parse_bundle(doc, check_templates=False).template("invite") is not None


@pytest.mark.parametrize(
    "sender", ["events@example.com", "Events <events@example.com>", '"Acme, Inc" <a@b.example>']
)
def test_valid_senders(sender: str) -> None:
    assert check_sender(sender) == sender


@pytest.mark.parametrize(
    "sender", ["events", "Events events@example.com", "Events <events@example>", "<a@b.c", "@x.com"]
)
def test_invalid_senders(sender: str) -> None:
    with pytest.raises(ValueError, match="is not a sender"):
        check_sender(sender)


def test_subject_is_one_line(doc: dict[str, Any], problems: Callable[..., list[str]]) -> None:
    doc["email_templates"][0].update(subject="Hi\nthere", reply_to="nope")
    assert problems(doc) == [
        "email_templates[0].subject: the subject must be one line",
        'email_templates[0].reply_to: "nope" is not a sender: write an address, or "Name <address>"',
    ]


def test_unknown_filters_and_tests_are_refused_even_in_branches_a_contact_may_never_take(
    doc: dict[str, Any], problems: Callable[..., list[str]]
) -> None:
    # Jinja2's compiler alone lets both through: they would fail at send time, for some contacts only
    doc["email_templates"][0].update(
        subject="{% if vip %}{{ name | shout }}{% endif %}",
        html="<p>\n{% if plan is premium %}Hi{% endif %}</p>",
        text="{% filter nope %}x{% endfilter %}",
    )
    assert problems(doc) == [
        "email_templates[0].subject: template error on line 1: No filter named 'shout'.",
        "email_templates[0].html: template error on line 2: No test named 'premium'.",
        "email_templates[0].text: template error on line 1: No filter named 'nope'.",
    ]


def test_missing_variables_print_nothing_or_their_default_and_never_none() -> None:
    template = jinja_environment().from_string(
        "[{{ first_name }}|{{ company.name.first }}|{{ city | default('there') }}|{{ empty }}]"
    )
    assert template.render(empty=None) == "[||there|]"


def test_the_html_environment_escapes_and_the_text_one_does_not() -> None:
    source = "{{ name }}"
    assert jinja_environment(html=True).from_string(source).render(name="<b>") == "&lt;b&gt;"
    assert jinja_environment().from_string(source).render(name="<b>") == "<b>"


@pytest.mark.parametrize("source", ["{{ 'x' * 10**7 }}", "{{ [1] * 200000 }}", "{{ 2 ** 100000 }}"])
def test_templates_cannot_build_huge_values(source: str) -> None:
    from jinja2.exceptions import SecurityError

    with pytest.raises(SecurityError):
        jinja_environment().from_string(source).render()
