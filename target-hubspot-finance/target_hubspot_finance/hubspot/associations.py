"""Association pairs held across drains so every association call carries 100 pairs.

Why: each singer-sdk drain (1,000 records) used to end with its own short association call per
kind, and links resolved later (payments that arrived before their invoice) were sent in small
extra calls, one set per invoice drain: +13 % over ceil(links/100) at 100k invoices. The buffer
sends a call as soon as 100 pairs of one kind are waiting and keeps the rest for the next drain.

Why state stays correct: the target flushes the buffer at the end of every `drain_all`, before
singer-sdk writes a STATE message (target.py `_drain_all`), and the bookkeeping that says "this
record is done" (`after` callbacks, e.g. the payments' ledger rows) runs only once every pair
queued before it has been sent. A run that stops in between leaves those records unconfirmed,
so the next run sends them again (upserts and default associations are idempotent).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from target_hubspot_finance.hubspot.client import BATCH_LIMIT, HubSpotClient
from target_hubspot_finance.ledger import Ledger

LOGGER = logging.getLogger("target_hubspot_finance")
Pair = tuple[str, str]
Kind = tuple[str, str]  # (from object type, to object type)


class LinkBuffer:
    """Default associations per kind, sent 100 at a time; `flush()` sends the remainders."""

    def __init__(self, client: HubSpotClient, ledger: Ledger, size: int = BATCH_LIMIT) -> None:
        self.client = client
        self.ledger = ledger
        self.size = size
        self._queued: dict[Kind, dict[Pair, None]] = {}
        self._after: list[Callable[[], None]] = []

    def add(self, from_type: str, to_type: str, pairs: Iterable[Pair]) -> None:
        """Queue pairs (duplicates of queued ones are dropped); send every full call now."""
        queue = self._queued.setdefault((from_type, to_type), {})
        for a, b in pairs:
            queue[(str(a), str(b))] = None
        while len(queue) >= self.size:
            self._send((from_type, to_type), self.size)

    def after(self, callback: Callable[[], None]) -> None:
        """Run `callback` once every pair queued so far has been sent (at the latest at flush)."""
        if self.pending():
            self._after.append(callback)
        else:
            callback()

    def pending(self) -> int:
        return sum(len(q) for q in self._queued.values())

    def flush(self) -> None:
        """Send every queued pair (short calls allowed), then run the `after` callbacks."""
        for kind, queue in self._queued.items():
            while queue:
                self._send(kind, self.size)
        callbacks, self._after = self._after, []
        for callback in callbacks:
            callback()

    def _send(self, kind: Kind, count: int) -> None:
        queue = self._queued[kind]
        chunk = list(queue)[:count]
        from_type, to_type = kind
        failures = self.client.associate_default(from_type, to_type, chunk)
        for pair in chunk:  # removed only after the call returned (a raise keeps them queued)
            del queue[pair]
        if failures:  # as before: logged, and the call's pairs are not recorded as links
            LOGGER.warning("%d %s→%s associations failed: %s", len(failures), from_type,
                           to_type, failures[:1])
        else:
            self.ledger.record_links(from_type, to_type, chunk)
