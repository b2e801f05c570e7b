"""SAP's clock steps back while the tap pages (an NTP correction, the DST fall-back hour): changes
made after the step carry stamps older than records already read. With the look-back window every
final version of every record is still emitted by this run or the next; none is lost."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

TAP_TESTS = Path(__file__).resolve().parents[1] / "tap"
if str(TAP_TESTS) not in sys.path:
    sys.path.insert(0, str(TAP_TESTS))

from tap_helpers import SAP_PASSWORD, config_for, run_tap  # noqa: E402

from sap_sandbox import DataSpec, SapSandbox  # noqa: E402


def _stamp(record: dict) -> str:
    return f"{record['UpdateDate'][:10]}T{record['UpdateTime'] or '00:00:00'}+00:00"


@pytest.mark.parametrize("precision,seed", [("minute", 3), ("second", 4), ("minute", 5)])
def test_clock_stepping_back_mid_run_loses_no_record(precision: str, seed: int) -> None:
    data = DataSpec(seed=seed, customers=8, suppliers=0, leads=0, invoices=120, credit_notes=0,
                    payments=0, null_update_times=0.05)
    with SapSandbox(data=data, password=SAP_PASSWORD, time_filter_precision=precision) as sb:
        rng = random.Random(seed)
        template = {k: v for k, v in sb.all("Invoices")[0].items()
                    if k not in ("DocEntry", "DocNum", "UpdateDate", "UpdateTime")}
        pages = {"n": 0, "live": True}
        steps = {4: 1800, 9: 3600}  # 30 min (NTP) on page 4, the DST hour on page 9

        def disturb(sandbox: SapSandbox, record) -> None:
            if not (pages["live"] and record.method == "GET"
                    and record.path.endswith("/Invoices") and record.query.get("$top") != "1"):
                return
            pages["n"] += 1
            if pages["n"] in steps:
                sandbox.clock.step_back(steps[pages["n"]])
            sandbox.clock.advance(rng.randint(1, 40))
            keys = [r["DocEntry"] for r in sandbox.all("Invoices")]
            for key in rng.sample(keys, 3):  # on both sides of the tap's cursor
                sandbox.update("Invoices", key, {"Comments": f"edit on page {pages['n']}"})
            sandbox.create("Invoices", dict(template))

        for key in [r["DocEntry"] for r in sb.all("Invoices")][:5]:  # busy up to the run
            sb.clock.advance(5)
            sb.update("Invoices", key, {"Comments": "edited just before the run"})
        sb.on_request(disturb)
        config = config_for(sb, page_size=10)
        first = run_tap(config, streams=["invoices"])
        pages["live"] = False
        assert pages["n"] >= 10, "the clock never stepped back during the run"
        stepped_back = [r for r in sb.all("Invoices")
                        if _stamp(r) < first.state["bookmarks"]["invoices"]["replication_key_value"]
                        and str(r.get("Comments", "")).startswith("edit on page")]
        assert stepped_back, "no change got a stamp behind the first run's bookmark"
        second = run_tap(config, streams=["invoices"], state=first.state)

        emitted = {(r["DocEntry"], r["sap_updated_at"])
                   for out in (first, second) for r in out.records["invoices"]}
        final = {(r["DocEntry"], _stamp(r)) for r in sb.all("Invoices")}
        assert final <= emitted, f"lost: {sorted(final - emitted)[:10]}"
        for out in (first, second):
            stamps = [r["sap_updated_at"] for r in out.records["invoices"]]
            assert stamps == sorted(stamps)
        newest = max(_stamp(r) for r in sb.all("Invoices"))
        assert second.state["bookmarks"]["invoices"]["replication_key_value"] <= newest
        assert sb.server_errors == []
