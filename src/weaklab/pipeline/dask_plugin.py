"""The Dask worker plugin that carries the project's LF files to the workers (imported with the dask extra only)."""

from __future__ import annotations

import sys
import types
from typing import Any

from distributed import WorkerPlugin

from ..labeling import source_defaults

__all__ = ["ProjectModules"]


class ProjectModules(WorkerPlugin):  # type: ignore[misc]
    """A Dask worker plugin that runs the project's LF files on every worker, under the client's module names.

    The project's ``lfs.py`` is loaded on the client as a fresh module (not
    importable by name), so the labeling functions it defines cannot be
    unpickled on a worker that has not run it. The plugin carries the files'
    *source text* (no pickle of code) and runs it on each worker when the
    worker starts, including a worker the nanny restarts after a crash.

    Parameters
    ----------
    modules : dict
        ``{module name: (file path, source text)}``.
    text_field : str, optional
        The project's text column (templates built without ``field=`` read it).
    image_field, image_root : str, optional
        The project's picture column and the folder its paths are relative to
        (image sources built without ``field=`` / ``root=`` read them).

    Examples
    --------
    >>> plugin = ProjectModules({"weaklab_project_lfs_demo": ("lfs.py", "X = 1")})
    >>> plugin.setup(worker=None)     # what each worker does when it starts
    >>> sys.modules["weaklab_project_lfs_demo"].X
    1
    """

    idempotent = False

    def __init__(self, modules: dict[str, tuple[str, str]], text_field: str | None = None,
                 image_field: str | None = None, image_root: str | None = None) -> None:
        self.modules = dict(modules)
        self.text_field = text_field
        self.image_field = image_field
        self.image_root = image_root
        # one plugin per set of modules: registering the same project again replaces it, others stay
        self.name = "weaklab-project-modules-" + "-".join(sorted(self.modules))

    def setup(self, worker: Any = None) -> None:
        """Run each module's source into ``sys.modules`` (on the worker)."""
        for name, (path, source) in self.modules.items():
            module = types.ModuleType(name)
            module.__file__ = path
            with source_defaults(self.text_field, self.image_field, self.image_root):
                exec(compile(source, path, "exec"), module.__dict__)  # the project's LF file, as on the client
            sys.modules[name] = module

    def teardown(self, worker: Any = None) -> None:
        """Nothing to release."""
