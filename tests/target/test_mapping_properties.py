"""Property tests of the mapping contract (SAP record → HubSpot properties).

Three promises, each of which fails when the mapping breaks:
- any well-formed SAP record maps (never an error) to properties the portal has (HubSpot's
  built-in ones or the custom ones the target creates), each value one HubSpot accepts for the
  property's type, as strict JSON (no NaN/Infinity, no `default=str`), with the upsert key set;
- a non-finite amount (NaN, ±Infinity, as a number or as text) is refused with a MappingError,
  never written;
- any corrupted payload maps to such properties or to one clear one-line mapping error.
"""

from __future__ import annotations

import json
import math

from hypothesis import given, settings
from hypothesis import strategies as st
from target_factory import credit_note, customer, invoice, payment

from hubspot_sandbox.catalog import CURRENCIES, builtin_properties
from hubspot_sandbox.values import Invalid, normalise
from target_hubspot_finance import mapping

# --- the portal's properties: built-in (the sandbox's catalog) plus the target's custom ones ---
BUILTIN = builtin_properties()


def definitions(object_type: str) -> dict[str, dict]:
    defs = {d["name"]: d for d in BUILTIN[object_type]}
    defs.update({d["name"]: d for d in mapping.custom_definitions(object_type, None)})
    return defs


def assert_contract(object_type: str, props: dict, options: bool = True) -> None:
    """Every property exists in the portal, every value is one HubSpot accepts for its type,
    the upsert key is set, and the payload is strict JSON. `options=False`: an enumeration
    value outside the portal's options is allowed (an SAP currency the portal lacks is
    HubSpot's to refuse, per record)."""
    assert isinstance(props, dict), f"{object_type}: mapped to {type(props).__name__}"
    json.dumps(props, allow_nan=False)  # strict JSON: raises on NaN/inf or any non-JSON value
    defs = definitions(object_type)
    for name, value in props.items():
        assert name in defs, f"{object_type}.{name} is neither built in nor created by the target"
        defn = defs[name]
        assert not defn.get("modificationMetadata", {}).get("readOnlyValue"), (
            f"{object_type}.{name} is read-only in HubSpot")
        assert isinstance(value, str | int | float) and value is not None, (name, value)
        if isinstance(value, float):
            assert math.isfinite(value), (name, value)
        if defn["type"] == "number":
            assert not isinstance(value, bool), (name, value)
        if defn["type"] == "enumeration" and not options:
            continue
        try:
            normalise(defn, value)
        except Invalid as exc:
            raise AssertionError(f"HubSpot refuses {object_type}.{name}={value!r}: "
                                 f"{exc.message}") from None
    key = mapping.UNIQUE_KEYS[object_type]
    assert isinstance(props.get(key), str) and props[key].strip(), f"{key} missing: {props}"


# --- well-formed SAP records ----------------------------------------------------------------
words = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20)
codes = st.from_regex(r"[A-Z][A-Z0-9]{0,9}", fullmatch=True)
amounts = (st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False)
           | st.integers(-10**9, 10**9) | st.none())
positive = st.floats(min_value=0, max_value=1e9, allow_nan=False, allow_infinity=False)
days = st.dates().map(lambda d: d.isoformat()).flatmap(
    lambda d: st.sampled_from([d, f"{d}T00:00:00Z"]))  # both forms the tap accepts
yes_no = st.sampled_from(["tYES", "tNO"])
currencies = st.sampled_from(CURRENCIES).flatmap(lambda c: st.sampled_from([c, c.lower()]))
namespaces = st.none() | st.sampled_from(["GB", "us-east"])


@st.composite
def good_customers(draw) -> dict:
    person = st.fixed_dictionaries({
        "InternalCode": st.integers(1, 999), "Name": words, "FirstName": words | st.none(),
        "LastName": words | st.none(), "Phone1": words | st.none(), "Active": yes_no,
        "E_Mail": st.emails() | words | st.none(), "MobilePhone": st.none(),
        "Position": words | st.none()})
    return customer(1, CardCode=draw(codes), CardName=draw(words | st.none()),
                    CreditLimit=draw(amounts), MaxCommitment=draw(amounts),
                    CurrentAccountBalance=draw(amounts), OpenOrdersBalance=draw(amounts),
                    Currency=draw(currencies | st.just("##")), Frozen=draw(yes_no),
                    Valid=draw(yes_no), City=draw(words | st.none()),
                    ContactEmployees=draw(st.lists(person, max_size=3)))


