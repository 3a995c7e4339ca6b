"""Accepting an import: the body (gzip allowed, bounded), the file stored, the record, the plan queued.

An import's id comes from what it imports into and the file's SHA-256, so posting the same file
again answers the same import and changes nothing. Files over what one request can carry (API
Gateway takes 10 MB, Lambda 6 MB) go through an upload: a presigned S3 PUT, then ``start``.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass
from datetime import datetime

from leadflow import clock
from leadflow.adapters import import_files, import_queue
from leadflow.adapters.import_queue import ImportMessage
from leadflow.domain.imports.progress import ImportRecord
from leadflow.errors import Conflict, NotFound, PayloadTooLarge, ValidationFailed
from leadflow.ids import new_id, stable_id
from leadflow.observability import logger
from leadflow.store import imports as imports_store

#: The largest request body taken inline (after base64): under Lambda's 6 MB invocation payload.
MAX_INLINE_BYTES = 4 * 1024 * 1024
#: The largest file once decompressed (a 100,000-row CSV is about 10 MB; a Pinpoint export of
#: 100,000 endpoints about 60 MB).
MAX_FILE_BYTES = 256 * 1024 * 1024
SUPPORTED_ENCODINGS = ("", "identity", "gzip", "x-gzip")


def decoded_body(data: bytes, content_encoding: str | None) -> bytes:
    """The file's bytes: gunzipped when sent gzip, refused past MAX_FILE_BYTES (a gzip bomb included)."""
    encoding = (content_encoding or "").strip().lower()
    if encoding not in SUPPORTED_ENCODINGS:
        raise ValidationFailed.for_fields({"Content-Encoding": "send the file as is, or gzip"})
    if encoding in ("", "identity"):
        if data[:2] == import_files.GZIP_MAGIC:
            raise ValidationFailed.for_fields(
                {"Content-Encoding": "the body is gzip: send Content-Encoding: gzip with it"}
            )
        return data
    inflater = zlib.decompressobj(wbits=31)
    try:
        out = inflater.decompress(data, MAX_FILE_BYTES + 1)
    except zlib.error:
        raise ValidationFailed.for_fields({"body": "not valid gzip"}) from None
    if len(out) > MAX_FILE_BYTES or inflater.unconsumed_tail:
        raise PayloadTooLarge(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB uncompressed")
    if not inflater.eof:
        raise ValidationFailed.for_fields({"body": "the gzip stream is cut short"})
    return out


def import_id_for(kind: str, target: str | None, sha256: str) -> str:
    return stable_id("imp", kind, target or "", sha256)


@dataclass(frozen=True, slots=True)
class Accepted:
    import_id: str
    existing: bool


def record_and_queue(
    *, kind: str, target: str | None, sha256: str, object_key: str | None, data: bytes | None, now: datetime
) -> Accepted:
    """Stores the file (unless it was uploaded), the import record and queues its plan, once
    per (kind, target, file). A record left unplanned by a failed send is queued again."""
    import_id = import_id_for(kind, target, sha256)
    existing = imports_store.get_import(import_id)
    if existing is None:
        key = object_key or f"imports/{import_id}/file"
        if data is not None:
            import_files.put(key, data, "text/csv" if kind == "csv" else "application/x-ndjson")
        record = ImportRecord(
            import_id=import_id,
            kind=kind,
            target=target,
            object_key=key,
            sha256=sha256,
            created_at=clock.iso(now),
        )
        created = imports_store.create_import(record)
        existing = None if created else imports_store.get_import(import_id)
    if existing is not None and (existing.planned or existing.finished):
        return Accepted(import_id, existing=True)
    import_queue.send(ImportMessage(import_id=import_id, step="plan"))
    logger.info("import queued", extra={"import_id": import_id, "kind": kind})
    return Accepted(import_id, existing=existing is not None)


# ---------------------------------------------------------------- uploads


@dataclass(frozen=True, slots=True)
class UploadOffer:
    upload_id: str
    url: str
    expires_in: int


def offer_upload(kind: str, target: str | None) -> UploadOffer:
    now = clock.now()
    upload_id = new_id("upl")
    key = f"uploads/{upload_id}"
    imports_store.create_upload(
        imports_store.Upload(
            upload_id=upload_id, kind=kind, target=target, object_key=key, created_at=clock.iso(now)
        ),
        now,
    )
    return UploadOffer(upload_id, import_files.upload_url(key), import_files.UPLOAD_URL_SECONDS)


@dataclass(frozen=True, slots=True)
class UploadedFile:
    upload: imports_store.Upload
    head: bytes
    """The first bytes of the (decompressed) file, for the header check."""
    sha256: str


def read_upload(upload_id: str, *, head_bytes: int) -> UploadedFile:
    """The uploaded file's start and hash (one streamed pass); 404 unknown, 409 nothing uploaded."""
    upload = imports_store.get_upload(upload_id)
    if upload is None:
        raise NotFound(f"no upload {upload_id!r} (uploads expire after two days)")
    size = import_files.size(upload.object_key)
    if size is None:
        raise Conflict("nothing was uploaded yet: PUT the file to the upload URL, then start it")
    if size > MAX_FILE_BYTES:
        raise PayloadTooLarge(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    digest = hashlib.sha256()
    head = bytearray()
    total = 0
    try:
        for line in import_files.lines(upload.object_key):
            digest.update(line)
            total += len(line)
            if len(head) < head_bytes:
                head += line[: head_bytes - len(head)]
            if total > MAX_FILE_BYTES:
                raise PayloadTooLarge(
                    f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB uncompressed"
                )
    except (OSError, EOFError, zlib.error):  # a broken gzip upload
        raise ValidationFailed.for_fields({"body": "the uploaded file is not valid gzip"}) from None
    return UploadedFile(upload, bytes(head), digest.hexdigest())
