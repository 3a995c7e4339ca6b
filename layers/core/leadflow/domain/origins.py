"""Which browser origins may post: shared by form capture and website tracking."""

from __future__ import annotations

from collections.abc import Iterable


def origin_allowed(allowed: Iterable[str], origin: str | None) -> bool:
    """Server-to-server posts carry no Origin; a browser's must match the site's ``allowed_origins``.

    Entries are exact origins, ``*``, or ``https://*.example.com`` (any subdomain, not the apex).
    """
    if origin is None:
        return True
    value = origin.strip().lower().removesuffix("/")
    for item in allowed:
        if item in ("*", value):
            return True
        scheme, separator, domain = item.partition("://*.")
        if separator and value.startswith(f"{scheme}://"):
            host = value.removeprefix(f"{scheme}://")
            if host.endswith(f".{domain}") and len(host) > len(domain) + 1:
                return True
    return False
