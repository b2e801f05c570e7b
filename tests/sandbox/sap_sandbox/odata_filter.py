"""A `$filter` parser for the subset of OData the Service Layer accepts on entity sets.

Comparisons (eq ne gt ge lt le), and/or/not, parentheses, the functions startswith, endswith,
contains and substringof (v1), literals: 'strings' ('' escapes a quote), numbers, null,
true/false, datetime'...' (v1). Dates and times are compared as SAP's text forms, so
`UpdateDate ge '2024-03-05'` and `UpdateTime lt '14:22:05'` order correctly. Anything else is a
query error (HTTP 400 with SAP's body), never silence.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Collection
from typing import Any

from sap_sandbox.errors import SapError, query_error

Predicate = Callable[[dict[str, Any]], bool]

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>'(?:[^']|'')*')
    | (?P<typed>(?:datetime|datetimeoffset|time|guid)'(?:[^']|'')*')
    | (?P<num>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?[mMdDfFlL]?(?![\w-]))
    | (?P<date>\d{4}-\d{2}-\d{2}(?:T[\d:.]+Z?)?)
    | (?P<name>[A-Za-z_][A-Za-z0-9_/]*)
    | (?P<punct>[(),])
    )""",
    re.VERBOSE,
)
_COMPARE = {"eq", "ne", "gt", "ge", "lt", "le"}
_FUNCS = {"startswith", "endswith", "contains", "substringof"}
_TIME = re.compile(r"^(?:\d{4}-?\d{2}-?\d{2}T)?(\d{1,2}):?(\d{2})(?::?(\d{2}))?(?:\.\d+)?Z?$")
_DATE = re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})(?:T?[\d:.]*Z?)?$")


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise query_error(f"Syntax error in $filter at position {pos}: '{text[pos:pos + 20]}'")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind), m.start(kind)))
        pos = m.end()
    return out


def normalise_literal(field: str, value: Any, minute_times: bool = False) -> Any:
    """Bring a literal to the form stored for `field`: dates 'YYYY-MM-DD', times 'HH:MM:SS'.

    Accepted as SAP documents them: dates '2014-04-23', '20140423', '2014-04-23T12:21:21',
    '20140423000000' (the time part is ignored); times '18:38:00', '18:38', '183800', '1838',
    '2014-06-18T18:38:00Z' (the date part is ignored).
    """
    if not isinstance(value, str):
        return value
    if field.endswith("Date"):
        m = _DATE.match(value)
        if m:
            return f"{m.group(1)}-{m.group(2)}-{m.group(3)}"
    elif field.endswith("Time"):
        m = _TIME.match(value)
        if m:
            text = f"{int(m.group(1)):02d}:{m.group(2)}:{m.group(3) or '00'}"
            return text[:5] if minute_times else text
    return value


