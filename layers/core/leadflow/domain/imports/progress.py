"""An import's counts, and how chunks add up to the whole."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

#: Per-row errors kept per chunk; the rest are counted. The import's report shows the first ones.
ERRORS_KEPT_PER_CHUNK = 25
ERRORS_REPORTED = 100


@dataclass(slots=True)
class Counts:
    """What a chunk (or the whole import) did, row by row."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    members_added: int = 0
    members_changed: int = 0
    members_unchanged: int = 0
    errors: int = 0
    blank: int = 0
    skipped: int = 0
    """Pinpoint endpoints of channels Leadflow does not keep (push, custom, in-app)."""
    warnings: int = 0

    def add(self, other: Counts) -> None:
        for item in fields(self):
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))

    def as_json(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Counts:
        known = {item.name for item in fields(cls)}
        return cls(**{key: int(value) for key, value in (data or {}).items() if key in known})


@dataclass(slots=True)
class ImportRecord:
    """An import as stored: what it imports into, its file, and how far it got."""

    import_id: str
    kind: str
    """``csv`` (into a CRM campaign) or ``pinpoint`` (endpoints, optionally into a static list)."""
    target: str | None
    object_key: str
    sha256: str
    created_at: str
    """Also the time of every activity the import records, so a row's activity key is stable."""
    status: str = "running"
    planned: bool = False
    chunks_total: int = 0
    chunks_done: int = 0
    rows_total: int | None = None
    counts: Counts | None = None
    finished_at: str | None = None
    failure: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in ("completed", "failed")


@dataclass(slots=True)
class ChunkProgress:
    """One chunk's progress: rows before ``done_through`` (inclusive) are imported and counted."""

    chunk: int
    state: str
    done_through: int
    counts: Counts
    errors: list[dict[str, Any]]
    errors_dropped: int = 0
