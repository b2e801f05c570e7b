"""The tap's modules import in one direction: tap -> streams -> incremental -> client -> context
(no circle)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "tap-sapb1" / "tap_sapb1"
LAYERS = {"tap": 0, "streams": 1, "incremental": 2, "client": 3, "context": 4}


def imported_modules(path: Path) -> set[str]:
    """Every tap_sapb1 module a file imports, TYPE_CHECKING blocks included."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("tap_sapb1")}


def layer_of(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.get(parts[1]) if len(parts) > 1 else None


def test_no_module_imports_a_layer_above_it() -> None:
    files = [PACKAGE / "client.py", PACKAGE / "incremental.py", PACKAGE / "context.py",
             *PACKAGE.glob("streams/*.py")]
    for path in files:
        own = LAYERS["streams"] if path.parent.name == "streams" else LAYERS[path.stem]
        for module in imported_modules(path):
            layer = layer_of(module)
            assert layer is None or layer >= own, f"{path.name} imports {module}"


def test_client_does_not_import_the_tap() -> None:
    assert "tap_sapb1.tap" not in imported_modules(PACKAGE / "client.py")
