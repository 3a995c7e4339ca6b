"""``leadflow import csv|pinpoint``: send a file (or upload it when large), then follow the import.

The file goes in the request, gzip-compressed, when that is at most 4 MiB; otherwise the CLI asks
for an upload URL, PUTs the file there and starts the import. It then polls the import with a
progress bar and prints a summary and the first errors (``--json``: the import as the API reports it).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from leadflow_cli.client import AdminClient, ApiError

EXIT_OK = 0
EXIT_FAILED = 1
"""The API refused the file, or the import failed as a whole."""
EXIT_UNREADABLE = 2
"""The file cannot be read (argparse uses 2 for a wrong command line too)."""
EXIT_ROW_ERRORS = 4
"""The import completed, but some rows (or lines) were not imported: see the errors."""
EXIT_TIMEOUT = 5
"""The import was still running when --timeout ran out (it goes on: poll it with its id)."""

INLINE_LIMIT = 4 * 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"
POLL_SECONDS = 0.5


def register(subparsers: Any) -> None:
    from leadflow_cli.main import DEFAULT_URL, _base_url

    group = subparsers.add_parser(
        "import",
        help="import a CSV file into a CRM campaign, or an Amazon Pinpoint export",
        epilog=f"exit status: {EXIT_OK} imported, {EXIT_FAILED} refused or failed, {EXIT_UNREADABLE} file "
        f"unreadable, {EXIT_ROW_ERRORS} imported with row errors, {EXIT_TIMEOUT} still running at --timeout",
    ).add_subparsers(dest="kind", required=True)

    def common(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "--url", default=os.environ.get("LEADFLOW_URL", DEFAULT_URL), type=_base_url, help="API base URL"
        )
        command.add_argument(
            "--token", default=os.environ.get("LEADFLOW_ADMIN_TOKEN"), help="admin bearer token (local stack)"
        )
        command.add_argument("--json", action="store_true", help="print the import as JSON (for scripts)")
        command.add_argument("--errors", type=int, default=10, help="how many errors to print (default 10)")
        command.add_argument("--no-wait", action="store_true", help="print the import id and return")
        command.add_argument("--timeout", type=float, default=3600, help="seconds to follow the import")

    csv_command = group.add_parser("csv", help="a CSV file (email, optional status and contact fields)")
    csv_command.add_argument("campaign", help="the CRM campaign's id")
    csv_command.add_argument("file", type=Path)
    common(csv_command)
    csv_command.set_defaults(handler=cmd_import_csv)

    pinpoint = group.add_parser("pinpoint", help="an Amazon Pinpoint endpoint export (.jsonl or .jsonl.gz)")
    pinpoint.add_argument("file", type=Path)
    pinpoint.add_argument("--list", dest="list_id", help="a static list the imported contacts join")
    common(pinpoint)
    pinpoint.set_defaults(handler=cmd_import_pinpoint)


def cmd_import_csv(args: argparse.Namespace) -> int:
    return _run(args, f"/v1/admin/campaigns/{args.campaign}/imports", "text/csv", {}, gzip_upload=False)


def cmd_import_pinpoint(args: argparse.Namespace) -> int:
    query = {"list": args.list_id} if args.list_id else {}
    return _run(args, "/v1/admin/imports/pinpoint", "application/x-ndjson", query, gzip_upload=True)


def _run(
    args: argparse.Namespace, path: str, content_type: str, query: dict[str, str], *, gzip_upload: bool
) -> int:
    try:
        data = args.file.read_bytes()
    except OSError as error:
        print(f"cannot read {args.file}: {error.strerror}", file=sys.stderr)
        return EXIT_UNREADABLE
    client = AdminClient(args.url, args.token, timeout=600)  # the local stack answers between invocations
    try:
        import_id = _send(client, path, content_type, query, data, gzip_upload=gzip_upload)
        if args.no_wait:
            print(json.dumps({"import_id": import_id}) if args.json else import_id)
            return EXIT_OK
        view = _follow(client, import_id, quiet=args.json, timeout=args.timeout)
    except ApiError as error:
        if args.json:
            print(json.dumps(error.body, indent=2, ensure_ascii=False))
        else:
            print(str(error), file=sys.stderr)
            for field, message in error.fields.items():
                print(f"  {field}: {message}", file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        print(json.dumps(view, indent=2, ensure_ascii=False))
    else:
        _summary(view, args.errors)
    if view["status"] == "running":
        return EXIT_TIMEOUT
    if view["status"] == "failed":
        return EXIT_FAILED
    return EXIT_ROW_ERRORS if view["counts"]["errors"] else EXIT_OK


def _send(
    client: AdminClient,
    path: str,
    content_type: str,
    query: dict[str, str],
    data: bytes,
    *,
    gzip_upload: bool,
) -> str:
    """Inline when the gzip body fits a request; else an upload (CSV uploads go uncompressed)."""
    compressed = data if data[:2] == GZIP_MAGIC else gzip.compress(data, compresslevel=6)
    if len(compressed) <= INLINE_LIMIT:
        reply = client.request(
            "POST",
            path,
            query=query,
            body=compressed,
            content_type=content_type,
            headers={"Content-Encoding": "gzip"},
        )
        return str(reply.body["import_id"])
    offer = client.request(
        "POST", path, query=query, body=b'{"upload": true}', content_type="application/json"
    ).body
    body = compressed if gzip_upload else (gzip.decompress(data) if data[:2] == GZIP_MAGIC else data)
    _put(offer["upload_url"], body)
    reply = client.request("POST", f"/v1/admin/imports/{offer['upload_id']}/start")
    return str(reply.body["import_id"])


def _put(url: str, body: bytes) -> None:
    request = urllib.request.Request(url, data=body, method="PUT")  # noqa: S310 - the API's presigned URL
    try:
        with urllib.request.urlopen(request, timeout=300) as response:  # noqa: S310
            response.read()
    except urllib.error.HTTPError as error:
        raise ApiError(
            error.code,
            {"error": {"code": "upload_failed", "message": error.read()[:200].decode(errors="replace")}},
        ) from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        message = f"cannot upload the file: {getattr(error, 'reason', error)}"
        raise ApiError(0, {"error": {"code": "unreachable", "message": message}}) from None


def _follow(client: AdminClient, import_id: str, *, quiet: bool, timeout: float) -> dict[str, Any]:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    deadline = time.monotonic() + timeout
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=quiet or not console.is_terminal,
        transient=False,
    ) as progress:
        task = progress.add_task(f"import {import_id}", total=None)
        while True:
            view: dict[str, Any] = client.request("GET", f"/v1/admin/imports/{import_id}").body
            counts = view["counts"]
            progress.update(task, total=view.get("rows_total"), completed=counts["rows"] + counts["blank"])
            if view["status"] != "running" or time.monotonic() > deadline:
                return view
            time.sleep(POLL_SECONDS)


_LABELS = (
    ("rows", "rows read"),
    ("created", "contacts created"),
    ("updated", "contacts updated"),
    ("unchanged", "contacts unchanged"),
    ("members_added", "members added"),
    ("members_changed", "member statuses moved forward"),
    ("members_unchanged", "members unchanged"),
    ("blank", "blank rows"),
    ("skipped", "endpoints skipped (push, custom, in-app)"),
    ("warnings", "warnings"),
    ("errors", "rows not imported"),
)


def _summary(view: dict[str, Any], shown: int) -> None:
    print(
        f"import {view['import_id']} ({view['kind']} into {view.get('target') or 'no list'}): {view['status']}"
    )
    if view.get("failure"):
        print(f"  failed: {view['failure']}")
    counts = view["counts"]
    for key, label in _LABELS:
        if counts.get(key):
            print(f"  {counts[key]:>8}  {label}")
    errors = view.get("errors") or []
    if errors and shown > 0:
        noun = "line" if view["kind"] == "pinpoint" else "row"
        print(f"first {min(shown, len(errors))} of {view['errors_total']} errors and warnings:")
        for item in errors[:shown]:
            where = f"{noun} {item['row']}" + (f", {item['column']}" if item.get("column") else "")
            mark = "warning: " if item.get("warning") else ""
            print(f"  {where}: {mark}{item['reason']}")
