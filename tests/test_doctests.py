"""Docstring examples are part of the test suite, and every public definition gets one.

Every module of the package runs its docstring examples as doctests (a module whose optional
dependency is not installed is skipped with the install hint's reason). The public definitions
(classes and functions in a public package's ``__all__``) must each have a numpydoc ``Examples``
section; the ones still without are listed in ``NO_EXAMPLES_YET``, a list that may only shrink: a
new public definition without an example fails, and so does a listed one that has gained one (take
it off the list).
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

#: Public definitions without an Examples section yet (issue 17); shrink it, never grow it.
NO_EXAMPLES_YET = frozenset({
    "weaklab.AutoLabelModel",
    "weaklab.DawidSkene",
    "weaklab.TorchClassifier",
})


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
    """New public classes and functions come with an Examples section; the backlog list only shrinks."""
    definitions = _public_definitions()
    without = {name for name, obj in definitions.items() if "Examples\n" not in (obj.__doc__ or "")}
    new = sorted(without - NO_EXAMPLES_YET)
    assert not new, f"public definitions without an Examples section: {new}"
    done = sorted(NO_EXAMPLES_YET - without)
    assert not done, f"these now have examples (or are gone): take them off NO_EXAMPLES_YET: {done}"
