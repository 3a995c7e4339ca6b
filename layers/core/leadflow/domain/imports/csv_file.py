"""Reading an import's CSV file: the header, records with their byte offsets, and the chunk plan.

A record may span lines (a quoted newline), so chunks are cut at record boundaries found by one
pass over the file (the plan); each chunk is then read again from its byte range alone. Bytes
that are not UTF-8 are kept as surrogate escapes so the record still parses, and the row is
reported as not UTF-8 instead of failing the file. Row numbers count records as a spreadsheet
shows them: the header is row 1.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

BOM = b"\xef\xbb\xbf"
EMAIL_COLUMN = "email"
STATUS_COLUMN = "status"
#: The longest header line read when an import is accepted (a header is a few hundred bytes).
MAX_HEADER_BYTES = 64 * 1024
MAX_COLUMNS = 200
NOT_UTF8 = "not valid UTF-8"


@dataclass(frozen=True, slots=True)
class Record:
    """One CSV record: its row number, where it ends in the file, and its cells or why it is unreadable."""

    row: int
    end: int
    cells: list[str] = field(default_factory=list)
    problem: str | None = None

    @property
    def blank(self) -> bool:
        return self.problem is None and not any(cell.strip() for cell in self.cells)


class _Lines:
    """Feeds the csv reader decoded lines while counting the bytes they came from."""

    def __init__(self, lines: Iterable[bytes], offset: int) -> None:
        self._lines = iter(lines)
        self.position = offset
        self._first = offset == 0

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        raw = next(self._lines)
        self.position += len(raw)
        if self._first:
            self._first = False
            raw = raw.removeprefix(BOM)
        return raw.decode("utf-8", errors="surrogateescape")


def lines_of(data: bytes) -> list[bytes]:
    """Raw lines, each with its ``\\n``: split as the planner splits a stream, so a bare CR (a
    broken line ending) stays inside its line in both readings and row numbers agree."""
    parts = data.split(b"\n")
    lines = [part + b"\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def records(lines: Iterable[bytes], *, offset: int = 0, first_row: int = 1) -> Iterator[Record]:
    """The records of ``lines`` (raw lines of the file from byte ``offset``, the first being row
    ``first_row``). A record the csv module cannot read is yielded with its problem; reading goes on."""
    source = _Lines(lines, offset)
    reader = csv.reader(source, strict=True)
    row = first_row
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield Record(row=row, end=source.position, problem=f"unreadable CSV: {error}")
        else:
            problem = NOT_UTF8 if any(_has_escapes(cell) for cell in cells) else None
            yield Record(row=row, end=source.position, cells=cells, problem=problem)
        row += 1


def _has_escapes(cell: str) -> bool:
    return any("\udc80" <= character <= "\udcff" for character in cell)


# ---------------------------------------------------------------- the header


@dataclass(frozen=True, slots=True)
class Header:
    """The header as the import reads it: which column is the email, the status, and each field."""

    columns: tuple[str, ...]
    email: int
    status: int | None
    fields: dict[int, str]
    data_start: int

    @property
    def width(self) -> int:
        return len(self.columns)


class HeaderError(ValueError):
    """The header cannot be imported; ``problems`` by column (or ``header``)."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{key}: {value}" for key, value in problems.items()))
        self.problems = problems


def read_header(start: bytes, importable: Iterable[str]) -> Header:
    """The header from the file's first bytes. Column names are matched case-insensitively;
    ``importable`` are the contact fields a column may fill (every other column is refused, so
    nothing in the file is silently dropped)."""
    first_line_end = start.find(b"\n")
    if first_line_end < 0 and len(start) >= MAX_HEADER_BYTES:
        raise HeaderError({"header": f"no line break in the first {MAX_HEADER_BYTES // 1024} KiB"})
    first = next(records(lines_of(start)), None)
    if first is None or first.blank:
        raise HeaderError({"header": "the file is empty; the first row must name the columns"})
    if first.problem:
        raise HeaderError({"header": first.problem})
    if len(first.cells) > MAX_COLUMNS:
        raise HeaderError({"header": f"more than {MAX_COLUMNS} columns"})
    by_name = {name.casefold(): name for name in importable}
    names = tuple(cell.strip().casefold() for cell in first.cells)
    problems: dict[str, str] = {}
    seen: set[str] = set()
    fields: dict[int, str] = {}
    for index, name in enumerate(names):
        label = first.cells[index].strip() or f"column {index + 1}"
        if not name:
            problems[label] = "a column has no name"
        elif name in seen:
            problems[label] = "this column is named twice"
        elif name not in (EMAIL_COLUMN, STATUS_COLUMN):
            if name in by_name:
                fields[index] = by_name[name]
            else:
                problems[label] = "not a contact field: no form defines it (and it is not time_zone)"
        seen.add(name)
    if EMAIL_COLUMN not in names:
        problems["email"] = "the header needs an email column"
    if problems:
        raise HeaderError(problems)
    return Header(
        columns=names,
        email=names.index(EMAIL_COLUMN),
        status=names.index(STATUS_COLUMN) if STATUS_COLUMN in names else None,
        fields=fields,
        data_start=first.end,
    )


# ---------------------------------------------------------------- the plan


@dataclass(frozen=True, slots=True)
class Chunk:
    """A byte range of whole records; ``duplicates`` maps a row to the earlier row with its email."""

    index: int
    start: int
    end: int
    first_row: int
    rows: int
    duplicates: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Plan:
    chunks: list[Chunk]
    rows: int
    sha256: str


def dedupe_key(raw_email: str) -> str:
    """A cheap stand-in for the email's dedupe key, for finding repeats within one file."""
    return raw_email.strip().casefold()


def plan(lines: Iterable[bytes], header: Header, *, rows_per_chunk: int, max_rows: int) -> Plan:
    """One pass over the whole file: chunk boundaries every ``rows_per_chunk`` records, the rows
    whose email repeats an earlier row's, and the file's hash. Raises ValueError past ``max_rows``."""
    digest = hashlib.sha256()

    def hashed() -> Iterator[bytes]:
        for line in lines:
            digest.update(line)
            yield line

    chunks: list[Chunk] = []
    first_seen: dict[str, int] = {}
    stream = records(hashed())
    next(stream, None)  # the header, read and checked before
    start, first_row, count, total = header.data_start, 2, 0, 0
    duplicates: dict[int, int] = {}
    last_end = start
    for record in stream:
        total += 1
        if total > max_rows:
            raise ValueError(f"the file has more than {max_rows} rows")
        if record.problem is None and header.email < len(record.cells):
            key = dedupe_key(record.cells[header.email])
            if key:
                earlier = first_seen.setdefault(key, record.row)
                if earlier != record.row:
                    duplicates[record.row] = earlier
        count += 1
        last_end = record.end
        if count == rows_per_chunk:
            chunks.append(Chunk(len(chunks), start, last_end, first_row, count, duplicates))
            start, first_row, count, duplicates = last_end, record.row + 1, 0, {}
    if count:
        chunks.append(Chunk(len(chunks), start, last_end, first_row, count, duplicates))
    return Plan(chunks=chunks, rows=total, sha256=digest.hexdigest())
