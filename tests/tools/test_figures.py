"""The reconcile core: both sides folded by one rule, differences named per customer and figure."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from target_hubspot_finance.commands.figures import (
    InvoiceRow,
    PaymentRow,
    compare,
    fold,
    to_date,
    to_decimal,
    write_csv,
)

D = Decimal


def invoices() -> list[InvoiceRow]:
    return [
        InvoiceRow("C001", "1", D("100.00"), D("0")),
        InvoiceRow("C001", "2", D("50.50"), D("50.50")),
        InvoiceRow("C001", "3", D("999"), D("999"), voided=True),
        InvoiceRow("C002", "4", D("10"), D("5")),
    ]


def payments() -> list[PaymentRow]:
    return [PaymentRow("C001", date(2024, 3, 1)), PaymentRow("C001", date(2024, 5, 2)),
            PaymentRow("C001", date(2024, 6, 1), voided=True), PaymentRow("C002", None)]


def test_fold_counts_live_invoices_and_takes_the_latest_payment():
    figures = fold(invoices(), payments())
    c1 = figures["C001"]
    assert (c1.invoices, c1.total_invoiced, c1.open_balance) == (
        2, {"": D("150.50")}, {"": D("50.50")})
    assert c1.last_payment == date(2024, 5, 2)
    assert figures["C002"].last_payment is None


def test_an_invoice_hubspot_holds_twice_is_a_difference_naming_it():
    """A document created twice in HubSpot bills its customer twice: never an all-clear."""
    once = [InvoiceRow("C1", "5001", D("100"), D("0"), doc_entry="17", currency="USD",
                       status="paid")]
    found = compare(fold(once, []), fold(once * 2, []), customers=["C1"])
    assert [(d.figure, d.sap, d.hubspot) for d in found] == [
        ("invoices", "1", "2"), ("total_invoiced USD", "100.00", "200.00")]
    assert all("more than once in HubSpot: 5001 (2 times)" in d.detail for d in found)


def test_a_duplicate_voided_by_hand_beside_its_live_copy_is_settled():
    """HubSpot lets a user void an open invoice, not delete it: a duplicate voided by hand
    beside the live copy no longer bills the customer, so nothing differs; voiding the only
    copy still does."""
    live = InvoiceRow("C1", "5001", D("100"), D("100"), doc_entry="17", status="open")
    voided = InvoiceRow("C1", "5001", D("100"), D("0"), doc_entry="17", status="voided")
    sap = fold([live], [])
    for hubspot in ([live, voided], [voided, live]):
        assert compare(sap, fold(hubspot, [])) == []
    assert [d.figure for d in compare(sap, fold([voided], []))] == [
        "open_balance", "status"]


def test_identical_sides_have_no_difference():
    assert compare(fold(invoices(), payments()), fold(invoices(), payments())) == []


def test_missing_invoice_is_named_with_its_document_number():
    hubspot = fold([r for r in invoices() if r.doc_num != "2"], payments())
    found = compare(fold(invoices(), payments()), hubspot)
    assert {(d.card_code, d.figure) for d in found} == {
        ("C001", "invoices"), ("C001", "total_invoiced"), ("C001", "open_balance")}
    assert all("missing in HubSpot: 2" in d.detail for d in found)


def test_amounts_within_a_cent_are_equal_beyond_it_differ():
    near = [InvoiceRow("C002", "4", D("10.004"), D("5"))]
    far = [InvoiceRow("C002", "4", D("10.02"), D("5"))]
    sap = fold([InvoiceRow("C002", "4", D("10"), D("5"))], [])
    assert compare(sap, fold(near, [])) == []
    assert [d.figure for d in compare(sap, fold(far, []))] == ["total_invoiced"]


def test_customer_absent_from_both_sides_is_still_listed_and_equal():
    assert compare({}, {}, customers=["C009"]) == []
    found = compare(fold([InvoiceRow("C009", "7", D(1), D(1))], []), {}, customers=["C009"])
    assert found[0].line().startswith("C009: invoices SAP=1 HubSpot=0")


def test_last_payment_difference_is_reported():
    hubspot = fold(invoices(), payments()[:1])
    found = compare(fold(invoices(), payments()), hubspot)
    assert [(d.figure, d.sap, d.hubspot) for d in found] == [
        ("last_payment", "2024-05-02", "2024-03-01")]


def test_csv_has_one_row_per_difference():
    out = io.StringIO()
    write_csv(compare(fold(invoices(), payments()), {}), out)
    lines = out.getvalue().strip().splitlines()
    assert lines[0] == "card_code,figure,sap,hubspot,detail"
    assert len(lines) == 1 + 7  # C001: 4 figures; C002: 3 (it has no payment date)


def test_value_parsing_accepts_both_sides_forms():
    assert to_decimal("12.30") == D("12.30") and to_decimal(None) == 0 and to_decimal("x") == 0
    assert to_date("2024-03-05T00:00:00Z") == date(2024, 3, 5)
    assert to_date("1709596800000") == date(2024, 3, 5)
    assert to_date("") is None


amounts = st.decimals(min_value=0, max_value=10**6, places=2)


@given(st.lists(st.tuples(st.sampled_from(["A", "B", "C"]), amounts, amounts), max_size=30),
       st.integers(min_value=0, max_value=29),
       st.decimals(min_value=Decimal("0.02"), max_value=10**6, places=2))
def test_changing_one_invoice_total_flags_exactly_its_customer(rows, pick, delta):
    sap_rows = [InvoiceRow(c, str(i), t, o) for i, (c, t, o) in enumerate(rows)]
    assert compare(fold(sap_rows, []), fold(sap_rows, [])) == []
    if not sap_rows:
        return
    victim = sap_rows[pick % len(sap_rows)]
    changed = [r if r is not victim else InvoiceRow(r.card_code, r.doc_num, r.total + delta,
                                                     r.open_amount) for r in sap_rows]
    found = compare(fold(sap_rows, []), fold(changed, []))
    assert {d.card_code for d in found} == {victim.card_code}
    assert [d.figure for d in found] == ["total_invoiced"]


def test_documents_count_by_docentry_and_sums_stay_per_currency():
    """Two SAP documents sharing a DocNum (two numbering series) are two invoices; an EUR and a
    USD invoice are never added together."""
    sap = fold([InvoiceRow("C1", "17", D("100"), D("0"), doc_entry="1", currency="USD"),
                InvoiceRow("C1", "17", D("80"), D("80"), doc_entry="2", currency="EUR")], [])
    hubspot = fold([InvoiceRow("C1", "17", D("100"), D("0"), doc_entry="1", currency="USD")], [])
    assert sap["C1"].invoices == 2
    assert sap["C1"].total_invoiced == {"USD": D("100"), "EUR": D("80")}
    found = {(d.figure, d.sap, d.hubspot) for d in compare(sap, hubspot)}
    assert found == {("invoices", "2", "1"), ("total_invoiced EUR", "80.00", "0.00"),
                     ("open_balance EUR", "80.00", "0.00")}


def test_status_and_currency_of_one_document_are_compared():
    sap = fold([InvoiceRow("C1", "5", D("10"), D("10"), doc_entry="5", currency="EUR",
                           status="open")], [])
    voided = fold([InvoiceRow("C1", "5", D("10"), D("10"), doc_entry="5", currency="USD",
                              status="voided")], [])
    found = [(d.figure, d.sap, d.hubspot, d.detail) for d in compare(sap, voided)]
    assert ("status", "open", "voided", "document 5") in found
    assert ("currency", "EUR", "USD", "document 5") in found
    closed = fold([InvoiceRow("C1", "5", D("10"), D("0"), doc_entry="5", status="paid|voided")],
                  [])
    for shown in ("paid", "voided", ""):
        hubspot = fold([InvoiceRow("C1", "5", D("10"), D("0"), doc_entry="5", status=shown)], [])
        assert compare(closed, hubspot) == []
