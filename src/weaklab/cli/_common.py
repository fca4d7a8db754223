"""Shared pieces of the commands: options, error handling, store lookup, JSON output."""

from __future__ import annotations

import functools
import json
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from ..errors import WeaklabError
from ..store.paths import DEFAULT_PATH

F = TypeVar("F", bound=Callable[..., Any])

#: Where a store is looked for when neither --store nor a project file says otherwise.
DEFAULT_STORE = DEFAULT_PATH

#: Seconds a command waits by default for another process to let go of the store.
DEFAULT_WAIT = 10.0


def _remember_wait(ctx: click.Context, param: click.Parameter, value: float) -> float:
    ctx.meta["weaklab.wait"] = value
    return value


_store_path_option = click.option(
    "--store", "store_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="The store's DuckDB file. Default: [store].path of ./weaklab.toml, else ./.weaklab/weaklab.duckdb.")
wait_option = click.option(
    "--wait", "wait", type=click.FloatRange(min=0), default=DEFAULT_WAIT, show_default=True, expose_value=False,
    callback=_remember_wait, metavar="SECONDS",
    help="How long to wait while another process holds the store (it holds it only while it writes; "
         "`weaklab serve` only while it records an answer), before failing with that process's PID and command.")


def store_option(func: F) -> F:
    """``--store PATH`` and ``--wait SECONDS`` (the wait is read back with :func:`store_wait`)."""
    return _store_path_option(wait_option(func))


def store_wait() -> float:
    """The ``--wait`` of the running command (the default outside a command)."""
    ctx = click.get_current_context(silent=True)
    return float(ctx.meta.get("weaklab.wait", DEFAULT_WAIT)) if ctx is not None else DEFAULT_WAIT
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON (for scripts) instead of tables.")
project_option = click.option(
    "--project", "-C", "project_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
    show_default=True, help="The project folder (holding weaklab.toml).")


def handled(func: F) -> F:
    """Turn weaklab errors into a one-line message and exit code 1 (never a traceback), and warnings into
    ``warning: ...`` lines on stderr (no file, line or class: the command's user did not write that code)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with warnings.catch_warnings():
            warnings.showwarning = _warning_line
            try:
                return func(*args, **kwargs)
            except WeaklabError as exc:
                raise click.ClickException(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc

    return wrapper  # type: ignore[return-value]


def _warning_line(message: Warning | str, category: type[Warning], filename: str, lineno: int, file: Any = None,
                  line: str | None = None) -> None:
    """``warnings.showwarning`` for a command: the message alone, as one ``warning:`` line on stderr."""
    click.echo(f"warning: {message}", err=True)


def resolve_store(store_path: Path | None, project_dir: Path = Path(".")) -> Path:
    """The store file a command reads: --store, else the project's, else ./.weaklab/weaklab.duckdb."""
    if store_path is not None:
        return store_path
    if (project_dir / "weaklab.toml").is_file():
        from ..pipeline import load_config

        return load_config(project_dir).store_path
    return project_dir / DEFAULT_STORE


@contextmanager
def open_store(store_path: Path | None, *, read_only: bool = True) -> Iterator[Any]:
    """Open an existing store for the command (a clear error when there is none yet).

    A read-only command reads in one session (one open of the file; other
    readers are welcome, a writer waits for the command to end); a writing
    command holds the file only while each write runs.
    """
    from ..store import Store

    path = resolve_store(store_path)
    if not path.is_file():
        raise click.ClickException(f"no weaklab store at {path}: run `weaklab demo` or `weaklab fit` first, "
                                   "or pass --store PATH")
    store = Store(path, read_only=read_only, timeout=store_wait())
    try:
        if read_only:
            with store.session():
                yield store
        else:
            yield store
    finally:
        store.close()


#: Width of a console that is not a terminal (piped or redirected): wide enough that nothing is cut.
PIPE_WIDTH = 10_000


def make_console(*, stderr: bool = False) -> Any:
    """A rich Console for the command's output; not cut to 80 columns when piped or redirected."""
    from rich.console import Console

    console = Console(stderr=stderr)
    if not console.is_terminal:
        console = Console(stderr=stderr, width=PIPE_WIDTH)
    return console


def echo_json(value: Any) -> None:
    """Print ``value`` as indented JSON (numpy, pandas and datetime values converted)."""
    click.echo(json.dumps(value, indent=2, default=_default, ensure_ascii=False))


def _default(value: Any) -> Any:
    import numpy as np
    import pandas as pd

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (pd.Timestamp, datetime, date)):
        return value.isoformat()
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, pd.DataFrame):
        return records(value)
    raise TypeError(f"{type(value).__name__} is not JSON-able")


def records(frame: Any) -> list[dict[str, Any]]:
    """A DataFrame as a list of JSON-able dicts (NaN → null)."""
    out = []
    for row in frame.to_dict("records"):
        out.append({str(k): _clean(v) for k, v in row.items()})
    return out


def _clean(value: Any) -> Any:
    import numpy as np
    import pandas as pd

    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, np.generic):
        value = value.item()
        return None if isinstance(value, float) and value != value else value
    if value is pd.NaT or value is pd.NA or value is None:
        return None
    if isinstance(value, (pd.Timestamp, datetime)):
        return value.isoformat()
    return value
