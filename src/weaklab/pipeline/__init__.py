"""Pipelines: the one layer that combines the stages and the store.

* :class:`Project` runs a project described by a ``weaklab.toml``
  (apply → analyse → fit → train → issues → query), each run recorded in the
  store, unchanged work reused;
* :func:`detect_alerts` checks sources between runs;
* :class:`SpamDemo` is ``weaklab demo``.
"""

from .alerts import Alert, AlertThresholds, detect_alerts
from .config import CONFIG_NAME, ProjectConfig, load_config
from .demo import DemoResult, SpamDemo
from .project import STEPS, Project, RunResult
from .scaffold import init_project

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
