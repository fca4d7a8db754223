"""The web dashboard (``weaklab serve``): runs, sources, label model, model health, label issues,
a human review queue and item lineage over a store, all served locally (no CDN).

Needs the ``web`` extra: ``pip install 'weaklab[web]'``.
"""

from __future__ import annotations

from typing import Any

from ..errors import missing_dependency

__all__ = ["create_app"]


def create_app(store_path: Any, *, token: str | None = None, annotator_default: str | None = None,
               timeout: float = 5.0, random_share: float | None = None) -> Any:
    """Build the FastAPI app over a store (see :func:`weaklab.dashboard.app.create_app`).

    Parameters
    ----------
    store_path : str or Path
        The store to serve (``.weaklab/weaklab.duckdb`` in a project).
    token : str, optional
        An access token every request must carry (required to bind a non-loopback address).
    annotator_default : str, optional
        The name review answers are stored under when the form gives none.
    timeout : float, default=5.0
        Seconds a request waits for a store that another process holds.
    random_share : float, optional
        The share (0..1) of review-queue slots that are random checks, overriding the projects'
        ``[query].random_share`` (None: theirs; 0: ranked items only).

    Returns
    -------
    fastapi.FastAPI
        The app (serve it with uvicorn, or ``weaklab serve``).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from fastapi.testclient import TestClient
    >>> from weaklab.dashboard import create_app
    >>> from weaklab.pipeline import Project, init_project
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = init_project(folder, n_items=200)
    >>> project = Project(folder)
    >>> _ = project.run(until="fit")
    >>> client = TestClient(create_app(project.store_path), base_url="http://127.0.0.1")  # a browser on this machine
    >>> page = client.get("/")
    >>> page.status_code, "Sources" in page.text
    (200, True)
    """
    try:
        from .app import create_app as build
    except ImportError as exc:
        raise missing_dependency(exc.name or "fastapi", "web", "weaklab serve") from None
    return build(store_path, token=token, annotator_default=annotator_default, timeout=timeout,
                 random_share=random_share)
