"""CSV imports into a CRM campaign: accepting the file, planning its chunks, importing each chunk.

Each row creates or updates its contact (``people.upsert``: capture's dedupe and merge, never an
MA campaign), then adds or moves its membership through the CRM membership service, forward
only, with the row's status or the campaign's default, under a change id made of the import and
the row: a retried row changes nothing. Progress is checkpointed every CHECKPOINT_ROWS rows, so
an interrupted chunk resumes after its last checkpoint, checking the rows in between by their
claims.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from leadflow import clock
from leadflow.adapters import activity_queue, import_files, import_queue
from leadflow.adapters.import_queue import ImportMessage
from leadflow.domain.imports import csv_file
from leadflow.domain.imports.people import ImportedPerson
from leadflow.domain.imports.progress import ERRORS_KEPT_PER_CHUNK, ChunkProgress, Counts, ImportRecord
from leadflow.domain.imports.rows import CleanRow, RowError, clean_row, importable_fields
from leadflow.errors import Conflict, NotFound, ValidationFailed
from leadflow.observability import logger, metrics
from leadflow.services import definitions
from leadflow.services.imports import accept, people
from leadflow.store import contacts as contacts_store
from leadflow.store import imports as imports_store

if TYPE_CHECKING:
    from leadflow.definitions import Bundle, Campaign
    from leadflow.domain.activities import Activity

ROWS_PER_CHUNK = 500
CHECKPOINT_ROWS = 100
MAX_ROWS = 1_000_000
KIND = "csv"


def import_campaign(bundle: Bundle, campaign_id: str) -> Campaign:
    """The CRM campaign an import may fill: 404 unknown, 409 an MA campaign or a closed one."""
    campaign = bundle.campaign(campaign_id)
    if campaign is None:
        raise NotFound(f"no campaign {campaign_id!r}")
    if not campaign.is_crm:
        raise Conflict(f"{campaign_id} is an MA campaign: people join it by behaviour, never by an import")
    if str(campaign.status) in ("completed", "aborted"):
        raise Conflict(f"{campaign_id} is {campaign.status}: it takes no new members")
    return campaign


def _header(bundle: Bundle, head: bytes) -> csv_file.Header:
    try:
        return csv_file.read_header(head[: csv_file.MAX_HEADER_BYTES], importable_fields(bundle))
    except csv_file.HeaderError as error:
        raise ValidationFailed(f"the CSV header cannot be imported: {error}", error.problems) from None


def accept_file(campaign_id: str, data: bytes, content_encoding: str | None) -> accept.Accepted:
    import hashlib

    bundle = definitions.active().bundle
    import_campaign(bundle, campaign_id)
    content = accept.decoded_body(data, content_encoding)
    _header(bundle, content)
    return accept.record_and_queue(
        kind=KIND,
        target=campaign_id,
        sha256=hashlib.sha256(content).hexdigest(),
        object_key=None,
        data=content,
        now=clock.now(),
    )


def offer_upload(campaign_id: str) -> accept.UploadOffer:
    import_campaign(definitions.active().bundle, campaign_id)
    return accept.offer_upload(KIND, campaign_id)


def start_upload(upload: accept.UploadedFile) -> accept.Accepted:
    bundle = definitions.active().bundle
    campaign_id = upload.upload.target or ""
    import_campaign(bundle, campaign_id)
    if import_files.read_range(upload.upload.object_key, 0, 2) == import_files.GZIP_MAGIC:
        raise ValidationFailed.for_fields({"body": "upload the CSV uncompressed (gzip is for direct posts)"})
    _header(bundle, upload.head)
    return accept.record_and_queue(
        kind=KIND,
        target=campaign_id,
        sha256=upload.sha256,
        object_key=upload.upload.object_key,
        data=None,
        now=clock.now(),
    )


# ---------------------------------------------------------------- the worker's steps


def plan(record: ImportRecord) -> None:
    """Reads the file once: its chunks and in-file duplicates; then queues one message per chunk."""
    bundle = definitions.active().bundle
    try:
        import_campaign(bundle, record.target or "")
        header = csv_file.read_header(
            import_files.read_range(record.object_key, 0, csv_file.MAX_HEADER_BYTES),
            importable_fields(bundle),
        )
        the_plan = csv_file.plan(
            import_files.lines(record.object_key), header, rows_per_chunk=ROWS_PER_CHUNK, max_rows=MAX_ROWS
        )
    except (NotFound, Conflict, csv_file.HeaderError, ValueError) as refused:
        imports_store.fail_import(record.import_id, str(refused), clock.now())
        logger.info("import failed at planning", extra={"import_id": record.import_id})
        return
    imports_store.set_plan(record.import_id, chunks=len(the_plan.chunks), rows=the_plan.rows, now=clock.now())
    import_queue.send_many(
        [
            ImportMessage(
                import_id=record.import_id,
                step="chunk",
                chunk=chunk.index,
                start=chunk.start,
                end=chunk.end,
                first_row=chunk.first_row,
                rows=chunk.rows,
                duplicates=chunk.duplicates,
            )
            for chunk in the_plan.chunks
        ]
    )


@dataclass(slots=True)
class _Chunk:
    """One chunk's run: its progress so far and the activities written but not yet enqueued."""

    record: ImportRecord
    message: ImportMessage
    progress: ChunkProgress
    context: people.ImportContext
    pending: list[Activity]

    def error(self, errors: list[RowError]) -> None:
        self.progress.counts.errors += 1
        for error in errors:
            if len(self.progress.errors) < ERRORS_KEPT_PER_CHUNK:
                self.progress.errors.append(error.as_json())
            else:
                self.progress.errors_dropped += 1

    def flush(self) -> None:
        """Enqueues the written activities, then saves the progress (the outbox sweep covers a failed send)."""
        if self.pending:
            try:
                activity_queue.send_many(self.pending)
            except Exception:
                logger.exception("import activities not enqueued; left pending for the outbox sweep")
            self.pending = []
        imports_store.checkpoint_chunk(self.record.import_id, self.progress)


