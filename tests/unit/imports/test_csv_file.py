"""Reading import CSVs: the header, records and their byte offsets, the chunk plan."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadflow.domain.imports import csv_file
from leadflow.domain.imports.csv_file import HeaderError, lines_of, plan, read_header, records

FIELDS = ("first_name", "company", "time_zone")


def _csv(rows: list[list[str]], *, newline: str = "\r\n") -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator=newline).writerows(rows)
    return out.getvalue().encode()


def _rows(data: bytes, header: csv_file.Header, rows_per_chunk: int) -> list[tuple[int, list[str]]]:
    """Every record as the chunk workers read it: each chunk from its byte range alone."""
    the_plan = plan(lines_of(data), header, rows_per_chunk=rows_per_chunk, max_rows=10_000)
    found = []
    for chunk in the_plan.chunks:
        part = data[chunk.start : chunk.end]
        read = list(records(lines_of(part), offset=chunk.start, first_row=chunk.first_row))
        assert len(read) == chunk.rows
        assert read[-1].end == chunk.end
        found += [(record.row, record.cells) for record in read]
    return found


def test_header_is_case_insensitive_and_the_bom_goes() -> None:
    header = read_header(b"\xef\xbb\xbfEMAIL,First_Name,Status\r\nann@example.com,Ann,Sent\r\n", FIELDS)
    assert (header.email, header.status, header.fields) == (0, 2, {1: "first_name"})
    assert header.data_start == len(b"\xef\xbb\xbfEMAIL,First_Name,Status\r\n")


@pytest.mark.parametrize(
    ("head", "problem"),
    [
        (b"", "header"),
        (b"name,company\n", "email"),
        (b"email,favourite colour\n", "favourite colour"),
        (b"email,Email\n", "Email"),
        (b"email,,company\n", "column 2"),
        (b"\xff\xfeemail\n", "header"),
    ],
)
def test_headers_that_cannot_be_imported(head: bytes, problem: str) -> None:
    with pytest.raises(HeaderError) as refused:
        read_header(head, FIELDS)
    assert problem in refused.value.problems


def test_junk_without_line_breaks_is_no_header() -> None:
    with pytest.raises(HeaderError):
        read_header(b"\x00" * csv_file.MAX_HEADER_BYTES, FIELDS)


def test_quoted_commas_and_newlines_and_crlf_stay_in_their_cell() -> None:
    data = _csv([["email", "company"], ["a@example.com", "Acme, Inc.\r\nBerlin"], ["b@example.com", "B"]])
    header = read_header(data, FIELDS)
    assert _rows(data, header, 1) == [
        (2, ["a@example.com", "Acme, Inc.\r\nBerlin"]),
        (3, ["b@example.com", "B"]),
    ]


def test_bytes_that_are_not_utf8_spoil_their_row_only() -> None:
    data = b"email,company\na@example.com,Caf\xe9\nb@example.com,Cafe\n"
    header = read_header(data, FIELDS)
    rows = list(records(lines_of(data[header.data_start :]), offset=header.data_start, first_row=2))
    assert [(row.row, row.problem) for row in rows] == [(2, csv_file.NOT_UTF8), (3, None)]


def test_the_plan_finds_repeated_emails_across_chunks() -> None:
    data = _csv([["email"], ["a@example.com"], ["b@example.com"], [" A@Example.com "], ["a@example.com"]])
    the_plan = plan(lines_of(data), read_header(data, FIELDS), rows_per_chunk=2, max_rows=10)
    assert [chunk.duplicates for chunk in the_plan.chunks] == [{}, {4: 2, 5: 2}]
    assert the_plan.rows == 4


def test_the_plan_refuses_more_rows_than_allowed() -> None:
    data = _csv([["email"]] + [[f"{n}@example.com"] for n in range(5)])
    with pytest.raises(ValueError, match="more than 4 rows"):
        plan(lines_of(data), read_header(data, FIELDS), rows_per_chunk=2, max_rows=4)


_cells = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=12)


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(st.lists(_cells, min_size=3, max_size=3), min_size=1, max_size=25),
    rows_per_chunk=st.integers(min_value=1, max_value=7),
    newline=st.sampled_from(["\r\n", "\n"]),
    bom=st.booleans(),
)
def test_chunks_read_back_every_row_as_written(
    rows: list[list[str]], rows_per_chunk: int, newline: str, bom: bool
) -> None:
    data = (b"\xef\xbb\xbf" if bom else b"") + _csv(
        [["email", "company", "first_name"], *rows], newline=newline
    )
    header = read_header(data, FIELDS)
    read = _rows(data, header, rows_per_chunk)
    assert [cells for _, cells in read] == rows
    assert [number for number, _ in read] == list(range(2, len(rows) + 2))
