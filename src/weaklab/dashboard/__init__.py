"""The web dashboard (``weaklab serve``): runs, sources, label model, model health, label issues,
a human review queue and item lineage over a store, all served locally (no CDN).

Needs the ``web`` extra: ``pip install 'weaklab[web]'``.
"""

from __future__ import annotations

from typing import Any

from ..errors import missing_dependency

__all__ = ["create_app"]


def create_app(store_path: Any, *, token: str | None = None, annotator_default: str | None = None,
               timeout: float = 5.0) -> Any:
    """Build the FastAPI app over a store (see :func:`weaklab.dashboard.app.create_app`)."""
    try:
        from .app import create_app as build
    except ImportError as exc:
        raise missing_dependency(exc.name or "fastapi", "web", "weaklab serve") from None
    return build(store_path, token=token, annotator_default=annotator_default, timeout=timeout)
