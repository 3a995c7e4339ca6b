"""Just enough SOQL for the stub: SELECT fields FROM object [WHERE ...] [ORDER BY ...] [LIMIT n].

It parses string literals with Salesforce's escapes, so a client that forgets to escape a quote
gets MALFORMED_QUERY (or the wrong rows), as it would from Salesforce.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:\\.|[^'\\])*')|(?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}))"
    r"|(?P<number>\d+(?:\.\d+)?)|(?P<op>!=|>=|<=|=|>|<|\(|\)|,)|(?P<word>[A-Za-z_][A-Za-z0-9_.]*))"
)
ESCAPES = {"'": "'", '"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}


class MalformedQueryError(ValueError):
    pass


@dataclass(frozen=True)
class Query:
    fields: list[str]
    sobject: str
    where: Callable[[Mapping[str, Any]], bool]
    order: list[str]
    limit: int | None


def unescape(literal: str) -> str:
    out, index = [], 1
    while index < len(literal) - 1:
        char = literal[index]
        if char == "\\":
            nxt = literal[index + 1]
            if nxt not in ESCAPES:
                raise MalformedQueryError(f"invalid escape \\{nxt}")
            out.append(ESCAPES[nxt])
            index += 2
        else:
            out.append(char)
            index += 1
    return "".join(out)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = TOKEN.match(text, position)
        if not match or match.end() == position:
            raise MalformedQueryError(f"unexpected token at {text[position : position + 20]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def stamp(value: str) -> datetime:
    text = value.replace("Z", "+00:00")
    if re.search(r"[+-]\d{4}$", text):
        text = text[:-2] + ":" + text[-2:]
    return datetime.fromisoformat(text).astimezone(UTC)


def _value(kind: str, text: str) -> Any:
    if kind == "string":
        return unescape(text)
    if kind == "datetime":
        return stamp(text)
    if kind == "number":
        return float(text)
    lowered = text.lower()
    if lowered in {"true", "false"}:
        return lowered == "true"
    if lowered == "null":
        return None
    raise MalformedQueryError(f"unexpected {text!r}")


def _compare(left: Any, op: str, right: Any) -> bool:
    if isinstance(right, datetime) and isinstance(left, str):
        left = stamp(left)
    if isinstance(left, str) and isinstance(right, str):
        left, right = left.lower(), right.lower()  # SOQL compares text without case
    if op == "=":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if left is None or right is None:
        return False
    return bool({">": left > right, "<": left < right, ">=": left >= right, "<=": left <= right}[op])


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens, self.at = tokens, 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise MalformedQueryError("unexpected end of query")
        self.at += 1
        return token

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token and token[0] == "word" and token[1].upper() == word:
            self.at += 1
            return True
        return False

    def expect(self, text: str) -> None:
        token = self.take()
        if token[1].upper() != text:
            raise MalformedQueryError(f"expected {text}, found {token[1]!r}")

    def disjunction(self) -> Callable[[Mapping[str, Any]], bool]:
        parts = [self.conjunction()]
        while self.keyword("OR"):
            parts.append(self.conjunction())
        return lambda row: any(part(row) for part in parts)

    def conjunction(self) -> Callable[[Mapping[str, Any]], bool]:
        parts = [self.atom()]
        while self.keyword("AND"):
            parts.append(self.atom())
        return lambda row: all(part(row) for part in parts)

    def atom(self) -> Callable[[Mapping[str, Any]], bool]:
        token = self.take()
        if token[1] == "(":
            inner = self.disjunction()
            self.expect(")")
            return inner
        if token[0] != "word":
            raise MalformedQueryError(f"expected a field, found {token[1]!r}")
        name = token[1]
        if self.keyword("IN"):
            self.expect("(")
            values = []
            while True:
                values.append(_value(*self.take()))
                separator = self.take()[1]
                if separator == ")":
                    break
                if separator != ",":
                    raise MalformedQueryError("expected , or ) in IN list")
            return lambda row: any(_compare(row.get(name), "=", value) for value in values)
        op = self.take()
        if op[0] != "op" or op[1] in {"(", ")", ","}:
            raise MalformedQueryError(f"expected an operator, found {op[1]!r}")
        value = _value(*self.take())
        return lambda row: _compare(row.get(name), op[1], value)


def parse(text: str) -> Query:
    parser = _Parser(_tokens(text))
    parser.expect("SELECT")
    fields = []
    while True:
        kind, name = parser.take()
        if kind != "word":
            raise MalformedQueryError(f"expected a field, found {name!r}")
        fields.append(name)
        if not (parser.peek() and parser.peek() == ("op", ",")):
            break
        parser.take()
    parser.expect("FROM")
    sobject = parser.take()[1]
    where: Callable[[Mapping[str, Any]], bool] = lambda row: True  # noqa: E731
    order: list[str] = []
    limit = None
    if parser.keyword("WHERE"):
        where = parser.disjunction()
    if parser.keyword("ORDER"):
        parser.expect("BY")
        order.append(parser.take()[1])
        while parser.peek() == ("op", ","):
            parser.take()
            order.append(parser.take()[1])
    if parser.keyword("LIMIT"):
        limit = int(float(parser.take()[1]))
    if parser.peek() is not None:
        raise MalformedQueryError(f"unexpected {parser.peek()[1]!r} after the query")  # type: ignore[index]
    return Query(fields, sobject, where, order, limit)
