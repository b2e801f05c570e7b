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

Why links are part of the write: a pair HubSpot refuses is kept in `refused` (with HubSpot's
answer) and never recorded as made; the sink that queued it reads `refused` in its `after`
callback and dead-letters the record instead of confirming it, so the link is tried again on
replay or on the next run, and STATE never passes a record whose links are missing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from target_hubspot_finance.hubspot.client import BATCH_LIMIT, HubSpotClient
from target_hubspot_finance.ledger import Ledger

LOGGER = logging.getLogger("target_hubspot_finance")
Pair = tuple[str, str]
Kind = tuple[str, str]  # (from object type, to object type)


def refused_pairs(failures: list[dict], chunk: Sequence[Pair]) -> dict[Pair, Any]:
    """Which pairs of one call HubSpot refused: by the ids an error names (`fromId`/`toId`,
    `objectId`, or a whole-call failure's `pairs`); an error naming none refuses them all."""
    out: dict[Pair, Any] = {}
    for err in failures:
        ctx = (err.get("context") or {}) if isinstance(err, dict) else {}
        if isinstance(err, dict) and err.get("pairs"):
            hits = [(str(a), str(b)) for a, b in err["pairs"]]
        elif ctx.get("fromId") and ctx.get("toId"):
            hits = [p for p in chunk if p[0] in map(str, ctx["fromId"])
                    and p[1] in map(str, ctx["toId"])]
        elif ctx.get("objectId") or ctx.get("fromObjectId"):
            named = {str(i) for i in (ctx.get("objectId") or ctx.get("fromObjectId"))}
            hits = [p for p in chunk if p[0] in named or p[1] in named]
        else:
            hits = []
        for pair in hits or list(chunk):
            out.setdefault(pair, err)
    return out


def associate(client: HubSpotClient, ledger: Ledger, from_type: str, to_type: str,
              pairs: Iterable[Pair]) -> dict[Pair, Any]:
    """Send default associations now; record the made ones, return the refused ones."""
    wanted = sorted({(str(a), str(b)) for a, b in pairs})
    if not wanted:
        return {}
    refused = refused_pairs(client.associate_default(from_type, to_type, wanted), wanted)
    ledger.record_links(from_type, to_type, [p for p in wanted if p not in refused])
    if refused:
        LOGGER.warning("%d %s→%s associations refused: %s", len(refused), from_type, to_type,
                       next(iter(refused.values())))
    return refused


class LinkBuffer:
    """Default associations per kind, sent 100 at a time; `flush()` sends the remainders."""

    def __init__(self, client: HubSpotClient, ledger: Ledger, size: int = BATCH_LIMIT,
                 ready: Callable[[], None] | None = None) -> None:
        self.client = client
        self.ledger = ledger
        self.size = size
        self.ready = ready  # before the first call: the portal check and custom properties
        self.refused: dict[tuple[Kind, Pair], Any] = {}  # this run's refused pairs → answer
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
        if self.ready is not None:
            self.ready()
        failures = self.client.associate_default(from_type, to_type, chunk)
        for pair in chunk:  # removed only after the call returned (a raise keeps them queued)
            del queue[pair]
        refused = refused_pairs(failures, chunk) if failures else {}
        for pair in chunk:  # the latest answer counts: a pair made now is no longer refused
            if pair in refused:
                self.refused[(kind, pair)] = refused[pair]
            else:
                self.refused.pop((kind, pair), None)
        if refused:
            LOGGER.warning("%d %s→%s associations refused: %s", len(refused), from_type,
                           to_type, next(iter(refused.values())))
        self.ledger.record_links(from_type, to_type, [p for p in chunk if p not in refused])