@st.composite
def good_invoices(draw) -> dict:
    line = st.fixed_dictionaries({
        "LineNum": st.integers(0, 500), "ItemCode": codes, "ItemDescription": words,
        "Quantity": positive, "UnitPrice": positive, "DiscountPercent": st.floats(0, 100),
        "LineTotal": positive, "Currency": currencies, "TaxCode": codes | st.none()})
    total = draw(positive)
    return invoice(draw(st.integers(1, 10**6)), DocNum=draw(st.integers(1, 10**8)),
                   DocCurrency=draw(currencies), DocTotal=total,
                   PaidToDate=draw(st.floats(0, total) | st.none()), VatSum=draw(amounts),
                   DocDate=draw(days), DocDueDate=draw(days), Cancelled=draw(yes_no),
                   DocumentStatus=draw(st.sampled_from(["bost_Open", "bost_Close"])),
                   Comments=draw(words | st.none()), NumAtCard=draw(words | st.none()),
                   DocumentLines=draw(st.lists(line, min_size=1, max_size=3)))


@st.composite
def good_payments(draw) -> dict:
    applies = draw(st.lists(st.tuples(st.integers(1, 10**6), positive), max_size=3))
    return payment(draw(st.integers(1, 10**6)), applies=applies,
                   DocCurrency=draw(currencies), DocDate=draw(days), Cancelled=draw(yes_no),
                   CashSum=draw(positive), TransferReference=draw(words | st.none()))


def key_in(ns: str | None, key) -> str:
    """SAP's key as HubSpot must hold it, spelt out (not mapping.namespaced, which would agree
    with itself): `<namespace>:<key>`, or the bare key without a namespace."""
    return f"{ns}:{key}" if ns else str(key)


@settings(max_examples=150, deadline=None)
@given(good_customers(), namespaces)
def test_every_well_formed_business_partner_maps_to_properties_hubspot_accepts(record, ns):
    props = mapping.map_company(record, ns)
    assert_contract("companies", props)
    assert props["sap_card_code"] == key_in(ns, record["CardCode"])
    if isinstance(record["CreditLimit"], int | float):
        assert props["sap_credit_limit"] == round(record["CreditLimit"], 2)
    for person in record["ContactEmployees"]:
        contact = mapping.map_contact(person, record["CardCode"])
        if contact is not None:
            assert_contract("contacts", contact)


@settings(max_examples=150, deadline=None)
@given(good_invoices(), namespaces)
def test_every_well_formed_invoice_and_line_maps_to_properties_hubspot_accepts(record, ns):
    props = mapping.map_invoice(record, ns)
    assert_contract("invoices", props)
    assert props["sap_doc_num"] == key_in(ns, record["DocNum"])
    assert props["hs_currency"] == record["DocCurrency"].upper()
    assert props["sap_doc_total"] == round(record["DocTotal"], 2)
    for line in record["DocumentLines"]:
        assert mapping.line_problem(line) is None
        item = mapping.map_line_item(record, line, ns)
        assert_contract("line_items", item)
        if line["Currency"].upper() == record["DocCurrency"].upper():
            # (a line in another currency is priced from its document-currency total instead)
            assert item["quantity"] == line["Quantity"] and item["price"] == line["UnitPrice"]
    tax = mapping.map_tax_line(record, ns)
    if record["VatSum"]:
        assert_contract("line_items", tax)
        assert tax["price"] == round(record["VatSum"], 2)
    else:
        assert tax is None


@settings(max_examples=150, deadline=None)
@given(good_payments(), namespaces)
def test_every_well_formed_payment_maps_to_properties_hubspot_accepts(record, ns):
    apps = mapping.payment_applications(record)
    invoice_apps = [a for a in apps if a.invoice_key is not None]
    assert len(invoice_apps) == len(record["PaymentInvoices"])
    for app in apps:
        assert math.isfinite(app.amount)
        props = mapping.map_payment(record, app, ns)
        assert_contract("commerce_payments", props)
        assert props["hs_initial_amount"] == app.amount
    credits = mapping.credit_applications(credit_note(2, 1, amount=record["CashSum"]))
    assert [c.invoice_key for c in credits] == ["1"] and math.isfinite(credits[0].amount)


# --- non-finite amounts are refused -----------------------------------------------------------
NON_FINITE = [math.nan, math.inf, -math.inf, "NaN", "nan", "inf", "-Infinity", "1e999"]


