"""Property tests: any SAP-shaped payload maps to properties or to one mapping error."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from target_factory import credit_note, customer, invoice, payment

from target_hubspot_finance import mapping

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(
    max_size=12)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.text(max_size=6), inner, max_size=3), max_leaves=8)


def corrupt(record: dict, changes: dict) -> dict:
    """The record with some of its own fields replaced by arbitrary JSON values."""
    out = dict(record)
    keys = sorted(record)
    for i, value in changes.items():
        out[keys[i % len(keys)]] = value
    return out


changes = st.dictionaries(st.integers(0, 60), values, max_size=4)


def mapped_or_clear_error(fn, *args) -> None:
    try:
        result = fn(*args)
    except mapping.MAPPING_ERRORS as exc:
        assert mapping.describe(exc)  # one line that says what
        return
    mapping.content_hash(result)  # whatever was mapped can be hashed and sent as JSON


@settings(max_examples=150, deadline=None)
@given(changes)
def test_any_business_partner_maps_or_fails_clearly(ch):
    record = corrupt(customer(1), ch)
    mapped_or_clear_error(mapping.map_company, record)
    people = record.get("ContactEmployees")
    for person in people if isinstance(people, list) else []:
        mapped_or_clear_error(mapping.map_contact, person, "C1")


@settings(max_examples=150, deadline=None)
@given(changes, changes)
def test_any_invoice_and_its_lines_map_or_fail_clearly(ch, line_ch):
    record = corrupt(invoice(1), ch)
    mapped_or_clear_error(mapping.map_invoice, record)
    mapped_or_clear_error(mapping.map_tax_line, record)
    line = corrupt(invoice(1)["DocumentLines"][0], line_ch)
    mapped_or_clear_error(mapping.map_line_item, record, line)
    mapped_or_clear_error(mapping.line_problem, line)


@settings(max_examples=150, deadline=None)
@given(changes)
def test_any_payment_and_credit_note_map_or_fail_clearly(ch):
    record = corrupt(payment(1, applies=[(1, 10.0), (2, 5.0)]), ch)
    try:
        apps = mapping.payment_applications(record)
    except mapping.MAPPING_ERRORS:
        apps = []
    for app in apps:
        mapped_or_clear_error(mapping.map_payment, record, app)
    mapped_or_clear_error(mapping.credit_applications, corrupt(credit_note(1, 1), ch))
