"""Powertools routers, one module per function's routes, so OpenAPI can be built from them all."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router


def all_routers() -> list[Router]:
    """Every public and admin router (imported lazily: only the OpenAPI route needs them all)."""
    from leadflow.api.routes import admin, capture, preferences, privacy, reports, tracking

    return [capture.router, tracking.router, preferences.router, admin.router, privacy.router, reports.router]
