"""Amazon Pinpoint endpoint exports: one JSON endpoint per line, merged into people by ``User.UserId``.

Mapping (docs/IMPORTS.md): the EMAIL endpoint gives the email (the newest by ``EffectiveDate``
when a user has several), an SMS (else VOICE) endpoint the ``phone`` field; endpoint
``Attributes`` and then ``User.UserAttributes`` become contact fields (one value: text, several:
a list); ``Demographic.Timezone`` becomes ``time_zone``, ``Demographic.Locale`` ``locale``,
``Location`` ``country``, ``region``, ``city`` and ``postal_code``; ``OptOut: ALL`` on any of the
person's endpoints unsubscribes them; ``EndpointStatus: INACTIVE`` on their EMAIL endpoint
suppresses the address (the reason is kept). Push, custom and in-app endpoints are counted and
skipped. ``Metrics`` and device data (``Demographic.Make``, ``Platform``...) are not kept.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from leadflow.domain import text
from leadflow.domain.emails import EmailAddress, InvalidEmail, normalise_email
from leadflow.domain.imports.people import ImportedPerson
from leadflow.domain.imports.rows import TIME_ZONE_FIELD, RowError, valid_time_zone

KEPT_CHANNELS = frozenset({"EMAIL", "SMS", "VOICE"})
SKIPPED_CHANNELS = frozenset(
    {
        "GCM",
        "APNS",
        "APNS_SANDBOX",
        "APNS_VOIP",
        "APNS_VOIP_SANDBOX",
        "ADM",
        "BAIDU",
        "CUSTOM",
        "IN_APP",
        "PUSH",
    }
)
MAX_LINE_BYTES = 256 * 1024
MAX_FIELD_NAME = 64
MAX_VALUE = 2000
_LOCATION_FIELDS = {"Country": "country", "Region": "region", "City": "city", "PostalCode": "postal_code"}
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_PHONE_PUNCTUATION = re.compile(r"[\s().-]")
USER_ID_FIELD = "pinpoint_user_id"


class PinpointUser(BaseModel):
    model_config = ConfigDict(extra="ignore")

    UserId: str | None = None
    UserAttributes: dict[str, list[str]] | None = None


class Endpoint(BaseModel):
    """The parts of an exported endpoint Leadflow reads (RequestId, CohortId, ApplicationId... are not)."""

    model_config = ConfigDict(extra="ignore")

    ChannelType: str
    Address: str | None = None
    EndpointStatus: str | None = None
    OptOut: str | None = None
    User: PinpointUser | None = None
    Attributes: dict[str, list[str]] | None = None
    Demographic: dict[str, Any] | None = None
    Location: dict[str, Any] | None = None
    Metrics: dict[str, float] | None = None
    EffectiveDate: str | None = None
    Id: str | None = None

    @property
    def user_id(self) -> str | None:
        user_id = self.User.UserId if self.User else None
        return user_id.strip() or None if isinstance(user_id, str) else None


@dataclass(frozen=True, slots=True)
class ParsedLine:
    line: int
    endpoint: Endpoint | None = None
    error: str | None = None
    column: str | None = None


def parse_line(line: int, raw: bytes) -> ParsedLine | None:
    """One export line: its endpoint, or why it is not one; None for a blank line."""
    if not raw.strip():
        return None
    if len(raw) > MAX_LINE_BYTES:
        return ParsedLine(line, error=f"the line is longer than {MAX_LINE_BYTES // 1024} KiB")
    try:
        data = json.loads(raw)
    except UnicodeDecodeError:
        return ParsedLine(line, error="not valid UTF-8")
    except (ValueError, RecursionError):
        return ParsedLine(line, error="not JSON: each line of an export is one endpoint object")
    if not isinstance(data, dict):
        return ParsedLine(line, error="not an endpoint: expected a JSON object")
    try:
        endpoint = Endpoint.model_validate(data)
    except ValidationError as invalid:
        first = invalid.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or None
        return ParsedLine(line, error=f"not an endpoint: {first['msg']}", column=where)
    channel = endpoint.ChannelType
    if channel not in KEPT_CHANNELS | SKIPPED_CHANNELS:
        return ParsedLine(line, error=f"unknown ChannelType {channel[:40]!r}", column="ChannelType")
    return ParsedLine(line, endpoint=endpoint)


def person_key(parsed: ParsedLine) -> str:
    """Endpoints of one UserId are one person; an endpoint without a user is a person of its own."""
    assert parsed.endpoint is not None
    user_id = parsed.endpoint.user_id
    return f"user:{user_id}" if user_id else f"line:{parsed.line}"


@dataclass(slots=True)
class Mapped:
    """A person ready to import, or None with the errors; warnings and skipped push endpoints either way."""

    person: ImportedPerson | None
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    skipped: int = 0


def _newest(lines: list[tuple[int, Endpoint]]) -> list[tuple[int, Endpoint]]:
    """Oldest first by EffectiveDate (ISO 8601 sorts as text), ties by line: the last one wins."""
    return sorted(lines, key=lambda item: (item[1].EffectiveDate or "", item[0]))


def map_person(lines: list[tuple[int, Endpoint]]) -> Mapped:
    """Merges one person's endpoints (all of one UserId, or one endpoint without a user)."""
    mapped = Mapped(person=None)
    ordered = _newest(lines)
    kept = [(line, endpoint) for line, endpoint in ordered if endpoint.ChannelType in KEPT_CHANNELS]
    mapped.skipped = len(ordered) - len(kept)
    emails: list[tuple[int, Endpoint, EmailAddress]] = []
    for line, endpoint in kept:
        if endpoint.ChannelType != "EMAIL":
            continue
        try:
            address = normalise_email(endpoint.Address or "")
            if problem := text.problem(address.address):
                raise InvalidEmail(problem)
        except InvalidEmail as invalid:
            mapped.errors.append(RowError(line, "Address", f"not an email address: {invalid}"))
            continue
        emails.append((line, endpoint, address))
    first_line = min(line for line, _ in ordered)
    if not emails:
        if kept and not mapped.errors:
            mapped.errors.append(
                RowError(first_line, "Address", "no EMAIL endpoint: Leadflow keeps people by email address")
            )
        return mapped
    line, chosen, email = emails[-1]
    for other_line, _, other in emails[:-1]:
        if other.key != email.key:
            mapped.warnings.append(
                RowError(
                    other_line, "Address", f"an older EMAIL endpoint of this user; imported line {line}'s"
                )
            )
    fields: dict[str, Any] = {}
    for endpoint_line, endpoint in kept:
        _attributes(endpoint.Attributes, fields, endpoint_line, mapped, "Attributes")
        _demographics(endpoint, fields, endpoint_line, mapped)
    for endpoint_line, endpoint in kept:
        _attributes(
            endpoint.User.UserAttributes if endpoint.User else None,
            fields,
            endpoint_line,
            mapped,
            "User.UserAttributes",
        )
    phone = _phone(kept, mapped)
    if phone:
        fields["phone"] = phone
    if chosen.user_id:
        fields[USER_ID_FIELD] = chosen.user_id
    inactive = None
    if (chosen.EndpointStatus or "").upper() == "INACTIVE":
        inactive = {"reason": "Pinpoint EndpointStatus INACTIVE", "endpoint_id": chosen.Id, "line": line}
    opted_out = any((endpoint.OptOut or "").upper() == "ALL" for _, endpoint in kept)
    mapped.person = ImportedPerson(
        key=first_line,
        email=email,
        fields=fields,
        opted_out=opted_out,
        inactive=inactive,
        lines=tuple(sorted(item for item, _ in ordered)),
    )
    return mapped


