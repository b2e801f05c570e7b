"""Records committed late: changes stamped when made, visible only when their transaction commits.

On SAP (a SQL database underneath) a document saved in a long transaction carries the
UpdateDate/UpdateTime (and DocEntry) of the moment it was written, but no reader sees it until
the commit; a reader that probed in between has already moved its bookmark past that stamp.
`sb.transaction()` reproduces it: `tx.create`/`tx.update` stamp (and reserve the key) now,
`tx.commit()` makes them visible at once, or the sandbox commits when request number N arrives
(`sb.transaction(commit_at_request=N)`).
"""

from __future__ import annotations

import copy
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sap_sandbox.store import Store

Record = dict[str, Any]


class Transaction:
    """Pending changes of one SAP transaction; nothing is visible before `commit()`."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._pending: list[tuple[str, Record]] = []
        self._lock = threading.Lock()
        self.committed = False

    def create(self, entity_set: str, values: Record) -> Record:
        """Stamp and key a new record now (as `sb.create`); it shows up at commit."""
        rec = self._store.prepare_create(entity_set, values)
        with self._lock:
            self._pending.append((entity_set, rec))
        return copy.deepcopy(rec)

    def update(self, entity_set: str, key: Any, values: Record) -> Record:
        """Stamp a change now (as `sb.update`); readers see the old record until commit."""
        rec = self._store.prepare_update(entity_set, key, values)
        with self._lock:
            self._pending.append((entity_set, rec))
        return copy.deepcopy(rec)

    def commit(self) -> None:
        """Make every pending change visible at once (idempotent)."""
        with self._lock:
            pending, self._pending = self._pending, []
            self.committed = True
        with self._store.lock:
            for entity_set, rec in pending:
                self._store.put(entity_set, rec)
