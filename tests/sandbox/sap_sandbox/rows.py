"""Compact storage for the nested arrays of generated documents (DocumentLines, PaymentInvoices).

A document line as a dict costs ~650 bytes; as a tuple under a shared field-name tuple, ~200.
At 100k invoices that is the difference between ~350 MB and ~170 MB. `Rows` is immutable; it
turns back into a list of dicts wherever a record leaves the store (deepcopy, JSON), so no
caller ever sees it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

_SHAPES: dict[tuple[str, ...], tuple[str, ...]] = {}


class Rows:
    """An immutable list of same-shaped dicts, stored as tuples."""

    __slots__ = ("_fields", "_rows")

    def __init__(self, fields: tuple[str, ...], rows: tuple[tuple[Any, ...], ...]) -> None:
        self._fields = _SHAPES.setdefault(fields, fields)
        self._rows = rows

    @classmethod
    def pack(cls, items: list[dict[str, Any]]) -> Rows | list[dict[str, Any]]:
        """Rows for a non-empty list of dicts with the same keys in one order; else the list."""
        if not items:
            return items
        fields = tuple(items[0])
        if any(tuple(item) != fields for item in items):
            return items
        return cls(fields, tuple(tuple(item.values()) for item in items))

    def with_field(self, name: str, value: Any) -> Rows:
        """A copy with `name` set to `value` on every row (e.g. LineStatus when a doc closes)."""
        at = self._fields.index(name)
        return Rows(self._fields, tuple((*row[:at], value, *row[at + 1:]) for row in self._rows))

    def to_list(self) -> list[dict[str, Any]]:
        fields = self._fields
        return [dict(zip(fields, row, strict=False)) for row in self._rows]

    def __deepcopy__(self, memo: dict[int, Any]) -> list[dict[str, Any]]:
        return self.to_list()

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.to_list())

    def __getitem__(self, index: int) -> dict[str, Any]:
        return dict(zip(self._fields, self._rows[index], strict=False))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Rows):
            return self._fields == other._fields and self._rows == other._rows
        return isinstance(other, list) and self.to_list() == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Rows({self.to_list()!r})"


def json_default(value: object) -> Any:
    """`json.dumps(default=...)` hook: Rows serialise as the list they stand for."""
    if isinstance(value, Rows):
        return value.to_list()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
