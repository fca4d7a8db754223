"""The Label Studio exchange's former import path: it lives in :mod:`weaklab.interop.labelstudio`.

Every public name is re-exported here unchanged.
"""

from ..interop.labelstudio import (
    MODEL_VERSION,
    READ_FORMATS,
    ExportSummary,
    ImportSummary,
    config_path,
    export_label_studio,
    import_label_studio,
    labeling_config,
    parse_label_studio_export,
    read_user_map,
    to_label_studio_tasks,
)

__all__ = [
    "config_path",
    "ExportSummary",
    "ImportSummary",
    "MODEL_VERSION",
    "READ_FORMATS",
    "export_label_studio",
    "import_label_studio",
    "labeling_config",
    "parse_label_studio_export",
    "read_user_map",
    "to_label_studio_tasks",
]
