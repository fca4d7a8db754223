"""Docstring examples are part of the test suite, and every public definition gets one.

Every module of the package runs its docstring examples as doctests (a module whose optional
dependency is not installed is skipped with the install hint's reason). Every public definition
(a class or function in a public package's ``__all__``) has a numpydoc ``Examples`` section, so a
new one without an example fails here.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
from types import ModuleType

import pytest

import weaklab
from weaklab.errors import MissingDependencyError

MODULES = sorted(m.name for m in pkgutil.walk_packages(weaklab.__path__, prefix="weaklab."))
PUBLIC_PACKAGES = [
    "weaklab",
    *sorted(f"weaklab.{m.name}" for m in pkgutil.iter_modules(weaklab.__path__) if not m.name.startswith("_")),
]


def _import(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except (ImportError, MissingDependencyError) as exc:  # an extra that is not installed
        pytest.skip(f"{name} needs an optional dependency: {exc}")


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    """Every example in the module's docstrings prints the output it shows."""
    module = _import(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, report=True)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed (see above)"


def _public_definitions() -> dict[str, object]:
    """Dotted name (first public package that exports it) -> class or function."""
    found: dict[int, tuple[str, object]] = {}
    for package in PUBLIC_PACKAGES:
        module = _import(package)
        for attr in getattr(module, "__all__", []):
            obj = getattr(module, attr)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                found.setdefault(id(obj), (f"{package}.{attr}", obj))
    return dict(found.values())


def test_every_public_definition_has_an_example() -> None:
    """Every public class and function documents its use with a runnable Examples section."""
    definitions = _public_definitions()
    assert len(definitions) > 250, f"only {len(definitions)} public definitions found: the walk is broken"
    without = sorted(name for name, obj in definitions.items() if "Examples\n" not in (obj.__doc__ or ""))
    assert not without, f"public definitions without an Examples section: {without}"
