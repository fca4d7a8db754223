"""Docstring examples are part of the test suite, and every public definition gets one.

Every module of the package runs its docstring examples as doctests (a module whose optional
dependency is not installed is skipped with the install hint's reason). Every public definition
(a class or function in the ``__all__`` of ``weaklab`` or of any public package under it, nested
ones such as ``weaklab.interop.labelstudio`` included) has a numpydoc docstring: an ``Examples``
section, a ``Parameters`` (or, for records, ``Attributes``) section when it takes parameters, and
a docstring on each public method. A new one without them fails here.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
import re
from types import ModuleType

import pytest

import weaklab
from weaklab.errors import MissingDependencyError

MODULES = sorted(m.name for m in pkgutil.walk_packages(weaklab.__path__, prefix="weaklab."))
PUBLIC_PACKAGES = [
    "weaklab",
    *sorted(m.name for m in pkgutil.walk_packages(weaklab.__path__, prefix="weaklab.")
            if m.ispkg and not any(part.startswith("_") for part in m.name.split("."))),
]
#: A docstring may send the reader to another's parameters ("Same parameters as :class:`DawidSkene`").
_REFERRED = re.compile(r"[Ss]ame parameters|[Pp]arameters\b[^.]*\b(as in|as for|as of|see)\b")
_SECTION = re.compile(r"^(Parameters|Attributes)\n-{3,}$", re.M)


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


def _parameters(obj: object) -> list[str]:
    try:
        signature = inspect.signature(obj)  # type: ignore[arg-type]
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return []
    return [name for name in signature.parameters if name not in ("self", "cls")]


def test_every_public_callable_documents_its_parameters() -> None:
    """A public class or function that takes parameters describes them in a numpydoc section."""
    missing = []
    for name, obj in _public_definitions().items():
        if inspect.isclass(obj) and issubclass(obj, BaseException):
            continue  # errors take a message
        doc = inspect.getdoc(obj) or ""
        if _parameters(obj) and not _SECTION.search(doc) and not _REFERRED.search(doc):
            missing.append(name)
    assert not missing, f"public callables without a Parameters (or Attributes) section: {sorted(missing)}"


def test_every_public_method_has_a_docstring() -> None:
    """Each public method, property and class method of a public class says what it does (its own
    docstring or the one it overrides)."""
    missing = []
    for name, obj in _public_definitions().items():
        if not inspect.isclass(obj):
            continue
        for attr, member in vars(obj).items():
            function = member.fget if isinstance(member, property) else getattr(member, "__func__", member)
            if attr.startswith("_") or not callable(function) or not hasattr(function, "__code__"):
                continue
            if not (inspect.getdoc(getattr(obj, attr)) or "").strip():
                missing.append(f"{name}.{attr}")
    assert not missing, f"public methods without a docstring: {sorted(missing)}"
