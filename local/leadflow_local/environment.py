"""The process environment the handlers see: the template's variables plus the embedded AWS.

Every function runs in this one process, so they share ``os.environ``. Their variables are
merged, and two functions giving one variable different values is an error at start rather
than a handler silently reading the other function's value.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping

from leadflow_local.errors import TemplateError
from leadflow_local.template import FunctionSpec

# Service-specific endpoint variables from the developer's shell would win over
# AWS_ENDPOINT_URL and send a handler to real AWS: they are hidden while the stack runs.
_SHADOWING_PREFIXES = ("AWS_ENDPOINT_URL_",)
_SHADOWING_NAMES = ("AWS_PROFILE", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_CONFIG_FILE")


def merge_function_environments(functions: Iterable[FunctionSpec]) -> dict[str, str]:
    """One environment for all functions; conflicting values fail loudly with every conflict."""
    merged: dict[str, str] = {}
    owner: dict[str, str] = {}
    conflicts: list[str] = []
    for spec in functions:
        for name, value in spec.environment.items():
            if name in merged and merged[name] != value:
                conflicts.append(
                    f"{name}: {owner[name]} sets {merged[name]!r}, {spec.logical_id} sets {value!r}"
                )
                continue
            merged.setdefault(name, value)
            owner.setdefault(name, spec.logical_id)
    if conflicts:
        raise TemplateError(
            "functions give one environment variable different values, but the local stack runs them "
            "in one process with one environment; use one value or distinct names:\n  "
            + "\n  ".join(conflicts)
        )
    return merged


def localize_api_urls(
    values: Mapping[str, str], api_ids: Iterable[str], region: str, api_url: str
) -> dict[str, str]:
    """``https://<api>.execute-api.<region>.amazonaws.com`` (the template's usual !Sub) -> the local URL."""
    result = dict(values)
    for api_id in api_ids:
        remote = f"https://{api_id}.execute-api.{region}.amazonaws.com"
        result = {name: value.replace(remote, api_url) for name, value in result.items()}
    return result


def aws_environment(endpoint: str, region: str) -> dict[str, str]:
    """What points boto3 at moto; the handlers' own code never learns it is local."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_SESSION_TOKEN": "local",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
    }


def install_environment(values: Mapping[str, str]) -> Callable[[], None]:
    """Set ``values`` (hiding shadowing variables) and return a function that restores the old state."""
    shadowing = [
        name for name in os.environ if name.startswith(_SHADOWING_PREFIXES) or name in _SHADOWING_NAMES
    ]
    touched = set(values) | set(shadowing)
    saved = {name: os.environ.get(name) for name in touched}
    for name in shadowing:
        os.environ.pop(name, None)
    os.environ.update(values)

    def restore() -> None:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    return restore