def import_chunk(record: ImportRecord, message: ImportMessage) -> None:
    progress, fresh = imports_store.start_chunk(record.import_id, message.chunk, message.first_row)
    if progress.state == "done":
        return
    bundle = definitions.active().bundle
    campaign = bundle.campaign(record.target or "")
    header = csv_file.read_header(
        import_files.read_range(record.object_key, 0, csv_file.MAX_HEADER_BYTES), importable_fields(bundle)
    )
    run = _Chunk(
        record=record,
        message=message,
        progress=progress,
        context=people.ImportContext(
            import_id=record.import_id,
            source="csv",
            at=clock.parse_iso(record.created_at),
            campaign_id=record.target,
            resuming=not fresh,
        ),
        pending=[],
    )
    specs = importable_fields(bundle)
    data = import_files.read_range(record.object_key, message.start, message.end)
    batch: list[csv_file.Record] = []
    for row in csv_file.records(csv_file.lines_of(data), offset=message.start, first_row=message.first_row):
        if row.row <= progress.done_through:
            continue
        batch.append(row)
        if len(batch) >= CHECKPOINT_ROWS:
            _import_rows(run, batch, header, campaign, specs)
            batch = []
    _import_rows(run, batch, header, campaign, specs)
    imports_store.finish_chunk(record.import_id, progress, clock.now())
    metrics.add_metric(name="ImportRows", unit="Count", value=progress.counts.rows)


def _import_rows(
    run: _Chunk,
    rows: list[csv_file.Record],
    header: csv_file.Header,
    campaign: Campaign | None,
    specs: dict,
) -> None:
    """Up to CHECKPOINT_ROWS rows: cleaned, their addresses read in one batch, each imported in
    file order; then the checkpoint."""
    cleaned = {row.row: clean for row in rows if (clean := _clean(run, row, header, campaign, specs))}
    people_of = {
        number: ImportedPerson(key=clean.row, email=clean.email, fields=clean.fields)
        for number, clean in cleaned.items()
    }
    known = people.known_addresses(list(people_of.values())) if people_of else {}
    for row in rows:
        if row.row in cleaned and campaign is not None:
            person = people_of[row.row]
            _import_person(run, person, cleaned[row.row], campaign, known.get(person.email.key))
        run.progress.done_through = row.row
    run.flush()


def _clean(
    run: _Chunk, row: csv_file.Record, header: csv_file.Header, campaign: Campaign | None, specs: dict
) -> CleanRow | None:
    """The row checked and cleaned, or None once it is counted as blank or as an error."""
    counts = run.progress.counts
    if row.blank:
        counts.blank += 1
        return None
    counts.rows += 1
    if campaign is None:
        run.error([RowError(row.row, None, f"the campaign {run.record.target} no longer exists")])
        return None
    if row.row in run.message.duplicates:
        first = run.message.duplicates[row.row]
        run.error([RowError(row.row, "email", f"the same email as row {first}, which is the one imported")])
        return None
    cleaned = clean_row(row, header, campaign, specs)
    if not isinstance(cleaned, CleanRow):
        run.error(cleaned)
        return None
    return cleaned


def _import_person(
    run: _Chunk,
    person: ImportedPerson,
    row: CleanRow,
    campaign: Campaign,
    known: contacts_store.AddressState | None,
) -> None:
    try:
        upserted = people.upsert(run.context, person, known)
    except people.ErasedAddress as erased:
        run.error([RowError(row.row, "email", erased.reason)])
        return
    _count_contact(run.progress.counts, upserted.outcome)
    if upserted.activity is not None:
        run.pending.append(upserted.activity)
    membership_error = _join(run, campaign, upserted, row)
    if membership_error is not None:
        run.error([membership_error])


def _count_contact(counts: Counts, outcome: str) -> None:
    if outcome == "created":
        counts.created += 1
    elif outcome == "updated":
        counts.updated += 1
    else:
        counts.unchanged += 1


def _join(run: _Chunk, campaign: Campaign, upserted: people.Upserted, row: CleanRow) -> RowError | None:
    """The row's membership, forward only; a refusal is the row's error (the contact stays imported)."""
    from leadflow.services import crm_members

    try:
        result = crm_members.change_membership(
            campaign.id,
            upserted.contact_id,
            row.status,
            source="import",
            mode="forward",
            change_id=f"{run.record.import_id}:{row.row}",
            known_contact=upserted.contact,
        )
    except ValidationFailed as unknown:  # a status the campaign lacks (changed since the row was read)
        return RowError(row.row, "status", unknown.fields.get("status", unknown.message))
    except (Conflict, NotFound) as refused:  # the campaign closed, or is no longer a CRM campaign
        return RowError(row.row, "status", refused.message)
    counts = run.progress.counts
    change = result.change
    if change is None:
        counts.members_unchanged += 1
    elif str(change.kind) == "added":
        counts.members_added += 1
    else:
        counts.members_changed += 1
    return None
