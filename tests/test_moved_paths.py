"""Import paths that were documented before a room moved (issue 12) still give the same objects."""

from __future__ import annotations

import importlib

import pytest

MOVED = [
    ("weaklab.pipeline", "weaklab.demo", ("SpamDemo", "DemoResult", "init_project")),
    ("weaklab.pipeline.report", "weaklab.report", ("write_report", "render_report")),
    ("weaklab.pipeline.labelstudio", "weaklab.interop.labelstudio",
     ("export_label_studio", "import_label_studio", "labeling_config", "parse_label_studio_export",
      "to_label_studio_tasks", "config_path", "read_user_map", "ExportSummary", "ImportSummary",
      "MODEL_VERSION", "READ_FORMATS")),
    ("weaklab.labeling.embedding", "weaklab.labeling.templates.embedding", ("embedding_lf",)),
]


@pytest.mark.parametrize(("old", "new", "names"), MOVED, ids=[m[0] for m in MOVED])
def test_old_path_gives_the_moved_objects(old, new, names):
    """Each name resolves at its old path to the very object at its new home, and stays in ``__all__``."""
    before, after = importlib.import_module(old), importlib.import_module(new)
    for name in names:
        assert getattr(before, name) is getattr(after, name), name
        assert name in before.__all__, name


def test_unknown_name_on_pipeline_is_an_attribute_error():
    """The lazy re-export in weaklab.pipeline names what is missing."""
    import weaklab.pipeline

    with pytest.raises(AttributeError, match="SpamDemon"):
        weaklab.pipeline.SpamDemon  # noqa: B018
