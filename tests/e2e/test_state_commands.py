"""The README's state recipes work with this Meltano version: list, get, reset one stream
(get -> drop its bookmark -> set --force), clear."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.e2e

STATE_ID = "sandbox:tap-sapb1-to-target-hubspot-finance"
MARK = {"replication_key": "sap_updated_at", "replication_key_value": "2026-03-05T14:22:05+00:00"}


def test_resetting_one_stream_keeps_the_other_bookmarks(bare_project):
    state = {"singer_state": {"bookmarks": {"invoices": MARK, "business_partners": MARK}}}
    bare_project.run("state", "set", "--force", STATE_ID, json.dumps(state))
    assert STATE_ID in bare_project.run("state", "list").stdout

    current = json.loads(bare_project.run("state", "get", STATE_ID).stdout)
    current["singer_state"]["bookmarks"].pop("invoices")
    bare_project.run("state", "set", "--force", STATE_ID, json.dumps(current))

    assert bare_project.bookmarks() == {"business_partners": MARK["replication_key_value"]}

    bare_project.run("state", "clear", "--force", STATE_ID)
    assert bare_project.bookmarks() == {}
