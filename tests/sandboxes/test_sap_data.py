"""The SAP sandbox's generated company: deterministic, realistic and internally consistent."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from sap_sandbox import DataSpec, SapSandbox
from sap_sandbox.schema import HUBSPOT_UDFS

SPEC = DataSpec(seed=21, customers=60, suppliers=6, leads=6, invoices=600, credit_notes=20,
                payments=300, anchor=datetime(2026, 6, 1))


@pytest.fixture(scope="module")
def data():
    sb = SapSandbox(data=SPEC)
    return {name: sb.all(name) for name in ("BusinessPartners", "Invoices", "CreditNotes",
                                            "IncomingPayments", "ChartOfAccounts",
                                            "ProfitCenters", "PaymentTermsTypes")}


def test_same_seed_and_anchor_give_identical_data(data):
    again = SapSandbox(data=SPEC)
    assert again.all("Invoices") == data["Invoices"]
    other = SapSandbox(data=DataSpec(**{**SPEC.__dict__, "seed": 22}))
    assert other.all("Invoices") != data["Invoices"]


def test_sizes_follow_the_spec(data):
    kinds = Counter(bp["CardType"] for bp in data["BusinessPartners"])
    assert kinds == {"cCustomer": 60, "cSupplier": 6, "cLid": 6}
    assert len(data["Invoices"]) == 600 and len(data["CreditNotes"]) == 20
    assert len(data["IncomingPayments"]) == 300


def test_lines_use_real_accounts_and_profit_centers(data):
    accounts = {a["Code"] for a in data["ChartOfAccounts"] if a["ActiveAccount"] == "tYES"}
    centers = {c["CenterCode"] for c in data["ProfitCenters"]}
    for doc in data["Invoices"] + data["CreditNotes"]:
        assert 1 <= len(doc["DocumentLines"]) <= 5
        for line in doc["DocumentLines"]:
            assert line["AccountCode"] in accounts
            assert line["CostingCode"] in centers


def test_payments_apply_to_real_invoices_of_the_same_customer(data):
    invoices = {i["DocEntry"]: i for i in data["Invoices"]}
    applied = defaultdict(float)
    for pay in data["IncomingPayments"]:
        assert pay["PaymentInvoices"]
        # SAP's Payment has no CheckSum/CreditSum: checks and cards are collections. Sums are
        # in the payment's currency: a foreign one's cash is CashSumFC, its lines' AppliedFC.
        foreign = pay["DocCurrency"] != "USD"
        total = (pay["CashSumFC" if foreign else "CashSum"] + pay["TransferSum"]
                 + sum(c["CheckSum"] for c in pay["PaymentChecks"])
                 + sum(c["CreditSum"] for c in pay["PaymentCreditCards"]))
        paid = "AppliedFC" if foreign else "SumApplied"
        assert total == pytest.approx(sum(p[paid] for p in pay["PaymentInvoices"]))
        for line in pay["PaymentInvoices"]:
            inv = invoices[line["DocEntry"]]
            assert inv["CardCode"] == pay["CardCode"]
            assert inv["Cancelled"] == "tNO" and inv["CancelStatus"] == "csNo"
            assert pay["DocDate"] <= inv["UpdateDate"]  # paying re-stamps the invoice
            applied[inv["DocEntry"]] += line["SumApplied"]
    for entry, inv in invoices.items():
        assert inv["PaidToDate"] == pytest.approx(applied.get(entry, 0.0), abs=0.011)


def test_payments_pay_by_cash_transfer_check_and_card(data):
    ways = Counter()
    for pay in data["IncomingPayments"]:
        assert "UpdateDate" not in pay and "CheckSum" not in pay and "CreditSum" not in pay
        ways.update(k for k in ("CashSum", "TransferSum") if pay[k])
        ways.update(k for k in ("PaymentChecks", "PaymentCreditCards") if pay[k])
    assert set(ways) == {"CashSum", "TransferSum", "PaymentChecks", "PaymentCreditCards"}


def test_document_status_matches_payments_and_cancellation(data):
    statuses = Counter()
    cancellations = Counter((i["CardCode"], i["DocTotal"]) for i in data["Invoices"]
                            if i["CancelStatus"] == "csCancellation")
    for inv in data["Invoices"]:
        if inv["CancelStatus"] == "csCancellation":
            assert inv["DocumentStatus"] == "bost_Close" and inv["Cancelled"] == "tNO"
            statuses["cancellation"] += 1
        elif inv["Cancelled"] == "tYES":
            assert inv["DocumentStatus"] == "bost_Close" and inv["PaidToDate"] == 0.0
            assert inv["CancelStatus"] == "csYes"
            assert cancellations[(inv["CardCode"], inv["DocTotal"])] >= 1
            statuses["cancelled"] += 1
        elif inv["PaidToDate"] == inv["DocTotal"]:
            assert inv["DocumentStatus"] == "bost_Close"
            statuses["paid"] += 1
        else:
            assert inv["DocumentStatus"] == "bost_Open" and inv["PaidToDate"] < inv["DocTotal"]
            statuses["partial" if inv["PaidToDate"] else "open"] += 1
    assert all(statuses[k] > 0 for k in ("cancelled", "paid", "partial", "open")), statuses
    assert statuses["cancellation"] == statuses["cancelled"]


def test_foreign_currency_amounts_are_consistent(data):
    """EUR documents in the USD company: no suffix = USD, Fc/FC = EUR, DocRate between."""
    foreign = [i for i in data["Invoices"] if i["DocCurrency"] == "EUR"]
    assert len(foreign) > len(data["Invoices"]) * 0.05
    for inv in foreign:
        rate = inv["DocRate"]
        assert inv["DocTotal"] == pytest.approx(inv["DocTotalFc"] * rate, abs=0.05)
        assert inv["VatSum"] == pytest.approx(inv["VatSumFc"] * rate, abs=0.05)
        assert inv["PaidToDate"] == pytest.approx(inv["PaidToDateFC"] * rate, abs=0.05)
        assert sum(li["RowTotalFC"] for li in inv["DocumentLines"]) + inv["VatSumFc"] == (
            pytest.approx(inv["DocTotalFc"], abs=0.05))
    domestic = [i for i in data["Invoices"] if i["DocCurrency"] == "USD"]
    assert all(i["DocTotalFc"] == 0.0 and i["PaidToDateFC"] == 0.0 for i in domestic)
    by_entry = {i["DocEntry"]: i for i in foreign}
    applied_fc = defaultdict(float)
    for pay in data["IncomingPayments"]:
        for line in pay["PaymentInvoices"]:
            if line["DocEntry"] in by_entry:
                rate = by_entry[line["DocEntry"]]["DocRate"]
                assert line["AppliedFC"] == pytest.approx(line["SumApplied"] / rate, abs=0.05)
                applied_fc[line["DocEntry"]] += line["AppliedFC"]
    for entry, inv in by_entry.items():
        assert inv["PaidToDateFC"] == pytest.approx(applied_fc[entry], abs=0.011)


def test_documents_carry_a_series_and_a_doc_num():
    single = SapSandbox(data=SPEC).all("Invoices")
    assert {i["Series"] for i in single} == {4}
    assert len({i["DocNum"] for i in single}) == len(single)
    yearly = SapSandbox(data=DataSpec(**{**SPEC.__dict__, "numbering": "yearly"})).all("Invoices")
    series = {i["Series"] for i in yearly}
    assert len(series) >= 4  # two a year, over two or three years
    by_num = Counter(i["DocNum"] for i in yearly)
    assert by_num[1] == len(series)  # every series starts at 1: DocNum repeats across series
    assert len({(i["Series"], i["DocNum"]) for i in yearly}) == len(yearly)


def test_credit_notes_point_at_the_invoice_they_credit(data):
    invoices = {i["DocEntry"]: i for i in data["Invoices"]}
    for cn in data["CreditNotes"]:
        line = cn["DocumentLines"][0]
        inv = invoices[line["BaseEntry"]]
        assert line["BaseType"] == 13 and inv["CardCode"] == cn["CardCode"]
        assert inv["DocumentLines"][line["BaseLine"]]["ItemCode"] == line["ItemCode"]
        assert cn["DocTotal"] <= inv["DocTotal"] + 0.01


def test_contacts_are_realistic_and_invoices_reference_them(data):
    customers = [bp for bp in data["BusinessPartners"] if bp["CardType"] == "cCustomer"]
    with_contacts = [bp for bp in customers if bp["ContactEmployees"]]
    assert len(with_contacts) > len(customers) * 0.6
    assert len(with_contacts) < len(customers)  # some customers have none
    assert all(1 <= len(bp["ContactEmployees"]) <= 3 for bp in with_contacts)
    emails = [c["E_Mail"] for bp in with_contacts for c in bp["ContactEmployees"]]
    assert sum(1 for e in emails if e and "@" in e) > len(emails) * 0.8
    codes = {bp["CardCode"]: {c["InternalCode"] for c in bp["ContactEmployees"]}
             for bp in customers}
    for inv in data["Invoices"]:
        if inv["ContactPersonCode"] is not None:
            assert inv["ContactPersonCode"] in codes[inv["CardCode"]]


def test_business_partner_balance_is_its_open_invoice_amount(data):
    open_amount = defaultdict(float)
    for inv in data["Invoices"]:
        if inv["DocumentStatus"] == "bost_Open":
            open_amount[inv["CardCode"]] += inv["DocTotal"] - inv["PaidToDate"]
    for bp in data["BusinessPartners"]:
        assert bp["CurrentAccountBalance"] == pytest.approx(open_amount[bp["CardCode"]], abs=0.02)


def test_update_stamps_span_two_years_and_often_share_a_second(data):
    stamps = [(r["UpdateDate"], r["UpdateTime"]) for name in ("BusinessPartners", "Invoices",
                                                              "CreditNotes")
              for r in data[name]]
    days = sorted(d for d, _ in stamps)
    assert days[0] >= (SPEC.anchor - timedelta(days=730)).strftime("%Y-%m-%d")
    assert days[-1] < SPEC.anchor.strftime("%Y-%m-%d")
    assert days[-1] > (SPEC.anchor - timedelta(days=30)).strftime("%Y-%m-%d")
    shared = [n for n in Counter(stamps).values() if n > 1]
    assert sum(shared) > len(stamps) * 0.3  # boundary seconds are common, as in batch postings


def test_value_forms_are_sap_s(data):
    inv = data["Invoices"][0]
    assert len(inv["UpdateDate"]) == 10 and inv["UpdateDate"][4] == "-"
    assert len(inv["UpdateTime"]) == 8 and inv["UpdateTime"][2] == ":"
    assert inv["Cancelled"] in ("tYES", "tNO")
    assert isinstance(inv["DocTotal"], float)
    assert not any(k.startswith("U_") for i in data["Invoices"] for k in i)  # standard company


def test_configured_udfs_are_filled_and_leave_other_values_alone(data):
    sb = SapSandbox(data=SPEC, udfs=HUBSPOT_UDFS)
    invoices = sb.all("Invoices")
    deal_ids = [i["U_HubSpotDealId"] for i in invoices if i["U_HubSpotDealId"]]
    assert 0 < len(deal_ids) < len(invoices) * 0.1
    assert all(isinstance(d, str) and d.isdigit() for d in deal_ids)
    assert all("U_HubSpotDealId" in c for c in sb.all("CreditNotes"))
    segments = {bp["U_Segment"] for bp in sb.all("BusinessPartners")}
    assert len(segments) > 1
    strip = [{k: v for k, v in i.items() if not k.startswith("U_")} for i in invoices]
    assert strip == data["Invoices"]


def test_due_date_follows_payment_terms(data):
    terms = {t["GroupNumber"]: t for t in data["PaymentTermsTypes"]}
    for inv in data["Invoices"][:100]:
        t = terms[inv["PaymentGroupCode"]]
        if t["NumberOfAdditionalMonths"] == 0:
            due = datetime.strptime(inv["DocDate"], "%Y-%m-%d") + timedelta(
                days=t["NumberOfAdditionalDays"])
            assert inv["DocDueDate"] == due.strftime("%Y-%m-%d")
        else:
            assert inv["DocDueDate"] > inv["DocDate"]


def test_nested_arrays_leave_the_store_as_plain_lists_of_dicts(data):
    inv = data["Invoices"][0]
    assert type(inv["DocumentLines"]) is list and type(inv["DocumentLines"][0]) is dict
    assert type(data["IncomingPayments"][0]["PaymentInvoices"]) is list


def test_compact_rows_round_trip():
    import copy
    import json

    from sap_sandbox.rows import Rows, json_default

    items = [{"LineNum": 0, "ItemCode": "A"}, {"LineNum": 1, "ItemCode": "B"}]
    rows = Rows.pack(items)
    assert isinstance(rows, Rows) and rows == items and len(rows) == 2 and rows[1] == items[1]
    assert copy.deepcopy(rows) == items and type(copy.deepcopy(rows)) is list
    assert json.loads(json.dumps({"x": rows}, default=json_default)) == {"x": items}
    assert rows.with_field("ItemCode", "Z")[0]["ItemCode"] == "Z" and rows[0]["ItemCode"] == "A"
    ragged = [{"a": 1}, {"b": 2}]
    assert Rows.pack(ragged) is ragged and Rows.pack([]) == []


def _credited(invoices: list[dict], credit_notes: list[dict]) -> dict[int, tuple[float, float]]:
    """Invoice DocEntry -> (local, FC) total of the credit notes based on it."""
    out: dict[int, tuple[float, float]] = {}
    for cn in credit_notes:
        entry = cn["DocumentLines"][0]["BaseEntry"]
        local, fc = out.get(entry, (0.0, 0.0))
        out[entry] = (local + cn["DocTotal"], fc + cn["DocTotalFc"])
    return out


def _applied(payments: list[dict]) -> dict[int, float]:
    applied: dict[int, float] = defaultdict(float)
    for pay in payments:
        for line in pay["PaymentInvoices"]:
            applied[line["DocEntry"]] += line["SumApplied"]
    return applied


CREDIT_SPEC = DataSpec(seed=4, customers=20, suppliers=2, leads=2, invoices=200,
                       credit_notes=60, payments=120, lines_per_invoice=(1, 2),
                       anchor=datetime(2026, 6, 1))


def test_credit_notes_leave_the_base_invoice_as_it_was_by_default():
    """credit_notes_reconcile=False: PaidToDate is what payments applied, credits not in it."""
    sb = SapSandbox(data=CREDIT_SPEC)
    invoices, notes = sb.all("Invoices"), sb.all("CreditNotes")
    credited, applied = _credited(invoices, notes), _applied(sb.all("IncomingPayments"))
    assert credited
    for inv in invoices:
        assert inv["PaidToDate"] == pytest.approx(applied.get(inv["DocEntry"], 0.0), abs=0.011)


def test_credit_notes_reconciled_into_the_base_invoice_raise_its_paid_to_date():
    """credit_notes_reconcile=True (SAP: the credit memo is 'the clearing document for the
    invoice'): PaidToDate/PaidToDateFC = payments + credits; fully credited = closed; payments
    pay only what is left; the customer's balance is the invoices' open amount."""
    sb = SapSandbox(data=replace(CREDIT_SPEC, credit_notes_reconcile=True))
    invoices, notes = sb.all("Invoices"), sb.all("CreditNotes")
    credited, applied = _credited(invoices, notes), _applied(sb.all("IncomingPayments"))
    assert len(notes) >= 50
    closed_by_credit = 0
    for inv in invoices:
        local, fc = credited.get(inv["DocEntry"], (0.0, 0.0))
        assert inv["PaidToDate"] == pytest.approx(applied.get(inv["DocEntry"], 0.0) + local,
                                                  abs=0.011)
        assert inv["PaidToDate"] <= inv["DocTotal"] + 0.001
        if inv["DocCurrency"] != "USD" and local:
            assert inv["PaidToDateFC"] >= fc - 0.011
        if local and inv["DocumentStatus"] == "bost_Close":
            assert inv["PaidToDate"] == inv["DocTotal"]
            closed_by_credit += inv["DocEntry"] not in applied
        if inv["DocEntry"] in credited:
            cn_day = max(cn["UpdateDate"] for cn in notes
                         if cn["DocumentLines"][0]["BaseEntry"] == inv["DocEntry"])
            assert inv["UpdateDate"] >= cn_day  # reconciling re-stamps the invoice
    assert closed_by_credit  # an invoice credited in full is closed without a payment
    open_amount: dict[str, float] = defaultdict(float)
    for inv in invoices:
        if inv["DocumentStatus"] == "bost_Open":
            open_amount[inv["CardCode"]] += inv["DocTotal"] - inv["PaidToDate"]
    for bp in sb.all("BusinessPartners"):
        assert bp["CurrentAccountBalance"] == pytest.approx(open_amount[bp["CardCode"]], abs=0.02)


def test_foreign_currency_invoices_get_payments_in_their_own_currency(data):
    """Some payments of EUR invoices are EUR payments (DocCurrency, DocRate = the invoice's, each
    line's DocRate and AppliedFC), paid by every way, their rows in EUR too."""
    invoices = {i["DocEntry"]: i for i in data["Invoices"]}
    fc = [p for p in data["IncomingPayments"] if p["DocCurrency"] != "USD"]
    assert len(fc) >= 5
    for pay in fc:
        for line in pay["PaymentInvoices"]:
            inv = invoices[line["DocEntry"]]
            assert inv["DocCurrency"] == pay["DocCurrency"] == "EUR"
            assert line["DocRate"] == inv["DocRate"] == pay["DocRate"]
            assert line["SumApplied"] == pytest.approx(line["AppliedFC"] * pay["DocRate"],
                                                       abs=0.02)
        assert [c["Currency"] for c in pay["PaymentChecks"]] in ([], ["EUR"])
        assert [c["CreditCur"] for c in pay["PaymentCreditCards"]] in ([], ["EUR"])
    usd_paid_eur = [p for p in data["IncomingPayments"] if p["DocCurrency"] == "USD"
                    and any(invoices[li["DocEntry"]]["DocCurrency"] == "EUR"
                            for li in p["PaymentInvoices"])]
    assert usd_paid_eur, "local payments of foreign invoices stay too"


@pytest.mark.parametrize("fc_cash_sum", ["local", "payment"])
def test_cash_sum_of_a_foreign_payment_follows_the_switch(fc_cash_sum):
    """Undocumented: CashSum of a foreign-currency payment holds the local amount (SDK help's
    wording) or the payment-currency amount; CashSumFC is the payment-currency amount either
    way. The rest of the data is the same under both ways."""
    data = {"IncomingPayments": SapSandbox(data=replace(SPEC, fc_cash_sum=fc_cash_sum)).all(
        "IncomingPayments")}
    cash = [p for p in data["IncomingPayments"] if p["DocCurrency"] != "USD" and p["CashSumFC"]]
    assert cash
    for pay in cash:
        expected = pay["CashSumFC"] * (pay["DocRate"] if fc_cash_sum == "local" else 1.0)
        assert pay["CashSum"] == pytest.approx(expected, abs=0.02)
    other = {"IncomingPayments": SapSandbox(data=replace(
        SPEC, fc_cash_sum="payment" if fc_cash_sum == "local" else "local")).all(
        "IncomingPayments")}
    strip = [{k: v for k, v in p.items() if k != "CashSum"} for p in data["IncomingPayments"]]
    assert strip == [{k: v for k, v in p.items() if k != "CashSum"}
                     for p in other["IncomingPayments"]]


def test_an_unknown_fc_cash_sum_or_payment_date_rule_is_refused():
    with pytest.raises(ValueError, match="fc_cash_sum"):
        DataSpec(fc_cash_sum="fc")
    with pytest.raises(ValueError, match="payment_before_invoice"):
        DataSpec(payment_before_invoice="maybe")
