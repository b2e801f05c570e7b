"""Fixtures of the tap tests: sandboxes of chosen shapes (the shared ones live in tests/)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

HERE = Path(__file__).parent
if str(HERE) not in sys.path:  # tap_helpers.py sits beside the tests (import-mode=importlib)
    sys.path.insert(0, str(HERE))

from tap_helpers import SAP_PASSWORD  # noqa: E402  (importable once HERE is on sys.path)


@pytest.fixture
def make_sandbox() -> Iterator[Callable[..., object]]:
    """Start SAP sandboxes with custom options; all stop when the test ends."""
    from sap_sandbox import DataSpec, SapSandbox

    with ExitStack() as stack:

        def start(data: DataSpec | None = None, **options: object) -> SapSandbox:
            spec = data or DataSpec(seed=11, customers=12, suppliers=2, leads=2, invoices=60,
                                    credit_notes=4, payments=30)
            return stack.enter_context(SapSandbox(data=spec, password=SAP_PASSWORD, **options))

        yield start