class _Parser:
    def __init__(self, text: str, fields: Collection[str], entity: str,
                 minute_times: bool, ignore_times: bool = False) -> None:
        self.minute_times = minute_times
        self.ignore_times = ignore_times
        self.text = text
        self.toks = _tokens(text)
        self.i = 0
        self.fields = fields
        self.entity = entity

    def peek(self) -> tuple[str, str, int] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> tuple[str, str, int]:
        tok = self.peek()
        if tok is None:
            raise query_error(f"Syntax error in $filter: unexpected end of '{self.text}'")
        self.i += 1
        return tok

    def expect(self, value: str) -> None:
        _, got, pos = self.take()
        if got != value:
            raise query_error(f"Syntax error in $filter at position {pos}: expected '{value}'")

    def keyword(self, word: str) -> bool:
        tok = self.peek()
        if tok and tok[0] == "name" and tok[1].lower() == word:
            self.i += 1
            return True
        return False

    def parse(self) -> Predicate:
        pred = self.or_expr()
        tok = self.peek()
        if tok is not None:
            raise query_error(f"Syntax error in $filter at position {tok[2]}: '{tok[1]}'")
        return pred

    def or_expr(self) -> Predicate:
        parts = [self.and_expr()]
        while self.keyword("or"):
            parts.append(self.and_expr())
        if len(parts) == 1:
            return parts[0]
        return lambda r: any(p(r) for p in parts)

    def and_expr(self) -> Predicate:
        parts = [self.not_expr()]
        while self.keyword("and"):
            parts.append(self.not_expr())
        if len(parts) == 1:
            return parts[0]
        if len(parts) == 2:
            a, b = parts
            return lambda r: a(r) and b(r)
        return lambda r: all(p(r) for p in parts)

    def not_expr(self) -> Predicate:
        if self.keyword("not"):
            inner = self.not_expr()
            return lambda r: not inner(r)
        return self.primary()

    def primary(self) -> Predicate:
        tok = self.peek()
        if tok and tok[1] == "(":
            self.take()
            pred = self.or_expr()
            self.expect(")")
            return pred
        if tok and tok[0] == "name" and tok[1].lower() in _FUNCS:
            after = self.toks[self.i + 1] if self.i + 1 < len(self.toks) else None
            if after and after[1] == "(":
                pred = self.function()
                if self.keyword("eq"):
                    want = self.operand()
                    return lambda r: pred(r) == want(r)
                return pred
        left, left_field = self.operand_with_field()
        kind, op, pos = self.take()
        if kind != "name" or op.lower() not in _COMPARE:
            raise query_error(f"Syntax error in $filter at position {pos}: expected an operator")
        right, right_field = self.operand_with_field(other_field=left_field)
        if left_field is None and right_field is not None:
            left, _ = self._rebind(left, right_field)
        if self.ignore_times and (left_field or right_field or "").endswith("Time"):
            return lambda _r: True  # a server that drops the time part of the filter
        return _compare(op.lower(), left, right)

    def _rebind(self, getter: Callable[[dict[str, Any]], Any], field: str) -> tuple[Any, None]:
        value = getter({})
        fixed = normalise_literal(field, value, self.minute_times)
        return (lambda _r: fixed), None

    def operand_with_field(
        self, other_field: str | None = None
    ) -> tuple[Callable[[dict[str, Any]], Any], str | None]:
        kind, value, pos = self.take()
        if kind == "name":
            low = value.lower()
            if low == "null":
                return (lambda _r: None), None
            if low in ("true", "false"):
                flag = low == "true"
                return (lambda _r: flag), None
            if low in _FUNCS:
                self.i -= 1
                return self.function(), None
            return self.field(value, pos), value
        literal = _literal(kind, value, pos)
        if other_field is not None:
            literal = normalise_literal(other_field, literal, self.minute_times)
        return (lambda _r: literal), None

    def operand(self) -> Callable[[dict[str, Any]], Any]:
        return self.operand_with_field()[0]

    def field(self, name: str, pos: int) -> Callable[[dict[str, Any]], Any]:
        if "/" in name or name not in self.fields:
            raise SapError(400, -1000, f"Property '{name}' of '{self.entity}' is invalid")
        if self.minute_times and name.endswith("Time"):
            # SAP compares times to the minute only (see README): '14:22:59' acts as '14:22'.
            return lambda r: (r.get(name) or None) and r[name][:5]
        return lambda r: r.get(name)

    def function(self) -> Predicate:
        _, name, _ = self.take()
        name = name.lower()
        self.expect("(")
        first = self.operand()
        self.expect(",")
        second = self.operand()
        self.expect(")")
        if name == "substringof":  # v1: substringof('needle', Field)
            first, second = second, first
        test: Callable[[str, str], bool] = {
            "startswith": str.startswith,
            "endswith": str.endswith,
            "contains": lambda h, n: n in h,
            "substringof": lambda h, n: n in h,
        }[name]

        def pred(r: dict[str, Any]) -> bool:
            hay, needle = first(r), second(r)
            return isinstance(hay, str) and isinstance(needle, str) and test(hay, needle)

        return pred


def _literal(kind: str, value: str, pos: int) -> Any:
    if kind == "str":
        return value[1:-1].replace("''", "'")
    if kind == "typed":
        return value[value.index("'") + 1:-1].replace("''", "'")
    if kind == "date":
        return value
    if kind == "num":
        text = value.rstrip("mMdDfFlL")
        return float(text) if any(c in text for c in ".eE") else int(text)
    raise query_error(f"Syntax error in $filter at position {pos}: unexpected '{value}'")


def _compare(op: str, left: Callable[[dict[str, Any]], Any],
             right: Callable[[dict[str, Any]], Any]) -> Predicate:
    if op == "eq":
        return lambda r: _coerce_eq(left(r), right(r))
    if op == "ne":
        return lambda r: not _coerce_eq(left(r), right(r))
    fn = {"gt": operator.gt, "ge": operator.ge, "lt": operator.lt, "le": operator.le}[op]

    def pred(r: dict[str, Any]) -> bool:
        a, b = left(r), right(r)
        if a is None or b is None:
            return False
        try:
            return bool(fn(a, b))
        except TypeError:
            a, b = _coerce_pair(a, b)
            try:
                return bool(fn(a, b))
            except TypeError:
                return False

    return pred


def _coerce_pair(a: Any, b: Any) -> tuple[Any, Any]:
    """SAP is lenient with '5' against a number column; compare numerically when both parse."""
    try:
        if isinstance(a, int | float) and isinstance(b, str):
            return a, float(b)
        if isinstance(b, int | float) and isinstance(a, str):
            return float(a), b
    except ValueError:
        pass
    return a, b


def _coerce_eq(a: Any, b: Any) -> bool:
    if a == b:
        return True
    if a is None or b is None:
        return False
    x, y = _coerce_pair(a, b)
    return bool(x == y)


def compile_filter(text: str, fields: Collection[str], entity: str,
                   minute_times: bool = False, ignore_times: bool = False) -> Predicate:
    """Parse `$filter` text into a predicate over records, or raise SapError (400).

    `ignore_times`: every comparison on a `*Time` property holds (a server ignoring that part)."""
    if not text.strip():
        raise query_error("Syntax error in $filter: empty expression")
    return _Parser(text, fields, entity, minute_times, ignore_times).parse()
