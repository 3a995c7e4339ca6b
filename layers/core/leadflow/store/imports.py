"""Import records, chunk progress and upload sessions, on the Campaigns table.

Layout (pk / sk):
- ``IMPORT#<id>`` / ``META``            the import: kind, target, file, status, chunk counts, summed counts
- ``IMPORT#<id>`` / ``CHUNK#<n>``       one chunk's progress: last row done, its counts, its first errors
- ``UPLOAD#<id>`` / ``META``            an upload URL handed out, until its file is started (2-day TTL)

A chunk's counts are added to the import's once, in the transaction that marks the chunk done
(conditional on it still running), so a redelivered chunk never counts twice. Rows themselves
are claimed on the Contacts table by their activity (``store.contacts.put_activity``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from leadflow import clock
from leadflow.domain.imports.progress import ChunkProgress, Counts, ImportRecord
from leadflow.settings import get_settings
from leadflow.store import dynamo

META = "META"
UPLOAD_TTL = timedelta(days=2)


def _table() -> str:
    return get_settings().campaigns_table


def _import_key(import_id: str, sk: str = META) -> dict[str, Any]:
    return dynamo.serialize({"pk": f"IMPORT#{import_id}", "sk": sk})


def _chunk_sk(chunk: int) -> str:
    return f"CHUNK#{chunk:05d}"


# ---------------------------------------------------------------- import records


def create_import(record: ImportRecord) -> bool:
    """Stores a new import; False when one with this id (the same file into the same target) exists."""
    item = {
        "pk": f"IMPORT#{record.import_id}",
        "sk": META,
        "import_id": record.import_id,
        "kind": record.kind,
        "target": record.target,
        "object_key": record.object_key,
        "sha256": record.sha256,
        "created_at": record.created_at,
        "status": record.status,
        "planned": False,
        "chunks_total": 0,
        "chunks_done": 0,
        "counts": Counts().as_json(),
    }
    try:
        dynamo.client().put_item(
            TableName=_table(), Item=dynamo.serialize(item), ConditionExpression="attribute_not_exists(pk)"
        )
    except ClientError as error:
        if dynamo.is_condition_failure(error):
            return False
        raise
    return True


def get_import(import_id: str) -> ImportRecord | None:
    item = (
        dynamo.client()
        .get_item(TableName=_table(), Key=_import_key(import_id), ConsistentRead=True)
        .get("Item")
    )
    if not item:
        return None
    data = dynamo.deserialize(item)
    return ImportRecord(
        import_id=data["import_id"],
        kind=data["kind"],
        target=data.get("target"),
        object_key=data["object_key"],
        sha256=data["sha256"],
        created_at=data["created_at"],
        status=data["status"],
        planned=bool(data.get("planned")),
        chunks_total=int(data.get("chunks_total", 0)),
        chunks_done=int(data.get("chunks_done", 0)),
        rows_total=data.get("rows_total"),
        counts=Counts.from_json(data.get("counts")),
        finished_at=data.get("finished_at"),
        failure=data.get("failure"),
    )


def set_plan(import_id: str, *, chunks: int, rows: int, now: datetime) -> None:
    """Records the plan (idempotent: a replanned file gives the same chunks); no chunks is done at once."""
    values: dict[str, Any] = {":true": True, ":chunks": chunks, ":rows": rows}
    expression = "SET planned = :true, chunks_total = :chunks, rows_total = :rows"
    if chunks == 0:
        expression += ", #status = :completed, finished_at = if_not_exists(finished_at, :now)"
        values.update({":completed": "completed", ":now": clock.iso(now)})
    dynamo.client().update_item(
        TableName=_table(),
        Key=_import_key(import_id),
        UpdateExpression=expression,
        ExpressionAttributeValues=dynamo.serialize_values(values),
        **({"ExpressionAttributeNames": {"#status": "status"}} if chunks == 0 else {}),
    )


def fail_import(import_id: str, reason: str, now: datetime) -> None:
    dynamo.client().update_item(
        TableName=_table(),
        Key=_import_key(import_id),
        UpdateExpression="SET #status = :failed, failure = :reason, finished_at = :now",
        ConditionExpression="#status = :running",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues=dynamo.serialize_values(
            {":failed": "failed", ":reason": reason[:500], ":now": clock.iso(now), ":running": "running"}
        ),
    )


# ---------------------------------------------------------------- chunks


def start_chunk(import_id: str, chunk: int, first_row: int) -> tuple[ChunkProgress, bool]:
    """The chunk's progress and whether it is fresh; else the one an interrupted (or finished) run left."""
    fresh = ChunkProgress(
        chunk=chunk, state="running", done_through=first_row - 1, counts=Counts(), errors=[]
    )
    try:
        dynamo.client().put_item(
            TableName=_table(),
            Item=dynamo.serialize({**_chunk_item(import_id, fresh)}),
            ConditionExpression="attribute_not_exists(pk)",
        )
    except ClientError as error:
        if not dynamo.is_condition_failure(error):
            raise
        item = dynamo.client().get_item(
            TableName=_table(), Key=_import_key(import_id, _chunk_sk(chunk)), ConsistentRead=True
        )["Item"]
        return _chunk_from(dynamo.deserialize(item)), False
    return fresh, True


def _chunk_item(import_id: str, progress: ChunkProgress) -> dict[str, Any]:
    return {
        "pk": f"IMPORT#{import_id}",
        "sk": _chunk_sk(progress.chunk),
        "chunk": progress.chunk,
        "state": progress.state,
        "done_through": progress.done_through,
        "counts": progress.counts.as_json(),
        "errors": progress.errors,
        "errors_dropped": progress.errors_dropped,
    }


