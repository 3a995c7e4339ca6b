"""Domain errors. Each carries the API error code it maps to, so the HTTP layer maps them once."""

from __future__ import annotations

from typing import Any


class LeadflowError(Exception):
    """Base of every error a client can cause; ``code`` is the API error code."""

    code = "internal"
    status = 500

    def __init__(
        self, message: str, fields: dict[str, str] | None = None, *, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        #: more members of the error object, beside code, message and fields (such as ``removals``)
        self.details = details or {}


class ValidationFailed(LeadflowError):
    code = "validation_failed"
    status = 422

    @classmethod
    def for_fields(cls, fields: dict[str, str]) -> ValidationFailed:
        count = len(fields)
        noun = "field is" if count == 1 else "fields are"
        return cls(f"{count} {noun} invalid", fields)


class NotFound(LeadflowError):
    code = "not_found"
    status = 404


class UnsupportedMediaType(LeadflowError):
    code = "unsupported_media_type"
    status = 415


class PayloadTooLarge(LeadflowError):
    code = "payload_too_large"
    status = 413


class Unauthorized(LeadflowError):
    code = "unauthorized"
    status = 401


class Forbidden(LeadflowError):
    code = "forbidden"
    status = 403


class Conflict(LeadflowError):
    code = "conflict"
    status = 409


class TemporarilyUnavailable(LeadflowError):
    """A dependency failed in a way a retry can fix (throttling, a cancelled transaction)."""

    code = "temporarily_unavailable"
    status = 503
