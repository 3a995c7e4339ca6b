"""Amazon Pinpoint endpoint exports: accepted like CSV files, planned by person, imported by chunk.

Planning reads every line once and groups the endpoints by ``User.UserId`` (an endpoint without
a user is a person of its own), since one user's endpoints may be anywhere in the export; it
writes the people, in order of their first line, to a file of their own whose byte ranges are
the chunks. A line that is not an endpoint becomes that file's error entry: reported with its
line number, never fatal. ``?list=`` puts every imported person in a static list.
"""

from __future__ import annotations

import json
from typing import Any

from leadflow import clock
from leadflow.adapters import activity_queue, import_files, import_queue
from leadflow.adapters.import_queue import ImportMessage
from leadflow.domain.imports import pinpoint
from leadflow.domain.imports.csv_file import lines_of
from leadflow.domain.imports.people import ImportedPerson
from leadflow.domain.imports.progress import ERRORS_KEPT_PER_CHUNK, ChunkProgress, ImportRecord
from leadflow.domain.imports.rows import RowError
from leadflow.errors import Conflict, NotFound, ValidationFailed
from leadflow.observability import logger, metrics
from leadflow.services import definitions
from leadflow.services.imports import accept, people
from leadflow.store import contacts as contacts_store
from leadflow.store import imports as imports_store

KIND = "pinpoint"
PEOPLE_PER_CHUNK = 500
CHECKPOINT_PEOPLE = 100
MAX_LINES = 2_000_000


def import_list(list_id: str | None) -> str | None:
    """The static list the imported people join: 404 unknown, 409 a segment (its members are a condition's)."""
    if list_id is None:
        return None
    found = definitions.active().bundle.list(list_id)
    if found is None:
        raise NotFound(f"no list {list_id!r}")
    if not found.is_static:
        raise Conflict(f"{list_id} is a segment: its members are whoever matches its condition")
    return list_id


def accept_file(list_id: str | None, data: bytes, content_encoding: str | None) -> accept.Accepted:
    import hashlib

    target = import_list(list_id)
    content = accept.decoded_body(data, content_encoding)
    if not content.strip():
        raise ValidationFailed.for_fields({"body": "the export is empty; expected one endpoint per line"})
    return accept.record_and_queue(
        kind=KIND,
        target=target,
        sha256=hashlib.sha256(content).hexdigest(),
        object_key=None,
        data=content,
        now=clock.now(),
    )


def offer_upload(list_id: str | None) -> accept.UploadOffer:
    return accept.offer_upload(KIND, import_list(list_id))


def start_upload(upload: accept.UploadedFile) -> accept.Accepted:
    target = import_list(upload.upload.target)
    if not upload.head.strip():
        raise ValidationFailed.for_fields({"body": "the export is empty; expected one endpoint per line"})
    return accept.record_and_queue(
        kind=KIND,
        target=target,
        sha256=upload.sha256,
        object_key=upload.upload.object_key,
        data=None,
        now=clock.now(),
    )


# ---------------------------------------------------------------- planning


def _people_key(record: ImportRecord) -> str:
    return f"imports/{record.import_id}/people.jsonl"