def _attributes(
    attributes: dict[str, list[str]] | None, fields: dict[str, Any], line: int, mapped: Mapped, where: str
) -> None:
    for name, values in (attributes or {}).items():
        if not name or len(name) > MAX_FIELD_NAME or text.problem(name) or name == "email":
            mapped.warnings.append(
                RowError(line, f"{where}.{name[:MAX_FIELD_NAME]}", "not a usable field name; skipped")
            )
            continue
        kept = [value for value in values if value.strip()]
        bad = next((value for value in kept if len(value) > MAX_VALUE or text.problem(value)), None)
        if bad is not None:
            reason = text.problem(bad) or f"longer than {MAX_VALUE} characters"
            mapped.warnings.append(RowError(line, f"{where}.{name}", f"skipped: {reason}"))
            continue
        if kept:
            fields[name] = kept[0] if len(kept) == 1 else kept


def _demographics(endpoint: Endpoint, fields: dict[str, Any], line: int, mapped: Mapped) -> None:
    demographic = endpoint.Demographic or {}
    zone = demographic.get("Timezone")
    if isinstance(zone, str) and zone.strip():
        if valid_time_zone(zone.strip()):
            fields[TIME_ZONE_FIELD] = zone.strip()
        else:
            mapped.warnings.append(
                RowError(line, "Demographic.Timezone", f"not a time zone: {zone[:64]!r}; skipped")
            )
    locale = demographic.get("Locale")
    if isinstance(locale, str) and locale.strip() and not text.problem(locale) and len(locale) <= 35:
        fields["locale"] = locale.strip()
    for source, name in _LOCATION_FIELDS.items():
        value = (endpoint.Location or {}).get(source)
        if isinstance(value, str) and value.strip() and not text.problem(value) and len(value) <= 255:
            fields[name] = value.strip()


def normalise_phone(raw: str) -> tuple[str, bool]:
    """The number in E.164 when it plainly is one once spaces and punctuation go (``00`` read as
    ``+``); else as typed. The flag says whether it is E.164."""
    compact = _PHONE_PUNCTUATION.sub("", raw.strip())
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if _E164.fullmatch(compact):
        return compact, True
    return raw.strip(), False


def _phone(kept: list[tuple[int, Endpoint]], mapped: Mapped) -> str | None:
    for channel in ("SMS", "VOICE"):
        numbers = [
            (line, endpoint.Address or "") for line, endpoint in kept if endpoint.ChannelType == channel
        ]
        numbers = [(line, address) for line, address in numbers if address.strip()]
        if not numbers:
            continue
        line, address = numbers[-1]
        if len(address) > 40 or text.problem(address):
            mapped.warnings.append(RowError(line, "Address", "not a phone number; skipped"))
            return None
        phone, e164 = normalise_phone(address)
        if not e164:
            mapped.warnings.append(
                RowError(line, "Address", "not in E.164 (+ and country code); kept as typed")
            )
        return phone
    return None
