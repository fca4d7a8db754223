"""Pipelines: the one layer that combines stages (and, later, the store)."""

from .demo import DemoResult, SpamDemo

__all__ = ["DemoResult", "SpamDemo"]