def plan(record: ImportRecord) -> None:
    groups: dict[str, list[Any]] = {}
    entries: list[tuple[int, dict[str, Any]]] = []
    count = 0
    for number, raw in enumerate(import_files.lines(record.object_key), start=1):
        count = number
        if number > MAX_LINES:
            imports_store.fail_import(
                record.import_id, f"the export has more than {MAX_LINES} lines", clock.now()
            )
            return
        parsed = pinpoint.parse_line(number, raw)
        if parsed is None:
            continue
        if parsed.endpoint is None:
            entries.append((number, {"key": number, "error": parsed.error, "column": parsed.column}))
            continue
        key = pinpoint.person_key(parsed)
        group = groups.get(key)
        if group is None:
            group = groups[key] = []
            entries.append((number, {"key": number, "endpoints": group}))
        group.append([number, parsed.endpoint.model_dump(exclude_none=True)])
    entries.sort(key=lambda item: item[0])
    body = bytearray()
    messages: list[ImportMessage] = []
    start, first, in_chunk = 0, 0, 0
    for index, (_, entry) in enumerate(entries):
        if in_chunk == 0:
            start, first = len(body), entry["key"]
        body += json.dumps(entry, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
        in_chunk += 1
        if in_chunk == PEOPLE_PER_CHUNK or index == len(entries) - 1:
            messages.append(
                ImportMessage(
                    import_id=record.import_id,
                    step="chunk",
                    chunk=len(messages),
                    start=start,
                    end=len(body),
                    first_row=first,
                    rows=in_chunk,
                )
            )
            in_chunk = 0
    import_files.put(_people_key(record), bytes(body), "application/x-ndjson")
    imports_store.set_plan(record.import_id, chunks=len(messages), rows=count, now=clock.now())
    import_queue.send_many(messages)


# ---------------------------------------------------------------- one chunk of people


def import_chunk(record: ImportRecord, message: ImportMessage) -> None:
    progress, fresh = imports_store.start_chunk(record.import_id, message.chunk, message.first_row)
    if progress.state == "done":
        return
    context = people.ImportContext(
        import_id=record.import_id,
        source="pinpoint",
        at=clock.parse_iso(record.created_at),
        list_id=record.target,
        resuming=not fresh,
    )
    batch: list[dict[str, Any]] = []
    for raw in lines_of(import_files.read_range(_people_key(record), message.start, message.end)):
        entry = json.loads(raw)
        if entry["key"] <= progress.done_through:
            continue
        batch.append(entry)
        if len(batch) >= CHECKPOINT_PEOPLE:
            _import_entries(record, context, batch, progress)
            batch = []
    _import_entries(record, context, batch, progress)
    imports_store.finish_chunk(record.import_id, progress, clock.now())
    metrics.add_metric(name="ImportRows", unit="Count", value=progress.counts.rows)


def _keep(progress: ChunkProgress, errors: list[RowError]) -> None:
    for error in errors:
        if len(progress.errors) < ERRORS_KEPT_PER_CHUNK:
            progress.errors.append(error.as_json())
        else:
            progress.errors_dropped += 1


def _import_entries(
    record: ImportRecord,
    context: people.ImportContext,
    entries: list[dict[str, Any]],
    progress: ChunkProgress,
) -> None:
    """Up to CHECKPOINT_PEOPLE people: mapped, their addresses read in one batch, each imported
    in file order; then the checkpoint."""
    mapped = {entry["key"]: person for entry in entries if (person := _person(entry, progress)) is not None}
    known = people.known_addresses(list(mapped.values())) if mapped else {}
    pending: list[Any] = []
    for entry in entries:
        person = mapped.get(entry["key"])
        if person is not None:
            upserted = _upsert(context, person, progress, known.get(person.email.key))
            if upserted is not None and upserted.activity is not None:
                pending.append(upserted.activity)
        progress.done_through = entry["key"]
    _flush(record, progress, pending)


def _person(entry: dict[str, Any], progress: ChunkProgress) -> ImportedPerson | None:
    """The person a user's endpoints describe, or None once the entry is counted and reported."""
    counts = progress.counts
    if "error" in entry:
        counts.rows += 1
        counts.errors += 1
        _keep(progress, [RowError(entry["key"], entry.get("column"), entry["error"])])
        return None
    endpoints = [(line, pinpoint.Endpoint.model_validate(data)) for line, data in entry["endpoints"]]
    counts.rows += len(endpoints)
    mapped = pinpoint.map_person(endpoints)
    counts.skipped += mapped.skipped
    counts.warnings += len(mapped.warnings)
    counts.errors += len(mapped.errors)
    _keep(progress, mapped.errors + [replace_warning(item) for item in mapped.warnings])
    return mapped.person


def _upsert(
    context: people.ImportContext,
    person: ImportedPerson,
    progress: ChunkProgress,
    known: contacts_store.AddressState | None,
) -> people.Upserted | None:
    counts = progress.counts
    try:
        upserted = people.upsert(context, person, known)
    except people.ErasedAddress as erased:
        counts.errors += 1
        _keep(progress, [RowError(person.key, "Address", erased.reason)])
        return None
    if upserted.outcome == "created":
        counts.created += 1
    elif upserted.outcome == "updated":
        counts.updated += 1
    else:
        counts.unchanged += 1
    if upserted.joined_list:
        counts.members_added += 1
    elif context.list_id:
        counts.members_unchanged += 1
    return upserted


def replace_warning(error: RowError) -> RowError:
    return RowError(error.row, error.column, error.reason, warning=True)


def _flush(record: ImportRecord, progress: ChunkProgress, pending: list[Any]) -> None:
    if pending:
        try:
            activity_queue.send_many(pending)
        except Exception:
            logger.exception("import activities not enqueued; left pending for the outbox sweep")
    imports_store.checkpoint_chunk(record.import_id, progress)
