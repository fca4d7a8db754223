"""Where a project's steps run: ``[engine]`` of ``weaklab.toml`` and the Dask client it opens.

``kind = "local"`` (the default) runs every step in this process.
``kind = "dask"`` runs ``apply``, ``fit`` and ``issues`` on a Dask cluster:
``scheduler = "local"`` starts a ``distributed.LocalCluster`` of
``n_workers`` worker processes for the run (and stops it after), any other
value is the address of a running scheduler (``tcp://host:8786``,
``tls://...``), which is how a project moves from one machine to a real
cluster (dask-kubernetes, dask-jobqueue): change that one line.

Dask is an optional extra: ``pip install 'weaklab[dask]'``.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._core.validation import fail
from ..errors import ValidationError, missing_dependency

__all__ = ["ENGINE_KINDS", "EngineConfig", "check_engine", "check_scheduler", "engine_client", "ship_modules"]

#: The values of ``[engine].kind``.
ENGINE_KINDS = ("local", "dask")
#: Seconds a client waits for a remote scheduler before the run fails naming its address.
CONNECT_TIMEOUT = 10.0
_ADDRESS = re.compile(r"^[a-z][a-z0-9+.-]*://\S+$")
#: Keys that only mean something on the Dask engine.
_DASK_ONLY = ("scheduler", "n_workers", "output", "partition_rows")


@dataclass(frozen=True)
class EngineConfig:
    """A validated ``[engine]`` table.

    Attributes
    ----------
    kind : {"local", "dask"}, default="local"
        ``"local"`` runs the steps in this process; ``"dask"`` on a Dask cluster.
    scheduler : str, default="local"
        ``"local"`` starts a LocalCluster for the run; otherwise the address of
        a running scheduler (``"tcp://host:8786"``).
    n_workers : int, optional
        Worker processes of the LocalCluster (default: Dask's choice from the
        machine's cores). Only with ``scheduler = "local"``.
    output : str, optional
        Folder or fsspec URL that partitioned votes and soft labels are written
        under (default: ``partitions/`` beside the store). On a real cluster
        it must be storage every worker and the client can reach (S3, GCS, a
        shared file system).
    partition_rows : int, default=1_000_000
        Rows per partition when the project's data file is read.

    Examples
    --------
    >>> EngineConfig(kind="dask", scheduler="tcp://10.0.0.5:8786").is_dask
    True
    >>> EngineConfig().is_dask
    False
    """

    kind: str = "local"
    scheduler: str = "local"
    n_workers: int | None = None
    output: str | None = None
    partition_rows: int = 1_000_000

    @property
    def is_dask(self) -> bool:
        """True when the steps run on Dask."""
        return self.kind == "dask"

    @property
    def address(self) -> str | None:
        """The remote scheduler's address, or None for a LocalCluster."""
        return None if self.scheduler == "local" else self.scheduler


def check_scheduler(file: Path, where: str, value: Any) -> None:
    """``[engine].scheduler``: ``"local"`` or a scheduler address with its protocol (``tcp://host:port``).

    Examples
    --------
    >>> check_scheduler(Path("weaklab.toml"), "engine.scheduler", "tcp://10.0.0.5:8786")
    >>> check_scheduler(Path("weaklab.toml"), "engine.scheduler", "10.0.0.5:8786")
    Traceback (most recent call last):
    ...
    weaklab.errors.ValidationError: weaklab.toml: engine.scheduler: expected "local" or a scheduler address \
with its protocol (e.g. "tcp://10.0.0.5:8786"), got '10.0.0.5:8786'
    """
    if value != "local" and not _ADDRESS.match(value):
        raise _bad(file, where, '"local" or a scheduler address with its protocol (e.g. "tcp://10.0.0.5:8786")',
                   repr(value))


def check_engine(file: Path, engine: Mapping[str, Any]) -> None:
    """Checks across the keys of ``[engine]`` (each key's type was checked before).

    Dask-only keys need ``kind = "dask"``; ``n_workers`` needs a LocalCluster
    (``scheduler = "local"``): a remote cluster's size is the cluster's own.

    Examples
    --------
    >>> check_engine(Path("weaklab.toml"), {"kind": "dask", "n_workers": 2})
    >>> check_engine(Path("weaklab.toml"), {"n_workers": 2})
    Traceback (most recent call last):
    ...
    weaklab.errors.ValidationError: weaklab.toml: engine.n_workers: expected kind = "dask" in [engine] \
(the key means nothing to the local engine), got kind = 'local'
    """
    kind = engine.get("kind", "local")
    for key in _DASK_ONLY:
        if key in engine and kind != "dask":
            raise _bad(file, f"engine.{key}", 'kind = "dask" in [engine] (the key means nothing to the local '
                       "engine)", f"kind = {kind!r}")
    if "n_workers" in engine and engine.get("scheduler", "local") != "local":
        raise _bad(file, "engine.n_workers", 'scheduler = "local" (a remote cluster has the workers it was '
                   "started with)", f"scheduler = {engine['scheduler']!r}")


@contextmanager
def engine_client(engine: EngineConfig) -> Iterator[Any]:
    """A ``distributed.Client`` for ``engine`` while the block runs (None for the local engine).

    ``scheduler = "local"`` starts a LocalCluster of ``n_workers`` single-threaded
    worker processes (each under a nanny, which restarts a worker that dies)
    and closes it after the block; an address connects to that scheduler
    and leaves the cluster running. Inside the block the client is Dask's
    default, so ``compute()`` runs on it.

    Parameters
    ----------
    engine : EngineConfig

    Yields
    ------
    distributed.Client or None

    Raises
    ------
    MissingDependencyError
        ``kind = "dask"`` without ``weaklab[dask]`` installed.
    ValidationError
        The scheduler address cannot be reached within 10 seconds (the
        message names ``engine.scheduler`` and the address).

    Examples
    --------
    >>> with engine_client(EngineConfig()) as client:
    ...     print(client)
    None
    >>> with engine_client(EngineConfig(kind="dask", n_workers=2)) as client:   # doctest: +SKIP
    ...     len(client.scheduler_info()["workers"])
    2
    """
    if not engine.is_dask:
        yield None
        return
    distributed = _import_distributed()
    if engine.address is None:
        with _local_cluster(distributed, engine) as cluster, distributed.Client(cluster) as client:
            yield client
        return
    try:
        client = distributed.Client(engine.address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        raise fail("engine.scheduler", f"a Dask scheduler reachable within {CONNECT_TIMEOUT:g} s",
                   got_text=f"{engine.address!r} ({exc})") from None
    with client:
        yield client


def ship_modules(client: Any, lfs: Any, text_field: str | None = None, image_field: str | None = None,
                 image_root: str | None = None) -> list[str]:
    """Make the modules ``lfs`` were defined in importable on every worker of ``client``.

    Only modules a worker could not import by name (the project's LF files,
    loaded from a path) are shipped, as source text; an installed package
    must be installed on the workers too (as on any Dask cluster).

    Parameters
    ----------
    client : distributed.Client or None
        Nothing happens for None (the local engine).
    lfs : sequence of LabelingFunction
    text_field, image_field, image_root : str, optional
        The project's text column, picture column and picture folder: the
        defaults of sources built on a worker (as on the client).

    Returns
    -------
    list of str
        The shipped module names.

    Examples
    --------
    >>> ship_modules(None, [])
    []
    """
    if client is None:
        return []
    modules: dict[str, tuple[str, str]] = {}
    for lf in lfs:
        name = getattr(getattr(lf, "function", None), "__module__", None)
        module = sys.modules.get(str(name))
        path = getattr(module, "__file__", None)
        if name and module is not None and path and getattr(module, "__spec__", None) is None:
            with open(path, encoding="utf-8") as handle:
                modules[str(name)] = (str(path), handle.read())
    if modules:
        from .dask_plugin import ProjectModules

        client.register_plugin(ProjectModules(modules, text_field, image_field, image_root))
    return sorted(modules)


def _local_cluster(distributed: Any, engine: EngineConfig) -> Any:
    kwargs: dict[str, Any] = {"threads_per_worker": 1, "processes": True, "dashboard_address": ":0",
                              "silence_logs": logging.ERROR}
    if engine.n_workers is not None:
        kwargs["n_workers"] = engine.n_workers
    return distributed.LocalCluster(**kwargs)


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise missing_dependency("distributed", "dask", '[engine] kind = "dask"') from None
    return distributed


def _bad(file: Path, where: str, expected: str, got: str) -> ValidationError:
    return ValidationError(f"{file}: {where}: expected {expected}, got {got}")
