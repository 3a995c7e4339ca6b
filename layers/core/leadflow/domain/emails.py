"""Email address normalisation and the dedupe key."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EmailAddress:
    """``address`` is what we send to (domain lower-cased, local part as typed);
    ``key`` is the dedupe key (the whole address case-folded), so "Ann@X.com" and
    "ann@x.com" are one contact, as every mail provider in practice treats them."""

    address: str
    key: str


class InvalidEmail(ValueError):
    pass


def normalise_email(raw: str) -> EmailAddress:
    text = raw.strip()
    if not text:
        raise InvalidEmail("an email address is required")
    if len(text) > 254:
        raise InvalidEmail("an email address has at most 254 characters")
    from email_validator import EmailNotValidError, validate_email  # compiles its regexes: load on first use

    try:
        result = validate_email(text, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as error:
        raise InvalidEmail("not a valid email address") from error
    address = result.normalized
    return EmailAddress(address=address, key=address.casefold())
