"""One CSV row to what an import writes: the normalised email, typed contact fields, a member status.

The contact fields a column may fill are the ones the active bundle's forms define (typed and
checked as a submission's would be), plus ``time_zone`` (an IANA zone: nurture's quiet hours and
send times read it). Consent fields are not importable: a file is no proof of consent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from leadflow.domain import text
from leadflow.domain.emails import EmailAddress, InvalidEmail, normalise_email
from leadflow.domain.imports.csv_file import EMAIL_COLUMN, STATUS_COLUMN, Header, Record
from leadflow.domain.submissions import clean_field_value

if TYPE_CHECKING:
    from collections.abc import Mapping

    from leadflow.definitions import Bundle, Campaign, FormField

TIME_ZONE_FIELD = "time_zone"
_MAX_CELL = 5000


@dataclass(frozen=True, slots=True)
class RowError:
    """Why one row (or one column of it) was not imported."""

    row: int
    column: str | None
    reason: str
    warning: bool = False
    """Imported all the same, with this said about it (a phone kept as typed, say)."""

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"row": self.row, "column": self.column, "reason": self.reason}
        if self.warning:
            data["warning"] = True
        return data


@dataclass(frozen=True, slots=True)
class CleanRow:
    row: int
    email: EmailAddress
    fields: dict[str, Any]
    status: str | None


def importable_fields(bundle: Bundle) -> dict[str, FormField | None]:
    """Contact fields a CSV column may fill, by name: every form field but email and consent
    (the first form defining a name gives its type), and ``time_zone`` (None: checked as a zone)."""
    found: dict[str, FormField | None] = {TIME_ZONE_FIELD: None}
    for form in bundle.forms:
        for spec in form.fields:
            if spec.name != EMAIL_COLUMN and str(spec.type) != "consent" and spec.name not in found:
                found[spec.name] = spec
    return found


def valid_time_zone(value: str) -> bool:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not value or len(value) > 64 or not text.is_identifier(value.replace("/", ".").replace("+", ".")):
        return False
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def member_status(campaign: Campaign, raw: str) -> str:
    """The campaign's status named ``raw`` (case-insensitive), or ValueError listing the statuses."""
    wanted = raw.strip().casefold()
    for name in campaign.status_names():
        if name.casefold() == wanted:
            return name
    raise ValueError(
        f"{campaign.id} has no member status {raw.strip()!r}; it has {', '.join(campaign.status_names())}"
    )


def clean_row(
    record: Record, header: Header, campaign: Campaign, specs: Mapping[str, FormField | None]
) -> CleanRow | list[RowError]:
    """The row ready to import, or every reason it cannot be (each with its column)."""
    if record.problem:
        return [RowError(record.row, None, record.problem)]
    if len(record.cells) > header.width:
        return [
            RowError(
                record.row, None, f"the row has {len(record.cells)} values; the header names {header.width}"
            )
        ]
    cells = record.cells + [""] * (header.width - len(record.cells))
    errors: list[RowError] = []
    email: EmailAddress | None = None
    try:
        email = normalise_email(cells[header.email])
        if problem := text.problem(email.address):
            raise InvalidEmail(problem)
    except InvalidEmail as invalid:
        errors.append(RowError(record.row, EMAIL_COLUMN, str(invalid)))
    status = None
    if header.status is not None and cells[header.status].strip():
        try:
            status = member_status(campaign, cells[header.status])
        except ValueError as unknown:
            errors.append(RowError(record.row, STATUS_COLUMN, str(unknown)))
    fields: dict[str, Any] = {}
    for index, name in header.fields.items():
        raw = cells[index].strip()
        if not raw:
            continue  # an empty cell never erases what the contact has
        try:
            fields[name] = _clean_cell(raw, specs.get(name))
        except ValueError as invalid:
            errors.append(RowError(record.row, name, str(invalid)))
    if errors:
        return errors
    assert email is not None
    return CleanRow(row=record.row, email=email, fields=fields, status=status)


def _clean_cell(raw: str, spec: FormField | None) -> Any:
    if len(raw) > _MAX_CELL:
        raise ValueError(f"at most {_MAX_CELL} characters")
    if spec is None:
        if not valid_time_zone(raw):
            raise ValueError("not a time zone (an IANA name such as Europe/Berlin)")
        return raw
    return clean_field_value(spec, raw)
