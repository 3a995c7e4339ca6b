"""A CSV row to a contact and a member status; what an import does to a subscription status."""

from __future__ import annotations

import pytest

from leadflow.definitions import Campaign
from leadflow.definitions.forms import FormField
from leadflow.domain.contacts import SubscriptionStatus
from leadflow.domain.emails import normalise_email
from leadflow.domain.imports.csv_file import Record, read_header
from leadflow.domain.imports.people import ImportedPerson, changed_fields, status_after_import
from leadflow.domain.imports.rows import CleanRow, clean_row, valid_time_zone

CAMPAIGN = Campaign.model_validate(
    {
        "id": "expo",
        "kind": "crm",
        "name": "Expo",
        "member_statuses": [{"name": "Invited", "default": True}, {"name": "Attended", "responded": True}],
    }
)
SPECS = {
    "first_name": FormField.model_validate({"name": "first_name", "type": "text", "max_length": 5}),
    "seats": FormField.model_validate({"name": "seats", "type": "number"}),
    "time_zone": None,
}
HEADER = read_header(b"email,first_name,seats,time_zone,status\n", SPECS)


def _clean(*cells: str) -> CleanRow | list:
    return clean_row(Record(row=7, end=0, cells=list(cells)), HEADER, CAMPAIGN, SPECS)


def test_a_good_row_is_typed_and_its_status_matched_in_any_case() -> None:
    row = _clean(" Ann@Example.COM ", "Ann", "12", "Europe/Berlin", "attended")
    assert isinstance(row, CleanRow)
    assert (row.email.address, row.email.key) == ("Ann@example.com", "ann@example.com")
    assert row.fields == {"first_name": "Ann", "seats": 12, "time_zone": "Europe/Berlin"}
    assert row.status == "Attended"


def test_empty_cells_are_not_values_and_a_short_row_is_padded() -> None:
    row = _clean("ann@example.com", "", "")
    assert isinstance(row, CleanRow)
    assert (row.fields, row.status) == ({}, None)


def test_every_problem_of_a_row_is_reported_with_its_column() -> None:
    errors = _clean("not-an-email", "Annabelle", "many", "Mars/Olympus", "Registered")
    assert isinstance(errors, list)
    assert {(error.row, error.column) for error in errors} == {
        (7, "email"),
        (7, "first_name"),
        (7, "seats"),
        (7, "time_zone"),
        (7, "status"),
    }
    status = next(error for error in errors if error.column == "status")
    assert "Invited, Attended" in status.reason


def test_a_row_longer_than_the_header_is_refused_whole() -> None:
    errors = _clean("a@example.com", "A", "1", "UTC", "Invited", "extra")
    assert isinstance(errors, list)
    assert "6 values" in errors[0].reason


@pytest.mark.parametrize("zone", ["Europe/Berlin", "UTC", "America/Argentina/Buenos_Aires", "Etc/GMT+5"])
def test_time_zones(zone: str) -> None:
    assert valid_time_zone(zone)


@pytest.mark.parametrize("zone", ["", "Mars/Olympus", "../../etc/passwd", "Europe/Berlin\n", "x" * 70])
def test_not_time_zones(zone: str) -> None:
    assert not valid_time_zone(zone)


def _person(**kwargs: object) -> ImportedPerson:
    return ImportedPerson(key=1, email=normalise_email("a@example.com"), **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("current", "kwargs", "after"),
    [
        (None, {}, SubscriptionStatus.SUBSCRIBED),
        (None, {"opted_out": True}, SubscriptionStatus.UNSUBSCRIBED),
        (None, {"inactive": {"reason": "x"}}, SubscriptionStatus.BOUNCED),
        (SubscriptionStatus.PENDING, {}, SubscriptionStatus.PENDING),
        (SubscriptionStatus.UNSUBSCRIBED, {}, SubscriptionStatus.UNSUBSCRIBED),
        (SubscriptionStatus.SUBSCRIBED, {"opted_out": True}, SubscriptionStatus.UNSUBSCRIBED),
        (SubscriptionStatus.BOUNCED, {"opted_out": True}, SubscriptionStatus.BOUNCED),
        (SubscriptionStatus.COMPLAINED, {"inactive": {"reason": "x"}}, SubscriptionStatus.COMPLAINED),
        (SubscriptionStatus.UNSUBSCRIBED, {"inactive": {"reason": "x"}}, SubscriptionStatus.BOUNCED),
    ],
)
def test_an_import_never_resubscribes(current, kwargs, after) -> None:
    assert status_after_import(current, _person(**kwargs)) == after


def test_only_differing_values_are_changes() -> None:
    assert changed_fields({"a": 1, "b": "x"}, {"a": 1, "b": "y", "c": 2}) == {"b": "y", "c": 2}
