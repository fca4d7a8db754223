"""The import rules of DESIGN.md §2, checked by parsing the source."""

from __future__ import annotations

import ast
import functools
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "weaklab"

BASE = {"_core", "errors", "data", "features", "evaluation", "synthetic"}
STAGES = {"labeling", "models", "endmodel", "cleaning", "active", "vision", "sequence"}
#: The rooms beside the pipeline: the HTML report, exchange with other tools, the bundled demo.
FLOOR = {"report", "interop", "demo"}
ALLOWED: dict[str, set[str]] = {
    **{name: set(BASE) for name in BASE},
    **{name: set(BASE) for name in STAGES},
    # The store sits beside the stages: it knows the core containers (and the
    # error hierarchy that holds StoreError), nothing else.
    "store": {"_core", "errors"},
    "pipeline": BASE | STAGES | {"store"},
    # Beside the pipeline, on its floor: they may use it (and what it may use), not each other.
    **{name: BASE | STAGES | {"store", "pipeline"} for name in FLOOR},
    # `weaklab serve` starts the dashboard, so the CLI may import it (lazily, inside the command).
    "cli": BASE | {"pipeline", "store", "dashboard"} | FLOOR,
    "dashboard": BASE | {"pipeline", "store"} | FLOOR,
    "testing": BASE | {"models"},
    # `python -m weaklab` runs the command line and nothing else.
    "__main__": {"cli"},
}
#: Re-exports that keep a documented import path working after its room moved (issue 12): the module
#: named may import these units besides what its layer allows, and nothing else may.
COMPAT_REEXPORTS: dict[str, set[str]] = {
    "pipeline/__init__.py": {"demo"},  # weaklab.pipeline.SpamDemo / DemoResult / init_project
    "pipeline/report.py": {"report"},  # weaklab.pipeline.report.write_report / render_report
    "pipeline/labelstudio.py": {"interop"},  # weaklab.pipeline.labelstudio.export_label_studio, ...
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
    allowed = ALLOWED[unit] | COMPAT_REEXPORTS.get(path.relative_to(PACKAGE).as_posix(), set())
    bad = sorted(u for u in _imported_units(path) if u != unit and u not in allowed)
    assert not bad, f"{path.relative_to(PACKAGE)} ({unit}) must not import {bad}"


def test_importing_weaklab_is_light():
    """`import weaklab` pulls in neither torch, web frameworks nor dask."""
    code = (
        "import sys, weaklab; heavy = [m for m in ('torch', 'fastapi', 'uvicorn', 'dask', "
        "'sentence_transformers', 'matplotlib') if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


# --- Private names across modules -----------------------------------------------------------------------------
# DESIGN.md §2: "No module imports a private (underscore) name from another module". `from X import name` in
# module A (absolute or relative) offends when A != X and
#   (a) `name` is private (leading underscore; dunders such as __version__ are not), or
#   (b) X is a public module (no leading underscore in its last component) that defines `__all__` without `name`, or
#   (c) X lies in another subpackage of weaklab than A and has a private component after `weaklab` (`_core` itself,
#       the shared base, does not count: `weaklab._core.constants` is fine, `weaklab.pipeline._ls_store` is not).
# `from pkg import module` is an import of that module (only (c) applies); so is `import weaklab.x._y`.
# Attribute access after a plain import (`import X; X._name`) is out of scope.

PRIVATE_IMPORT_ALLOWLIST: set[str] = set()
"""Cross-module private imports still in the tree ("importer -> module:name"): none left. Keep it empty."""


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _module_file(name: str) -> Path | None:
    rel = Path(*name.split("."))
    for candidate in (PACKAGE.parent / rel / "__init__.py", PACKAGE.parent / rel.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _all_targets(node: ast.stmt) -> list[ast.expr]:
    if isinstance(node, ast.Assign):
        return node.targets
    if isinstance(node, ast.AugAssign | ast.AnnAssign):
        return [node.target]
    return []


@functools.cache
def _declared_all(name: str) -> frozenset[str] | None:
    """The names a weaklab module lists in a literal ``__all__`` (None when it defines none)."""
    path = _module_file(name)
    if path is None:
        return None
    listed: set[str] | None = None
    for node in ast.parse(path.read_text()).body:
        value = getattr(node, "value", None)
        if value is None or not any(isinstance(t, ast.Name) and t.id == "__all__" for t in _all_targets(node)):
            continue
        listed = (listed or set()) | {
            e.value for e in getattr(value, "elts", []) if isinstance(e, ast.Constant) and isinstance(e.value, str)
        }
    return None if listed is None else frozenset(listed)


def _subpackage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _in_private_room(module: str) -> bool:
    return any(part.startswith("_") and part != "_core" for part in module.split(".")[1:])


def _is_private_name(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _offends(importer: str, target: str, name: str | None) -> bool:
    """Whether ``importer`` importing ``name`` from ``target`` (None: the module itself) breaks the rule."""
    if target == importer:
        return False
    if _subpackage(target) != _subpackage(importer) and _in_private_room(target):
        return True
    if name is None:
        return False
    if _is_private_name(name):
        return True
    listed = _declared_all(target)
    return not target.split(".")[-1].startswith("_") and listed is not None and name not in listed


def _resolved_target(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    parts = package.split(".")
    base = parts[: len(parts) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def _private_imports(path: Path, source: str | None = None) -> set[str]:
    """The cross-module private imports of a source file (or of ``source`` placed at ``path``)."""
    importer = _module_name(path)
    package = importer if path.name == "__init__.py" else importer.rpartition(".")[0]
    text = path.read_text() if source is None else source
    found: set[str] = set()
    for node in ast.walk(ast.parse(text, filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {f"{importer} -> {alias.name}" for alias in node.names
                      if alias.name.startswith("weaklab.") and _offends(importer, alias.name, None)}
            continue
        if not isinstance(node, ast.ImportFrom):
            continue
        target = _resolved_target(node, package)
        if target != "weaklab" and not target.startswith("weaklab."):
            continue
        for alias in node.names:
            if alias.name == "*":
                continue
            submodule = f"{target}.{alias.name}"
            if _module_file(submodule) is not None:
                offends = _offends(importer, submodule, None)
            else:
                offends = _offends(importer, target, alias.name)
            if offends:
                found.add(f"{importer} -> {target}:{alias.name}")
    return found


def test_no_new_private_imports_across_modules():
    """The cross-module private imports are exactly the allowlist: a new one fails, and a fixed one must leave it."""
    found: set[str] = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        found |= _private_imports(path)
    new = sorted(found - PRIVATE_IMPORT_ALLOWLIST)
    fixed = sorted(PRIVATE_IMPORT_ALLOWLIST - found)
    assert not new, "import a public name from its public home instead (DESIGN.md §2): " + "; ".join(new)
    assert not fixed, "these imports are gone, remove them from PRIVATE_IMPORT_ALLOWLIST: " + "; ".join(fixed)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from weaklab.models.glad import _seed", {"weaklab.models.mace -> weaklab.models.glad:_seed"}),
        ("from .glad import _seed", {"weaklab.models.mace -> weaklab.models.glad:_seed"}),
        ("def f():\n    from ..errors import _x", {"weaklab.models.mace -> weaklab.errors:_x"}),
        ("from .dawid_skene import OneHot", {"weaklab.models.mace -> weaklab.models.dawid_skene:OneHot"}),
        ("from weaklab.pipeline._ls_store import dataset_table",
         {"weaklab.models.mace -> weaklab.pipeline._ls_store:dataset_table"}),
        ("import weaklab.pipeline._ls_store", {"weaklab.models.mace -> weaklab.pipeline._ls_store"}),
        ("from weaklab.pipeline import _ls_store", {"weaklab.models.mace -> weaklab.pipeline:_ls_store"}),
        ("from ._base import LabelModel", set()),
        ("from . import _base", set()),
        ("from .._core.constants import ABSTAIN", set()),
        ("from .._core import LabelMatrix", set()),
        ("from weaklab import __version__", set()),
        ("from numpy import _private", set()),
    ],
)
def test_private_import_checker_flags_what_it_should(source, expected):
    """The checker's three rules, on small sources placed as weaklab/models/mace.py."""
    assert _private_imports(PACKAGE / "models" / "mace.py", source) == expected


#: Benchmarks that still reach into weaklab's private modules (instrumentation or bulk writers without a public
#: home yet): a benchmark not listed here imports public names only.
BENCHMARK_PRIVATE_ALLOWLIST = {
    "dask_dashboard.py -> weaklab._core:partitioned",  # counts the rows each Parquet read returns
    "dask_scale.py -> weaklab._core.dataset_io:write_frame",  # votes written by the workers
    "dask_scale.py -> weaklab._core.partitioned:votes_file",
    "dask_scale.py -> weaklab._core.partitioned:votes_frame",
    "store_stress.py -> weaklab.store:_flock",  # switches the store lock off and on, on purpose
    "store_stress.py -> weaklab.store._flock:StoreLock",
}


def _benchmark_private_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "weaklab":
            private_module = any(part.startswith("_") for part in node.module.split("."))
            found |= {f"{path.name} -> {node.module}:{alias.name}" for alias in node.names
                      if private_module or alias.name.startswith("_")}
        elif isinstance(node, ast.Import):
            found |= {f"{path.name} -> {alias.name}" for alias in node.names if alias.name.split(".")[0] == "weaklab"
                      and any(part.startswith("_") for part in alias.name.split("."))}
    return found


def test_benchmarks_import_weaklab_public_names_only():
    """A benchmark uses weaklab as a user would (dask_endmodel.py writes its soft labels through
    PartitionedSoftLabels.write_partition): private imports are exactly the allowlist."""
    found: set[str] = set()
    for path in sorted((PACKAGE.parents[1] / "benchmarks").glob("*.py")):
        found |= _benchmark_private_imports(path)
    assert found == BENCHMARK_PRIVATE_ALLOWLIST, (sorted(found - BENCHMARK_PRIVATE_ALLOWLIST),
                                                 sorted(BENCHMARK_PRIVATE_ALLOWLIST - found))
