"""Import torch on demand, with weaklab's install hint when it is absent."""

from __future__ import annotations

from types import ModuleType

from ..errors import missing_dependency

__all__ = ["import_torch"]


def import_torch(feature: str = "TorchClassifier") -> ModuleType:
    """Return the ``torch`` module or raise :class:`~weaklab.errors.MissingDependencyError`."""
    try:
        import torch
    except ImportError:
        raise missing_dependency("torch", "torch", feature) from None
    return torch
