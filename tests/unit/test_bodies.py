"""Request body parsers: whatever bytes a client sends, the answer is a value or a 4xx, never a 500."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadflow.api import bodies
from leadflow.api.bodies import MediaType
from leadflow.errors import LeadflowError, ValidationFailed

MULTIPART = MediaType(bodies.MULTIPART, boundary="XyZ")
URLENCODED = MediaType(bodies.URLENCODED)


def refused(data: bytes, media: MediaType | None = None) -> str:
    def parse() -> object:
        return bodies.json_object(data) if media is None else bodies.form_fields(data, media)

    with pytest.raises(ValidationFailed) as caught:
        parse()
    assert caught.value.status == 422
    return caught.value.fields["body"] if "body" in caught.value.fields else json.dumps(caught.value.fields)


# ---------------------------------------------------------------- JSON


def test_json_nested_past_the_interpreters_recursion_limit_is_a_422():
    # json.loads raised RecursionError: a 500
    assert "nested more than 64 levels" in refused(b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")


def test_json_nesting_is_bounded_at_64_levels_whatever_the_stack():
    def nested(depth: int) -> bytes:
        return b'{"a": ' * (depth - 1) + b"{}" + b"}" * (depth - 1)

    assert bodies.json_object(nested(64))
    assert "nested more than 64 levels" in refused(nested(65))


def test_a_5000_digit_number_is_a_422():
    # ValueError from Python's integer-string limit escaped as a 500
    assert "more than 1000 digits" in refused(b'{"n": ' + b"7" * 5000 + b"}")
    assert "more than 1000 digits" in refused(b'{"n": -' + b"7" * 1001 + b"}")
    assert bodies.json_object(b'{"n": ' + b"7" * 1000 + b"}")["n"] > 0


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity"])
def test_nan_and_infinity_are_refused_at_parse_time(literal):
    # json.loads accepts them by default, and they were stored verbatim
    assert "is not a JSON number" in refused(b'{"n": ' + literal + b"}")


@pytest.mark.parametrize("literal", [b"1e400", b"-1e999"])
def test_a_float_beyond_doubles_is_refused_rather_than_read_as_infinity(literal):
    assert "out of range" in refused(b'{"n": [' + literal + b"]}")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the body is empty"),
        (b"{", "malformed JSON at line 1 column 2"),
        (b"[1]", "expected a JSON object, got list"),
        (b"\xff", "not valid UTF-8"),
        (b'{"a": "\\ud800"}', None),  # a lone surrogate parses; the text rule refuses it per field
    ],
)
def test_other_json_failures(data, message):
    if message is None:
        assert bodies.json_object(data) == {"a": "\ud800"}
    else:
        assert message in refused(data)


@settings(max_examples=300)
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_any_bytes_as_json_give_an_object_or_a_client_error(data):
    try:
        value: object = bodies.json_object(data)
    except LeadflowError as error:
        value = error
    assert isinstance(value, dict) or (isinstance(value, LeadflowError) and 400 <= value.status < 500)


# ---------------------------------------------------------------- form posts


def multipart(*parts: bytes) -> bytes:
    return b"".join(b"--XyZ\r\n" + part + b"\r\n" for part in parts) + b"--XyZ--\r\n"


def test_multipart_fields_and_repeated_names():
    body = multipart(
        b'Content-Disposition: form-data; name="email"\r\n\r\nann@example.com',
        b'Content-Disposition: form-data; name="topic"\r\n\r\na',
        b'Content-Disposition: form-data; name="topic"\r\n\r\nb',
    )
    assert bodies.form_fields(body, MULTIPART) == {"email": "ann@example.com", "topic": ["a", "b"]}


def test_an_rfc2231_field_name_is_read_not_dropped():
    body = multipart(b"Content-Disposition: form-data; name*=utf-8''pr%C3%A9nom\r\n\r\nZo\xc3\xa9")
    assert bodies.form_fields(body, MULTIPART) == {"prénom": "Zoé"}


def test_a_nested_multipart_part_is_refused_not_read_as_empty():
    inner = b'Content-Type: multipart/mixed; boundary="in"\r\n\r\n--in\r\n\r\nx\r\n--in--'
    body = multipart(b'Content-Disposition: form-data; name="notes"\r\n' + inner)
    assert "nested multipart" in refused(body, MULTIPART)


def test_a_file_upload_is_refused_under_its_field():
    body = multipart(b'Content-Disposition: form-data; name="cv"; filename="cv.pdf"\r\n\r\n%PDF')
    assert "file uploads are not accepted" in refused(body, MULTIPART)


@settings(max_examples=300)
@given(st.binary(max_size=300), st.sampled_from([MULTIPART, URLENCODED, MediaType(bodies.MULTIPART)]))
def test_any_bytes_as_a_form_give_fields_or_a_client_error(data, media):
    try:
        value: object = bodies.form_fields(multipart(data) if media is MULTIPART else data, media)
    except LeadflowError as error:
        value = error
    if isinstance(value, LeadflowError):
        assert 400 <= value.status < 500
    else:
        assert isinstance(value, dict)
        assert all(isinstance(name, str) for name in value)


@given(st.text(max_size=100))
def test_any_content_type_header_parses_or_is_none(header):
    media = MediaType.parse(header)
    assert media is None or isinstance(media.essence, str)
