"""The import queue's consumer: a plan message reads the file and queues its chunks; a chunk
message imports its rows. Both are idempotent, so SQS's at-least-once delivery changes nothing."""

from __future__ import annotations

from leadflow.adapters.import_queue import ImportMessage
from leadflow.observability import logger
from leadflow.services.imports import csv_import, pinpoint_import
from leadflow.store import imports as imports_store


def handle(message: ImportMessage) -> str:
    record = imports_store.get_import(message.import_id)
    if record is None:
        logger.warning(
            "import message for an unknown import; dropped", extra={"import_id": message.import_id}
        )
        return "unknown"
    if record.finished:
        return "finished"
    kind = csv_import if record.kind == csv_import.KIND else pinpoint_import
    if message.step == "plan":
        if record.planned:
            return "planned before"
        kind.plan(record)
        return "planned"
    kind.import_chunk(record, message)
    return "chunk"
