"""A minimal Singer JSONL target built on singer-sdk, standing in for target-jsonl in tests.

target-jsonl 0.1.4 (the PyPI package) pins jsonschema==2.6.0, which cannot share a virtualenv
with singer-sdk 0.54.9, so the tap-sapb1 test suite pipes into this generic target instead;
Meltano installs the real target-jsonl into its own virtualenv.
Usage: python jsonl_target.py --config '{"destination_path": "out"}' (or a config file path).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from singer_sdk import Target
from singer_sdk import typing as th
from singer_sdk.sinks import RecordSink


class JsonlSink(RecordSink):
    """Appends each record as one JSON line to <destination_path>/<stream>.jsonl."""

    def process_record(self, record: dict, context: dict) -> None:
        """Write one record."""
        folder = Path(self.config["destination_path"])
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / f"{self.stream_name}.jsonl").open("a", encoding="utf-8") as out:
            out.write(json.dumps(record, default=str) + "\n")


class TargetJsonl(Target):
    """Singer target writing JSON Lines files."""

    name = "target-jsonl-test"
    config_jsonschema = th.PropertiesList(
        th.Property("destination_path", th.StringType, required=True)).to_dict()
    default_sink_class = JsonlSink

    def get_sink_class(self, stream_name: str) -> Any:
        """Every stream goes to a JsonlSink."""
        return JsonlSink


if __name__ == "__main__":
    TargetJsonl.cli()
