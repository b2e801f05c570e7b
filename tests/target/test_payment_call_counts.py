"""Payments cost ceil(n/100) calls per kind (within 5 %, +1), however the drains fall.

The promise: one upsert per 100 HubSpot payments and one association call per 100 payment→
invoice and payment→company pairs. Before the LinkBuffer (hubspot/associations.py) every
1,000-record drain ended with short calls, and links of payments that arrived before their
invoice went out in small calls at every invoice drain (+13 % at 100k invoices).
"""

from __future__ import annotations

import contextlib
import io
import math

import pytest
from target_factory import customer, invoice, messages, payment, run
from target_hubspot_finance_testutil import cfg, ledger_rows, settled

from target_hubspot_finance.hubspot.associations import LinkBuffer
from target_hubspot_finance.target import TargetHubSpotFinance

INVOICES = 1500
PAYMENTS = 2400  # every third pays two invoices: 3,200 HubSpot payments, drains of 1-2 lines


def _payments() -> list[dict]:
    out = []
    for n in range(1, PAYMENTS + 1):
        first = (n - 1) % INVOICES + 1
        applies = [(first, 50.0)]
        if n % 3 == 0:
            applies.append((first % INVOICES + 1, 25.0))
        out.append(payment(n, card=n % 5 + 1, applies=applies))
    return out


def _calls(hs, *parts: str) -> int:
    return sum(1 for r in hs.requests if r.method == "POST" and all(p in r.path for p in parts))


def _ceiling(n: int) -> float:
    return 1.05 * math.ceil(n / 100) + 1


@pytest.mark.parametrize("payments_first", [False, True], ids=["invoice-first", "payment-first"])
def test_payment_upserts_and_links_stay_within_5_percent_of_one_call_per_100(
        hubspot_sandbox, target_config, payments_first: bool) -> None:
    hs = hubspot_sandbox
    pays = ("incoming_payments", _payments())
    invs = ("invoices", [invoice(n, card=n % 5 + 1, lines=1) for n in range(1, INVOICES + 1)])
    streams = [("business_partners", [customer(c) for c in range(1, 6)]),
               *([pays, invs] if payments_first else [invs, pays])]
    hs.set_rate_limit(10_000)
    # drains of 250 records: ten payment drains, six invoice drains, each of which used to
    # end on short calls
    target, states = run(cfg(target_config, rate_limit_per_10s=10_000, batch_size_rows=250),
                         messages(*streams, state={"done": True}))
    settled(hs)

    lines = len(hs.objects("commerce_payments"))
    to_invoice = hs.associations("commerce_payments", "invoices")
    to_company = hs.associations("commerce_payments", "companies")
    assert lines == PAYMENTS + PAYMENTS // 3
    assert len({(a, b) for a, b, _ in to_invoice}) == lines
    assert len({(a, b) for a, b, _ in to_company}) == lines
    # new payments are created (links inline), known ones upserted: together one call per 100
    assert _calls(hs, "objects/commerce_payments/batch/") <= _ceiling(lines)
    assert _calls(hs, "associations/commerce_payments/invoices/") <= _ceiling(lines)
    assert _calls(hs, "associations/commerce_payments/companies/") <= _ceiling(lines)
    # every waiting link was sent and its pending row dropped before the STATE went out
    assert states == [{"done": True}]
    assert ledger_rows(target_config, "pending_links") == []
    assert target.links.pending() == 0


def test_state_is_written_only_after_every_queued_link_is_sent(hubspot_sandbox,
                                                               target_config) -> None:
    """A drain_all after each record: each STATE must find the buffer empty, the links in
    HubSpot, and the payments recorded synced (so a rerun sends nothing)."""
    hs = hubspot_sandbox
    seen: list[tuple[int, int, int]] = []

    class Probe(TargetHubSpotFinance):
        _MAX_RECORD_AGE_IN_MINUTES = -1.0  # drain_all (and STATE) after every record

        def _write_state_message(self, state: dict) -> None:
            links = self.__dict__.get("links")
            seen.append((links.pending() if links else 0,
                         len(hs.associations("commerce_payments", "invoices")),
                         len(ledger_rows(target_config, "synced_objects"))))
            super()._write_state_message(state)

    text = messages(("invoices", [invoice(n, lines=1) for n in (1, 2, 3)]),
                    ("incoming_payments", [payment(n, applies=[(n, 10.0)]) for n in (1, 2, 3)]),
                    state_every=1)
    with contextlib.redirect_stdout(io.StringIO()):
        Probe(config=cfg(target_config), validate_config=True).listen(io.StringIO(text))
    settled(hs)
    assert seen and all(pending == 0 for pending, _, _ in seen)
    assert seen[-1][1] == 3  # the last STATE came after all three payment→invoice links
    before = settled(hs)
    run(cfg(target_config), text)
    assert settled(hs) == before  # nothing left half-done: the rerun makes no call


class _Client:
    """associate_default stand-in: records the calls, can fail (raise) once."""

    def __init__(self, raise_on_call: int | None = None) -> None:
        self.calls: list[list[tuple[str, str]]] = []
        self.raise_on_call = raise_on_call

    def associate_default(self, from_type: str, to_type: str, pairs: list) -> list:
        if self.raise_on_call == len(self.calls):
            self.raise_on_call = None
            raise RuntimeError("HubSpot unreachable")
        self.calls.append(list(pairs))
        return []


class _Ledger:
    def __init__(self) -> None:
        self.links: list[tuple[str, str]] = []

    def record_links(self, from_type: str, to_type: str, pairs: list) -> None:
        self.links += pairs


def test_buffer_sends_full_calls_and_runs_bookkeeping_only_after_the_flush() -> None:
    client, ledger, done = _Client(), _Ledger(), []
    buffer = LinkBuffer(client, ledger)  # type: ignore[arg-type]
    for drain in range(3):  # three drains of 70 pairs: 2 full calls now, the rest at flush
        buffer.add("commerce_payments", "invoices",
                   [(f"p{drain}-{i}", "inv") for i in range(70)])
        buffer.after(lambda d=drain: done.append(d))
    buffer.add("commerce_payments", "invoices", [("p2-69", "inv")])  # already queued
    assert [len(c) for c in client.calls] == [100, 100]
    assert done == []  # pairs still queued: the records are not confirmed yet
    buffer.flush()
    assert [len(c) for c in client.calls] == [100, 100, 10]
    assert done == [0, 1, 2] and len(ledger.links) == 210 and buffer.pending() == 0


def test_a_failed_call_keeps_its_pairs_queued_and_the_bookkeeping_unrun() -> None:
    client, ledger, done = _Client(raise_on_call=0), _Ledger(), []
    buffer = LinkBuffer(client, ledger)  # type: ignore[arg-type]
    buffer.add("commerce_payments", "companies", [(f"p{i}", "c1") for i in range(30)])
    buffer.after(lambda: done.append(True))
    with pytest.raises(RuntimeError):
        buffer.flush()
    assert done == [] and buffer.pending() == 30 and ledger.links == []