def refused(fn, *args) -> str:
    """The MappingError text `fn(*args)` raises (fails when it maps or raises anything else)."""
    try:
        result = fn(*args)
    except mapping.MappingError as exc:
        return str(exc)
    raise AssertionError(f"{fn.__name__} mapped a non-finite amount: {result!r}")


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(NON_FINITE), st.sampled_from(
    ["CreditLimit", "MaxCommitment", "CurrentAccountBalance", "OpenOrdersBalance"]))
def test_a_non_finite_company_amount_is_refused(bad, field):
    assert refused(mapping.map_company, customer(1, **{field: bad}))


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(NON_FINITE), st.sampled_from(
    ["DocTotal", "PaidToDate", "VatSum", "OpenAmount"]))
def test_a_non_finite_invoice_amount_is_refused(bad, field):
    assert refused(mapping.map_invoice, invoice(1, **{field: bad}))


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(NON_FINITE), st.sampled_from(
    ["Quantity", "UnitPrice", "DiscountPercent", "LineTotal"]))
def test_a_non_finite_line_amount_is_refused(bad, field):
    record = invoice(1)
    line = {**record["DocumentLines"][0], field: bad}
    if field in ("Quantity", "UnitPrice"):
        assert mapping.line_problem(line)  # checked before sending: the line is not sent
    else:
        assert refused(mapping.map_line_item, record, line)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(NON_FINITE), st.sampled_from(["TransferSum", "CashSum", "SumApplied"]))
def test_a_non_finite_payment_amount_is_refused(bad, field):
    record = payment(1, applies=[(1, 10.0)])
    if field == "SumApplied":
        record["PaymentInvoices"][0]["SumApplied"] = bad
    else:
        record[field] = bad
    assert refused(mapping.payment_applications, record)


# --- corrupted payloads: properties HubSpot accepts, or one clear line ------------------------
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(
    max_size=12)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.text(max_size=6), inner, max_size=3), max_leaves=8)
changes = st.dictionaries(st.integers(0, 60), values, max_size=4)


def corrupt(record: dict, changes: dict) -> dict:
    """The record with some of its own fields replaced by arbitrary JSON values."""
    out = dict(record)
    keys = sorted(record)
    for i, value in changes.items():
        out[keys[i % len(keys)]] = value
    return out


def mapped_or_clear_error(object_type: str | None, fn, *args) -> None:
    """`fn(*args)` maps to properties that meet the contract, or fails with one clear line."""
    try:
        result = fn(*args)
    except mapping.MAPPING_ERRORS as exc:
        line = mapping.describe(exc)
        assert line.strip() and "\n" not in line and "Traceback" not in line, line
        return
    if object_type is not None and result is not None:
        assert_contract(object_type, result, options=False)


@settings(max_examples=150, deadline=None)
@given(changes)
def test_any_business_partner_maps_or_fails_clearly(ch):
    record = corrupt(customer(1), ch)
    mapped_or_clear_error("companies", mapping.map_company, record)
    people = record.get("ContactEmployees")
    for person in people if isinstance(people, list) else []:
        mapped_or_clear_error("contacts", mapping.map_contact, person, "C1")


@settings(max_examples=150, deadline=None)
@given(changes, changes)
def test_any_invoice_and_its_lines_map_or_fail_clearly(ch, line_ch):
    record = corrupt(invoice(1), ch)
    mapped_or_clear_error("invoices", mapping.map_invoice, record)
    mapped_or_clear_error("line_items", mapping.map_tax_line, record)
    line = corrupt(invoice(1)["DocumentLines"][0], line_ch)
    mapped_or_clear_error(None, mapping.line_problem, line)
    if isinstance(line, dict) and not _problem(line):
        mapped_or_clear_error("line_items", mapping.map_line_item, record, line)


def _problem(line: dict) -> str | None:
    try:
        return mapping.line_problem(line)
    except mapping.MAPPING_ERRORS as exc:
        return mapping.describe(exc)


@settings(max_examples=150, deadline=None)
@given(changes)
def test_any_payment_and_credit_note_map_or_fail_clearly(ch):
    record = corrupt(payment(1, applies=[(1, 10.0), (2, 5.0)]), ch)
    try:
        apps = mapping.payment_applications(record)
    except mapping.MAPPING_ERRORS as exc:
        assert "\n" not in mapping.describe(exc)
        apps = []
    for app in apps:
        assert math.isfinite(app.amount), app
        mapped_or_clear_error("commerce_payments", mapping.map_payment, record, app)
    mapped_or_clear_error(None, mapping.credit_applications, corrupt(credit_note(1, 1), ch))
