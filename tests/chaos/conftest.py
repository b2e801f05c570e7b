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


@pytest.fixture
def make_world(tmp_path: Path) -> Iterator[Callable[..., World]]:
    """Start sandboxes of a chosen size; all are stopped when the test ends."""
    with contextlib.ExitStack() as stack:
        count = iter(range(1000))

        def start(invoices: int = 300, **options: object) -> World:
            workdir = tmp_path / f"world{next(count)}"
            return stack.enter_context(world(workdir, invoices, **options))

        yield start
