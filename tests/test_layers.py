"""The import rules of DESIGN.md §2, checked by parsing the source."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "weaklab"

BASE = {"_core", "errors", "data", "features", "evaluation", "synthetic"}
STAGES = {"labeling", "models", "endmodel", "cleaning", "active", "vision"}
ALLOWED: dict[str, set[str]] = {
    **{name: set(BASE) for name in BASE},
    **{name: set(BASE) for name in STAGES},
    # The store sits beside the stages: it knows the core containers (and the
    # error hierarchy that holds StoreError), nothing else.
    "store": {"_core", "errors"},
    "pipeline": BASE | STAGES | {"store"},
    # `weaklab serve` starts the dashboard, so the CLI may import it (lazily, inside the command).
    "cli": BASE | {"pipeline", "store", "dashboard"},
    "dashboard": BASE | {"pipeline", "store"},
    "testing": BASE | {"models"},
}


def _unit(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


def _imported_units(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    package_parts = path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_parts[: len(package_parts) - node.level + 1]
                module = ".".join(base + ((node.module,) if node.module else ()))
                if node.module is None:
                    names = [f"{module}.{alias.name}" for alias in node.names]
                else:
                    names = [module]
            else:
                names = [node.module or ""]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "weaklab" and len(parts) > 1:
                found.add(parts[1])
    return found


def _source_files() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.parent != PACKAGE or p.name != "__init__.py")


@pytest.mark.parametrize("path", _source_files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_imports_only_lower_layers(path):
    """Each module imports weaklab units only from its own unit or the layers DESIGN.md allows."""
    unit = _unit(path)
    if unit not in ALLOWED:
        pytest.fail(f"{path.relative_to(PACKAGE)} belongs to no known layer; add it to ALLOWED")
    bad = sorted(u for u in _imported_units(path) if u != unit and u not in ALLOWED[unit])
    assert not bad, f"{path.relative_to(PACKAGE)} ({unit}) must not import {bad}"


def test_importing_weaklab_is_light():
    """`import weaklab` pulls in neither torch, web frameworks nor dask."""
    code = (
        "import sys, weaklab; heavy = [m for m in ('torch', 'fastapi', 'uvicorn', 'dask', "
        "'sentence_transformers', 'matplotlib') if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
