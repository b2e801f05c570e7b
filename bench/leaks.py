"""Search outputs for secrets: the fixed test password and token, and SAP session ids."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from pathlib import Path

SESSION_ID = re.compile(r"b1s-[A-Za-z0-9_-]+")


def find_leaks(text: str, secrets: Iterable[str]) -> list[str]:
    """Each secret (or session id) found in `text`, as a short description without the value."""
    found = [f"secret #{i} ({len(s)} chars)" for i, s in enumerate(secrets) if s and s in text]
    if SESSION_ID.search(text):
        found.append("an SAP session id (b1s-...)")
    return found


def sqlite_dump(path: Path) -> str:
    """Every row of every table of a SQLite file as text (the target's ledger)."""
    if not path.exists():
        return ""
    lines = []
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"'):  # noqa: S608 - names from the file
                lines.append(f"{table}: {row!r}")
    return "\n".join(lines)
