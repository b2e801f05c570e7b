"""HubSpot sandbox: value rules (dates at midnight UTC, datetimes, numbers) hold for any input."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hubspot_sandbox.values import Invalid, normalise

DATE = {"name": "d", "type": "date", "fieldType": "date"}
DATETIME = {"name": "t", "type": "datetime", "fieldType": "date"}
NUMBER = {"name": "n", "type": "number", "fieldType": "number"}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

days = st.dates(min_value=date(1971, 1, 1), max_value=date(2100, 12, 31))


def _ms(dt: datetime) -> int:
    return (dt - EPOCH) // timedelta(milliseconds=1)


@given(days)
def test_a_date_as_iso_or_midnight_epoch_ms_is_stored_as_iso(day):
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    assert normalise(DATE, day.isoformat()) == day.isoformat()
    assert normalise(DATE, str(_ms(midnight))) == day.isoformat()
    assert normalise(DATE, _ms(midnight)) == day.isoformat()


@given(days, st.integers(min_value=1, max_value=86_399_999))
def test_a_date_off_midnight_is_refused(day, offset_ms):
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    with pytest.raises(Invalid) as caught:
        normalise(DATE, str(_ms(midnight) + offset_ms))
    assert caught.value.error == "INVALID_DATE" and "not midnight" in caught.value.message


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1),
                    timezones=st.just(UTC)))
def test_a_datetime_as_epoch_ms_or_iso_is_the_same_instant(moment):
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    from_ms = normalise(DATETIME, str(_ms(moment)))
    assert from_ms == normalise(DATETIME, moment.isoformat())
    assert from_ms.endswith("Z") and from_ms.startswith(moment.strftime("%Y-%m-%dT%H:%M:%S"))


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_any_finite_number_is_accepted_as_sent(number):
    assert normalise(NUMBER, number) == (str(int(number)) if number.is_integer() else str(number))


@pytest.mark.parametrize("bad", ["abc", "1,5", "nan", "inf", "12e"])
def test_text_that_is_not_a_finite_number_is_refused(bad):
    with pytest.raises(Invalid) as caught:
        normalise(NUMBER, bad)
    assert caught.value.error == "INVALID_FLOAT"
