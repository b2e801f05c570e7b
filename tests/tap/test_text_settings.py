"""Number settings given as text (Meltano `kind: string`, the only kind that carries 0.5 from the
environment) are typed by the tap's schema before validation."""

from __future__ import annotations

import pytest
from singer_sdk.exceptions import ConfigValidationError

from tap_sapb1.tap import TapSAPB1

BASE = {"service_layer_url": "http://127.0.0.1:9/b1s/v1", "company_db": "SBODEMOUS",
        "username": "manager", "password": "S3cr3t-B1-passw0rd!"}


def test_fractional_seconds_and_whole_numbers_given_as_text_are_numbers():
    tap = TapSAPB1(config={**BASE, "request_timeout": "0.5", "backoff_seconds": " 2 ",
                           "page_size": "250", "payments_reread_days": "30"})
    assert tap.config["request_timeout"] == 0.5
    assert tap.config["backoff_seconds"] == 2.0
    assert tap.config["page_size"] == 250 and isinstance(tap.config["page_size"], int)
    assert tap.config["payments_reread_days"] == 30


@pytest.mark.parametrize(("key", "value"), [("request_timeout", "soon"), ("page_size", "2.5")])
def test_text_that_is_no_number_of_its_kind_is_still_refused(key, value):
    with pytest.raises(ConfigValidationError) as caught:
        TapSAPB1(config={**BASE, key: value})
    assert any(key in line for line in caught.value.errors)
