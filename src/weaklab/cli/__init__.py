"""The ``weaklab`` command line (thin: it calls the pipeline and the store)."""

from .main import main

__all__ = ["main"]
