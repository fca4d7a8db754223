"""The bundled demo (``weaklab demo``) and ``weaklab init`` scaffolding.

* :class:`SpamDemo` runs weak supervision end to end on the bundled YouTube
  comments (:mod:`weaklab.demo.run`) and records the run
  (:mod:`weaklab.demo.record`) with the demo's sources (:mod:`weaklab.demo.lfs`);
* :func:`init_project` writes a ready-to-run project folder
  (:mod:`weaklab.demo.scaffold`).

It sits beside :mod:`weaklab.pipeline` and records through it.
"""

from .run import DemoResult, SpamDemo
from .scaffold import init_project

__all__ = ["DemoResult", "SpamDemo", "init_project"]
