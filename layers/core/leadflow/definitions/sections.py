"""The sections of a bundle, by name: shared by the model, its checks, the loader and the diff."""

from __future__ import annotations

LIST_SECTIONS: tuple[str, ...] = (
    "campaigns",
    "forms",
    "lists",
    "flows",
    "email_templates",
    "sync_rules",
    "sites",
    "connectors",
)
"""The sections that are lists of items with ids, in document order."""

SECTIONS: tuple[str, ...] = ("campaigns", "forms", "scoring", *LIST_SECTIONS[2:])
"""Every section, in document order."""