def _chunk_from(item: dict[str, Any]) -> ChunkProgress:
    return ChunkProgress(
        chunk=int(item["chunk"]),
        state=item["state"],
        done_through=int(item["done_through"]),
        counts=Counts.from_json(item.get("counts")),
        errors=list(item.get("errors") or []),
        errors_dropped=int(item.get("errors_dropped", 0)),
    )


def checkpoint_chunk(import_id: str, progress: ChunkProgress) -> None:
    """Saves how far a running chunk got, so a retry resumes after ``done_through``."""
    dynamo.client().put_item(
        TableName=_table(),
        Item=dynamo.serialize(_chunk_item(import_id, progress)),
        ConditionExpression="#state = :running",
        ExpressionAttributeNames={"#state": "state"},
        ExpressionAttributeValues=dynamo.serialize_values({":running": "running"}),
    )


def finish_chunk(import_id: str, progress: ChunkProgress, now: datetime) -> bool:
    """Marks the chunk done and adds its counts to the import's, once; then completes the import
    if it was the last chunk. False when the chunk was finished before (a redelivery)."""
    done = ChunkProgress(
        chunk=progress.chunk,
        state="done",
        done_through=progress.done_through,
        counts=progress.counts,
        errors=progress.errors,
        errors_dropped=progress.errors_dropped,
    )
    counts = progress.counts.as_json()
    names = {f"#k{index}": name for index, name in enumerate(counts)}
    values: dict[str, Any] = {f":k{index}": value for index, value in enumerate(counts.values())}
    values[":one"] = 1
    additions = ", ".join(f"counts.#k{index} :k{index}" for index in range(len(counts)))
    try:
        dynamo.transact_write(
            [
                {
                    "Put": {
                        "TableName": _table(),
                        "Item": dynamo.serialize(_chunk_item(import_id, done)),
                        "ConditionExpression": "#state = :running",
                        "ExpressionAttributeNames": {"#state": "state"},
                        "ExpressionAttributeValues": dynamo.serialize_values({":running": "running"}),
                    }
                },
                {
                    "Update": {
                        "TableName": _table(),
                        "Key": _import_key(import_id),
                        "UpdateExpression": f"ADD chunks_done :one, {additions}",
                        "ExpressionAttributeNames": names,
                        "ExpressionAttributeValues": dynamo.serialize_values(values),
                    }
                },
            ]
        )
    except dynamo.TransactionCancelled as cancelled:
        if cancelled.failed_at(0):
            return False
        raise
    try:
        dynamo.client().update_item(
            TableName=_table(),
            Key=_import_key(import_id),
            UpdateExpression="SET #status = :completed, finished_at = :now",
            ConditionExpression="planned = :true AND chunks_done >= chunks_total AND #status = :running",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=dynamo.serialize_values(
                {":completed": "completed", ":now": clock.iso(now), ":true": True, ":running": "running"}
            ),
        )
    except ClientError as error:
        if not dynamo.is_condition_failure(error):
            raise
    return True


def chunk_reports(import_id: str) -> list[ChunkProgress]:
    """Every chunk's progress, in order (one query; a 100,000-row file has a few hundred chunks)."""
    rows: list[ChunkProgress] = []
    kwargs: dict[str, Any] = {
        "TableName": _table(),
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :chunk)",
        "ExpressionAttributeValues": dynamo.serialize_values(
            {":pk": f"IMPORT#{import_id}", ":chunk": "CHUNK#"}
        ),
    }
    while True:
        response = dynamo.client().query(**kwargs)
        rows += [_chunk_from(dynamo.deserialize(item)) for item in response.get("Items", [])]
        if "LastEvaluatedKey" not in response:
            return rows
        kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]


# ---------------------------------------------------------------- uploads


@dataclass(frozen=True, slots=True)
class Upload:
    upload_id: str
    kind: str
    target: str | None
    object_key: str
    created_at: str
    import_id: str | None = None


def create_upload(upload: Upload, now: datetime) -> None:
    item = {
        "pk": f"UPLOAD#{upload.upload_id}",
        "sk": META,
        "upload_id": upload.upload_id,
        "kind": upload.kind,
        "target": upload.target,
        "object_key": upload.object_key,
        "created_at": upload.created_at,
        "expires_at": int((now + UPLOAD_TTL).timestamp()),
    }
    dynamo.client().put_item(TableName=_table(), Item=dynamo.serialize(item))


def get_upload(upload_id: str) -> Upload | None:
    item = (
        dynamo.client()
        .get_item(
            TableName=_table(),
            Key=dynamo.serialize({"pk": f"UPLOAD#{upload_id}", "sk": META}),
            ConsistentRead=True,
        )
        .get("Item")
    )
    if not item:
        return None
    data = dynamo.deserialize(item)
    if int(data.get("expires_at", 0)) < int(clock.now().timestamp()):
        return None
    return Upload(
        upload_id=data["upload_id"],
        kind=data["kind"],
        target=data.get("target"),
        object_key=data["object_key"],
        created_at=data["created_at"],
        import_id=data.get("import_id"),
    )


def mark_upload_started(upload_id: str, import_id: str) -> None:
    dynamo.client().update_item(
        TableName=_table(),
        Key=dynamo.serialize({"pk": f"UPLOAD#{upload_id}", "sk": META}),
        UpdateExpression="SET import_id = :import",
        ExpressionAttributeValues=dynamo.serialize_values({":import": import_id}),
    )
