"""Import torch on demand for the vision stage, with weaklab's install hint when it is absent."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

from ..errors import missing_dependency

__all__ = ["import_torch", "seeded_torch"]


def import_torch(feature: str) -> ModuleType:
    """Return the ``torch`` module or raise :class:`~weaklab.errors.MissingDependencyError`.

    Parameters
    ----------
    feature : str
        What needs torch (named in the error message).

    Returns
    -------
    module
        The imported ``torch`` package.
    """
    try:
        import torch
    except ImportError:
        raise missing_dependency("torch", "vision", feature) from None
    return torch


@contextmanager
def seeded_torch(seed: int, feature: str) -> Iterator[ModuleType]:
    """Run a block with torch's global generator seeded, restoring the caller's state afterwards.

    Parameters
    ----------
    seed : int
        Seed for ``torch.manual_seed`` inside the block.
    feature : str
        What needs torch (for the missing-dependency message).
    """
    torch = import_torch(feature)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        yield torch
