"""Fixtures of the chaos suite: sandboxes sized for chaos, the pipeline harness, verdicts.

The harness (bench/pipeline.py) and the verdicts (bench/reconcile.py) live in the bench package
so the benchmarks print the same figures the chaos suite asserts.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `pytest` run without `python -m` does not add the root
    sys.path.insert(0, str(ROOT))

from bench.world import World, world  # noqa: E402


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder is a chaos test (`-m chaos` selects them, `-m 'not chaos'` not)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.chaos)


def _missing_parts() -> list[str]:
    """The parts this suite drives that are not importable yet (they are built in parallel)."""
    import importlib

    missing = []
    for module, name in (("sap_sandbox", "SapSandbox"), ("hubspot_sandbox", "HubSpotSandbox"),
                         ("tap_sapb1.tap", "TapSAPB1"),
                         ("target_hubspot_finance.target", "TargetHubSpotFinance")):
        try:
            getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            missing.append(f"{module}.{name}")
    return missing


@pytest.fixture
def make_world(tmp_path: Path) -> Iterator[Callable[..., World]]:
    """Start sandboxes of a chosen size; all are stopped when the test ends."""
    missing = _missing_parts()
    if missing:
        pytest.skip(f"not built yet: {', '.join(missing)}")
    with contextlib.ExitStack() as stack:
        count = iter(range(1000))

        def start(invoices: int = 300, **options: object) -> World:
            workdir = tmp_path / f"world{next(count)}"
            return stack.enter_context(world(workdir, invoices, **options))

        yield start
