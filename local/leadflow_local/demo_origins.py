"""The local origins of a bundle applied at start follow the port the stack serves on.

examples/demo.yaml allows this machine's demo page as ``http://127.0.0.1:3000`` and
``http://localhost:3000``, the default port. Started on another one (``make dev PORT=8080``), the
demo page's forms and snippet post from ``http://127.0.0.1:8080`` and would get 403. So wherever
a form or site allows this machine on the default port, the stack also allows the port it serves
on. Origins are added, never replaced: a site's own dev server may well be the one on port 3000.
"""

from __future__ import annotations

import copy
from typing import Any

DEFAULT_PORT = 3000
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")
_SECTIONS = ("forms", "sites")


def served_origins(host: str, port: int) -> list[str]:
    """The origins a browser on this machine uses for the stack (``0.0.0.0`` is not one)."""
    hosts = [*LOOPBACK_HOSTS]
    if host not in hosts and host not in ("0.0.0.0", "::", ""):
        hosts.append(host)
    return [f"http://{name}:{port}" for name in hosts]


def follow_port(document: dict[str, Any], host: str, port: int) -> tuple[dict[str, Any], list[str]]:
    """A copy of ``document`` whose default-port local origins also name the served port.

    Returns the copy and where origins were added (``forms[contact-us]``, ``sites[demo]``); an
    empty list and the document itself when nothing needed to change.
    """
    if port == DEFAULT_PORT:
        return document, []
    defaults = {f"http://{name}:{DEFAULT_PORT}" for name in LOOPBACK_HOSTS}
    added = served_origins(host, port)
    result = copy.deepcopy(document)
    changed: list[str] = []
    for section in _SECTIONS:
        items = result.get(section)
        if not isinstance(items, list):
            continue
        for index, item in enumerate(items):
            origins = item.get("allowed_origins") if isinstance(item, dict) else None
            if not isinstance(origins, list):
                continue
            named = {str(origin).lower().rstrip("/") for origin in origins}
            if not named & defaults:
                continue
            missing = [origin for origin in added if origin not in named]
            if missing:
                origins.extend(missing)
                changed.append(f"{section}[{item.get('id', index)}]")
    return (result, changed) if changed else (document, [])
