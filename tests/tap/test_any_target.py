"""tap-sapb1 speaks plain Singer: piped through meltano-map-transform into a JSONL target."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tap_helpers import BIN, catalog_for, config_for

HERE = Path(__file__).parent


def test_tap_output_lands_in_a_generic_jsonl_target(sap_sandbox, tmp_path):
    config = config_for(sap_sandbox, page_size=50)
    (tmp_path / "tap.json").write_text(json.dumps(config))
    (tmp_path / "catalog.json").write_text(json.dumps(
        catalog_for(config, ["invoices", "business_partners", "profit_centers"])))
    (tmp_path / "map.json").write_text(json.dumps({"stream_maps": {}}))
    (tmp_path / "target.json").write_text(json.dumps({"destination_path": str(tmp_path / "out")}))
    pipeline = (f"'{BIN}/tap-sapb1' --config tap.json --catalog catalog.json"
                f" | '{BIN}/meltano-map-transform' --config map.json"
                f" | '{sys.executable}' '{HERE / 'jsonl_target.py'}' --config target.json"
                " > state.jsonl")
    done = subprocess.run(["bash", "-o", "pipefail", "-c", pipeline], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    out = tmp_path / "out"
    invoices = [json.loads(line) for line in (out / "invoices.jsonl").read_text().splitlines()]
    assert sorted(r["DocEntry"] for r in invoices) == sorted(
        r["DocEntry"] for r in sap_sandbox.all("Invoices"))
    assert all(r["DocumentLines"] for r in invoices)  # nested lines survive the pipeline
    assert len((out / "profit_centers.jsonl").read_text().splitlines()) == len(
        sap_sandbox.all("ProfitCenters"))
    assert not (out / "credit_notes.jsonl").exists()  # not selected
    states = [json.loads(line) for line in (tmp_path / "state.jsonl").read_text().splitlines()]
    assert states[-1]["bookmarks"]["invoices"]["replication_key_value"]
