"""CORS replies for public routes whose allowed origins come from the definitions (per form,
per site), so the functions answer them rather than the HTTP API's static configuration."""

from __future__ import annotations

PREFLIGHT_MAX_AGE = "600"


def allow_origin(origin: str | None) -> dict[str, str]:
    """Headers that let an allowed browser origin read the reply."""
    if not origin:
        return {}
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


def preflight(origin: str | None, *, allowed_headers: str) -> dict[str, str]:
    """The 204 answer's headers to an allowed origin's preflight for a POST route."""
    return {
        **allow_origin(origin),
        "Access-Control-Allow-Methods": "POST, OPTIONS",
        "Access-Control-Allow-Headers": allowed_headers,
        "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
    }
