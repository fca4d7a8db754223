"""Pipelines: the one layer that combines the stages and the store.

* :class:`Project` runs a project described by a ``weaklab.toml``
  (apply → analyse → fit → train → issues → query), each run recorded in the
  store, unchanged work reused;
* :func:`detect_alerts` checks sources between runs;
* :class:`SpamDemo` is ``weaklab demo`` and :func:`init_project` is
  ``weaklab init``; both live in :mod:`weaklab.demo` and are re-exported here
  (loaded on first use) so that ``weaklab.pipeline`` keeps its public names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .alerts import Alert, AlertThresholds, detect_alerts
from .config import CONFIG_NAME, ProjectConfig, load_config
from .project import STEPS, Project, RunResult

if TYPE_CHECKING:
    from ..demo import DemoResult, SpamDemo, init_project

__all__ = [
    "Alert",
    "AlertThresholds",
    "CONFIG_NAME",
    "DemoResult",
    "Project",
    "ProjectConfig",
    "RunResult",
    "STEPS",
    "SpamDemo",
    "detect_alerts",
    "init_project",
    "load_config",
]

#: Names that live in :mod:`weaklab.demo` (the demo sits beside the pipeline and uses it).
_FROM_DEMO = ("DemoResult", "SpamDemo", "init_project")


def __getattr__(name: str) -> Any:
    if name in _FROM_DEMO:
        from .. import demo

        value = getattr(demo, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'weaklab.pipeline' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
