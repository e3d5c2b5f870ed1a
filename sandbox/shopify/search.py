"""Shopify's search syntax for the `query:` argument of list fields.

Supports what integrations send: `field:value`, comparisons (`updated_at:>'2026-01-01T00:00:00Z'`,
`>=`, `<`, `<=`), quoted values, a trailing `*` for prefix matches, implicit or explicit AND,
OR, NOT / leading `-`, and parentheses. Timestamps compare at whole seconds, as Shopify stores
them, so `updated_at:>T` skips records updated within the same second as T. A field the list
does not know is ignored with a warning (Shopify answers it in `extensions.search`), and bare
words match the list's default text fields.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

Getter = Callable[[Any], Any]

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<lp>\() | (?P<rp>\)) |
        (?P<neg>-)?(?:(?P<field>[A-Za-z_][\w.]*):(?P<op>>=|<=|>|<|=)?)?
        (?:'(?P<sq>[^']*)'|"(?P<dq>[^"]*)"|(?P<bare>[^\s()]+))
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Term:
    field: str | None
    op: str
    value: str


@dataclass
class SearchResult:
    match: Callable[[Any], bool]
    warnings: list[dict[str, str]]


def compile_query(query: str | None, fields: dict[str, Getter], text: list[Getter]) -> SearchResult:
    """A predicate over records for a Shopify search string, and the warnings it raised."""
    warnings: list[dict[str, str]] = []
    if not query or not query.strip():
        return SearchResult(lambda record: True, warnings)
    tokens = _tokens(query)
    parser = _Parser(tokens, fields, text, warnings)
    predicate = parser.expression()
    return SearchResult(predicate, warnings)


def _tokens(query: str) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    position = 0
    while position < len(query):
        if not query[position:].strip():
            break
        match = _TOKEN.match(query, position)
        if not match or match.end() == position:
            position += 1
            continue
        position = match.end()
        if match["lp"]:
            tokens.append(("(", None))
        elif match["rp"]:
            tokens.append((")", None))
        else:
            value = (
                match["sq"]
                if match["sq"] is not None
                else match["dq"]
                if match["dq"] is not None
                else match["bare"]
            )
            if (
                match["field"] is None
                and match["sq"] is None
                and match["dq"] is None
                and value in ("OR", "AND", "NOT")
            ):
                tokens.append((value, None))
                continue
            term = Term(match["field"], match["op"] or ":", value)
            tokens.append(("term", (bool(match["neg"]), term)))
    return tokens


class _Parser:
    def __init__(
        self,
        tokens: list[tuple[str, Any]],
        fields: dict[str, Getter],
        text: list[Getter],
        warnings: list[dict[str, str]],
    ) -> None:
        self.tokens, self.position = tokens, 0
        self.fields, self.text, self.warnings = fields, text, warnings

    def peek(self) -> str | None:
        return self.tokens[self.position][0] if self.position < len(self.tokens) else None

    def expression(self) -> Callable[[Any], bool]:
        options = [self.conjunction()]
        while self.peek() == "OR":
            self.position += 1
            options.append(self.conjunction())
        return lambda record: any(option(record) for option in options)

    def conjunction(self) -> Callable[[Any], bool]:
        parts = []
        while self.peek() not in (None, ")", "OR"):
            if self.peek() == "AND":
                self.position += 1
                continue
            parts.append(self.unary())
        return lambda record: all(part(record) for part in parts)

    def unary(self) -> Callable[[Any], bool]:
        kind, value = self.tokens[self.position]
        self.position += 1
        if kind == "NOT":
            inner = self.unary()
            return lambda record: not inner(record)
        if kind == "(":
            inner = self.expression()
            if self.peek() == ")":
                self.position += 1
            return inner
        negated, term = value
        test = self.term(term)
        return (lambda record: not test(record)) if negated else test

    def term(self, term: Term) -> Callable[[Any], bool]:
        if term.field is None:
            needle = term.value.lower().rstrip("*")
            return lambda record: any(needle in str(get(record) or "").lower() for get in self.text)
        getter = self.fields.get(term.field)
        if getter is None:
            self.warnings.append(
                {"field": term.field, "message": "Invalid search field for this query."}
            )
            return lambda record: True
        return lambda record: _matches(getter(record), term)


def _matches(actual: Any, term: Term) -> bool:
    if isinstance(actual, list | tuple | set):
        return any(_matches(one, term) for one in actual)
    if actual is None:
        return False
    expected = _coerce(term.value, actual)
    if expected is None:
        return False
    if term.op in (":", "="):
        if isinstance(actual, str) and term.value.endswith("*"):
            return actual.lower().startswith(term.value[:-1].lower())
        return bool(
            actual.lower() == expected.lower() if isinstance(actual, str) else actual == expected
        )
    comparisons: dict[str, Callable[[Any, Any], bool]] = {
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
    }
    return comparisons[term.op](actual, expected)


def _coerce(value: str, like: Any) -> Any:
    if isinstance(like, datetime):
        return parse_time(value)
    if isinstance(like, bool):
        return value.lower() == "true"
    if isinstance(like, int):
        return int(value) if re.fullmatch(r"-?\d+", value) else None
    if isinstance(like, Decimal):
        try:
            return Decimal(value)
        except InvalidOperation:
            return None
    return value


def parse_time(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.replace(microsecond=0)
