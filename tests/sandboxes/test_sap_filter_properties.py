"""Property: the sandbox's `$filter` agrees with a plain Python reading of the same expression.

Random expressions (comparisons on dates, times, numbers and strings joined by and/or/not and
parentheses) are rendered as OData text, parsed by the sandbox and checked record by record
against a direct evaluation of the expression tree.
"""

from __future__ import annotations

import operator

from hypothesis import given, settings
from hypothesis import strategies as st

from sap_sandbox.odata_filter import compile_filter

PROFILE = settings(max_examples=300, deadline=None, derandomize=True, database=None)
FIELDS = {"UpdateDate", "UpdateTime", "DocEntry", "CardCode", "DocTotal", "Comments"}
OPS = {"eq": operator.eq, "ne": operator.ne, "gt": operator.gt, "ge": operator.ge,
       "lt": operator.lt, "le": operator.le}

dates = st.sampled_from(["2024-02-28", "2024-02-29", "2024-03-01", "2025-01-01"])
times = st.sampled_from(["00:00:00", "09:05:00", "14:22:05", "14:22:06", "23:59:59"])
codes = st.sampled_from(["C00001", "C00002", "C10000", "O'Neil"])
records = st.lists(st.fixed_dictionaries({
    "UpdateDate": dates, "UpdateTime": times, "DocEntry": st.integers(1, 9),
    "CardCode": codes, "DocTotal": st.sampled_from([0.0, 10.5, 99.99, 1000.0]),
    "Comments": st.one_of(st.none(), st.just("ok"))}), min_size=1, max_size=15)

comparison = st.one_of(
    st.tuples(st.just("UpdateDate"), st.sampled_from(sorted(OPS)), dates),
    st.tuples(st.just("UpdateTime"), st.sampled_from(sorted(OPS)), times),
    st.tuples(st.just("DocEntry"), st.sampled_from(sorted(OPS)), st.integers(0, 10)),
    st.tuples(st.just("CardCode"), st.sampled_from(sorted(OPS)), codes),
    st.tuples(st.just("DocTotal"), st.sampled_from(sorted(OPS)),
              st.sampled_from([0, 10.5, 99.99, 500])),
    st.tuples(st.just("Comments"), st.sampled_from(["eq", "ne"]), st.none()),
).map(lambda t: ("cmp", *t))
expressions = st.recursive(
    comparison,
    lambda inner: st.one_of(st.tuples(st.sampled_from(["and", "or"]), inner, inner),
                            st.tuples(st.just("not"), inner)),
    max_leaves=8)


def render(node: tuple) -> str:
    kind = node[0]
    if kind == "cmp":
        _, field, op, value = node
        if value is None:
            literal = "null"
        elif isinstance(value, str):
            literal = "'" + value.replace("'", "''") + "'"
        else:
            literal = repr(value)
        return f"{field} {op} {literal}"
    if kind == "not":
        return f"not ({render(node[1])})"
    return f"({render(node[1])}) {kind} ({render(node[2])})"


def evaluate(node: tuple, record: dict) -> bool:
    kind = node[0]
    if kind == "cmp":
        _, field, op, value = node
        have = record[field]
        if value is None or have is None:
            return OPS[op](have, value) if op in ("eq", "ne") else False
        return OPS[op](have, value)
    if kind == "not":
        return not evaluate(node[1], record)
    left, right = evaluate(node[1], record), evaluate(node[2], record)
    return (left and right) if kind == "and" else (left or right)


@PROFILE
@given(expr=expressions, rows=records)
def test_filter_matches_a_direct_evaluation(expr, rows):
    predicate = compile_filter(render(expr), FIELDS, "Invoices")
    assert [predicate(r) for r in rows] == [evaluate(expr, r) for r in rows]


@PROFILE
@given(date=dates, time=times, rows=records)
def test_keyset_boundary_never_loses_a_record(date, time, rows):
    """The contract's incremental filter selects exactly the records at or after the cursor."""
    text = f"UpdateDate gt '{date}' or (UpdateDate eq '{date}' and UpdateTime ge '{time}')"
    predicate = compile_filter(text, FIELDS, "Invoices")
    chosen = [r for r in rows if predicate(r)]
    assert chosen == [r for r in rows if (r["UpdateDate"], r["UpdateTime"]) >= (date, time)]
