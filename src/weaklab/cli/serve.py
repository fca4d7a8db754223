"""``weaklab serve``: the web dashboard over a store (FastAPI + uvicorn, extra ``[web]``)."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import click

from ..errors import ValidationError, missing_dependency
from ._common import handled, resolve_store, store_option, store_wait

__all__ = ["serve", "check_binding"]

#: Environment variable holding the access token (instead of --token).
TOKEN_ENV = "WEAKLAB_TOKEN"


def check_binding(host: str, token: str | None) -> None:
    """Refuse to bind off loopback without an access token.

    Raises
    ------
    ValidationError
        ``host`` is not a loopback address (127.0.0.0/8, ::1, localhost) and
        no token is set.
    """
    if token:
        return
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValidationError(f"--host {host}: binding off loopback exposes the store; pass --token T (or set "
                              f"{TOKEN_ENV}) so every request must present it")


@click.command()
@store_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (others need --token).")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--token", default=None, envvar=TOKEN_ENV, show_envvar=True,
              help="Access token every request must present (required off loopback).")
@click.option("--annotator", default=None, help="Default annotator name in the review queue.")
@handled
def serve(store_path: Path | None, host: str, port: int, token: str | None, annotator: str | None) -> None:
    """The web dashboard: runs, sources, label model, model health, label issues, review queue, item lineage.

    The dashboard opens the store only while it reads or records something
    (review answers, accepted corrections), so other weaklab commands (runs,
    explain, report, fit...) work on the same store while it runs; what they
    record shows up on the next page load. --wait is how long a request waits
    while another process writes. Answers journalled by a `weaklab annotate`
    that ended without saving (killed) are stored first, as `annotate` and
    `fit` store them.
    """
    check_binding(host, token)
    try:
        import uvicorn

        from ..dashboard.app import create_app  # lazy: the [web] extra is optional
    except ImportError as exc:
        raise missing_dependency(exc.name or "fastapi", "web", "weaklab serve") from None
    from ..pipeline.answer_journal import recover_journals  # lazy: `weaklab --help` loads no numeric stack

    path = resolve_store(store_path)
    recovered = recover_journals(path, timeout=store_wait())
    if recovered:
        click.echo(f"Saved {recovered} answer(s) and skip(s) of a review session that ended without saving "
                   "(kept in its journal).", err=True)
    app = create_app(path, token=token, annotator_default=annotator, timeout=store_wait())
    shown = f"http://{host}:{port}/" + (f"?token={token}" if token else "")
    click.echo(f"weaklab dashboard on {shown}  (Ctrl+C stops it)", err=True)
    uvicorn.run(app, host=host, port=port, log_level=os.environ.get("WEAKLAB_LOG_LEVEL", "warning"))
