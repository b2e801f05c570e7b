"""Pure pieces of the tap, no server: literals, query encoding, value forms, keyset filters."""

from __future__ import annotations

import itertools

import pytest

from sap_sandbox.odata_filter import compile_filter
from tap_sapb1.paging import (
    StampError,
    after_position,
    literal,
    query_string,
    sap_date,
    sap_time,
    stamp_of,
)
from tap_sapb1.settings import check_settings, service_version


def test_literals_quote_strings_and_double_quotes_but_leave_numbers_bare():
    assert literal("O'Brien") == "'O''Brien'"
    assert literal(42) == "42"


def test_query_options_keep_dollar_quotes_and_spaces_readable():
    text = query_string({"$filter": "CardCode gt 'C 1'", "$top": None, "$skip": 5})
    assert text == "$filter=CardCode%20gt%20'C%201'&$skip=5"


@pytest.mark.parametrize("value,day", [("2024-03-05", "2024-03-05"),
                                       ("2024-03-05T00:00:00Z", "2024-03-05"),
                                       ("/Date(1709596800000)/", "2024-03-05"),
                                       ("20240305", "2024-03-05"), (None, None)])
def test_every_sap_date_form_becomes_an_iso_date(value, day):
    assert sap_date(value) == day


def test_times_without_seconds_and_missing_times_are_padded():
    assert sap_time("14:22") == "14:22:00"
    assert sap_time(None) == "00:00:00"


@pytest.mark.parametrize("date,time", [(None, "10:00:00"), ("2024-13-45", "10:00:00"),
                                       ("2024-01-01", "25:99:00"), ("soon", None)])
def test_garbled_stamps_are_refused(date, time):
    with pytest.raises(StampError):
        stamp_of({"UpdateDate": date, "UpdateTime": time})


def _grid() -> list[dict]:
    times = ["10:00:00", "10:00:01", "10:00:59", "10:01:00", "23:59:59"]
    days = ["2024-01-01", "2024-01-02"]
    stamps = itertools.product(days, times)
    rows = [{"UpdateDate": d, "UpdateTime": t, "DocEntry": k}
            for (d, t), k in zip(stamps, itertools.count(1))]
    crowded = [{"UpdateDate": "2024-01-01", "UpdateTime": "10:00:00", "DocEntry": k}
               for k in (50, 60)]
    return rows + crowded


@pytest.mark.parametrize("cursor", [("2024-01-01", "10:00:00", 50), ("2024-01-01", "10:00:59", 3),
                                    ("2024-01-01", "23:59:59", 5), ("2024-01-02", "10:00:01", 7)])
def test_after_position_is_exact_to_the_second_and_a_superset_to_the_minute(cursor):
    rows = _grid()
    text = after_position(*cursor, "DocEntry")
    fields = {"UpdateDate", "UpdateTime", "DocEntry"}
    exact = compile_filter(text, fields, "Invoices")
    coarse = compile_filter(text, fields, "Invoices", True)  # minute precision
    after = {r["DocEntry"] for r in rows
             if (r["UpdateDate"], r["UpdateTime"], r["DocEntry"]) > cursor}
    assert {r["DocEntry"] for r in rows if exact(r)} == after
    assert after <= {r["DocEntry"] for r in rows if coarse(r)}


def test_settings_checks_name_the_setting_and_what_to_put_there():
    problems = check_settings({"service_layer_url": "https://sap.example.com/api",
                               "company_db": "X", "username": "u", "password": "p",
                               "page_size": 0, "ca_bundle": "/no/such.pem"})
    assert any(p.startswith("service_layer_url must end with") for p in problems)
    assert any(p.startswith("page_size must be") for p in problems)
    assert any(p.startswith("ca_bundle must be") for p in problems)
    assert service_version("https://h:50000/b1s/v2/") == "v2"


@pytest.mark.parametrize("cursor", [("2024-01-01", "10:00:00", 50), ("2024-01-01", "10:00:59", 3),
                                    ("2024-01-01", "23:59:59", 5)])
def test_after_position_naming_the_minutes_emitted_keys_is_exact_to_the_minute_too(cursor):
    rows = _grid()
    emitted = {r["DocEntry"] for r in rows
               if (r["UpdateDate"], r["UpdateTime"], r["DocEntry"]) <= cursor
               and (r["UpdateDate"], r["UpdateTime"][:5]) == (cursor[0], cursor[1][:5])}
    text = after_position(*cursor, "DocEntry", emitted)
    fields = {"UpdateDate", "UpdateTime", "DocEntry"}
    after = {r["DocEntry"] for r in rows
             if (r["UpdateDate"], r["UpdateTime"], r["DocEntry"]) > cursor}
    for minute in (False, True):
        assert {r["DocEntry"] for r in rows
                if compile_filter(text, fields, "Invoices", minute)(r)} == after
