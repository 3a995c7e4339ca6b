"""The import bucket (S3): files as accepted or uploaded, read whole as a stream or by byte range."""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from leadflow import aws
from leadflow.settings import get_settings

GZIP_MAGIC = b"\x1f\x8b"
UPLOAD_URL_SECONDS = 3600


def _bucket() -> str:
    return get_settings().import_bucket


def put(key: str, data: bytes, content_type: str) -> None:
    aws.client("s3").put_object(Bucket=_bucket(), Key=key, Body=data, ContentType=content_type)


def upload_url(key: str) -> str:
    """A presigned PUT for a file too large for the API (API Gateway takes 10 MB, Lambda 6 MB)."""
    return str(
        aws.client("s3").generate_presigned_url(
            "put_object", Params={"Bucket": _bucket(), "Key": key}, ExpiresIn=UPLOAD_URL_SECONDS
        )
    )


def size(key: str) -> int | None:
    """The object's size, or None when nothing was uploaded there."""
    try:
        head = aws.client("s3").head_object(Bucket=_bucket(), Key=key)
    except ClientError as error:
        if str(error.response.get("Error", {}).get("Code")) in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    return int(head["ContentLength"])


def read_range(key: str, start: int, end: int) -> bytes:
    """Bytes ``start`` up to (not including) ``end``."""
    if end <= start:
        return b""
    response = aws.client("s3").get_object(Bucket=_bucket(), Key=key, Range=f"bytes={start}-{end - 1}")
    return bytes(response["Body"].read())


def lines(key: str) -> Iterator[bytes]:
    """The object's lines (raw bytes, line endings kept), gunzipped when it is gzip, streamed."""
    body: Any = aws.client("s3").get_object(Bucket=_bucket(), Key=key)["Body"]
    try:
        head = body.read(2)
        if head == GZIP_MAGIC:
            raw = io.BufferedReader(_Prefixed(head, body))
            with gzip.GzipFile(fileobj=raw) as unzipped:
                yield from iter(unzipped.readline, b"")
        else:
            yield from split_lines(head, body.read)
    finally:
        body.close()


def split_lines(head: bytes, read: Any, block: int = 256 * 1024) -> Iterator[bytes]:
    """Lines (ending kept) from ``head`` and then ``read(block)`` until it returns nothing."""
    pending = head
    while True:
        data = read(block)
        if not data:
            break
        pending += data
        *complete, pending = pending.split(b"\n")
        for line in complete:
            yield line + b"\n"
    if pending:
        yield pending


class _Prefixed(io.RawIOBase):
    """A raw stream that first returns bytes already read (the magic number), then the body."""

    def __init__(self, prefix: bytes, body: Any) -> None:
        super().__init__()
        self._prefix = prefix
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        wanted = len(buffer)
        data, self._prefix = self._prefix[:wanted], self._prefix[wanted:]
        if len(data) < wanted:
            data += self._body.read(wanted - len(data)) or b""
        buffer[: len(data)] = data
        return len(data)
