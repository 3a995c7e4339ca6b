"""An import's report: status, counts (finished chunks and running ones' checkpoints), first errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from leadflow.domain.imports.progress import ERRORS_REPORTED, Counts, ImportRecord
from leadflow.errors import NotFound
from leadflow.store import imports as imports_store


@dataclass(frozen=True, slots=True)
class ImportReport:
    record: ImportRecord
    counts: Counts
    errors: list[dict[str, Any]] = field(default_factory=list)
    errors_total: int = 0


def report(import_id: str) -> ImportReport:
    record = imports_store.get_import(import_id)
    if record is None:
        raise NotFound(f"no import {import_id!r}")
    counts = Counts()
    errors: list[dict[str, Any]] = []
    total = 0
    for chunk in imports_store.chunk_reports(import_id):
        counts.add(chunk.counts)
        errors += chunk.errors
        total += len(chunk.errors) + chunk.errors_dropped
    errors.sort(key=lambda item: (int(item.get("row") or 0), str(item.get("column") or "")))
    return ImportReport(record=record, counts=counts, errors=errors[:ERRORS_REPORTED], errors_total=total)
