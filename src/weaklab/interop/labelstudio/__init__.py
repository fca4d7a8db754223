"""Label Studio exchange: review batches out as tasks with predictions, human answers back in.

The exchange itself is :mod:`weaklab.interop.labelstudio.exchange`; its public
names are re-exported here.
"""

from .exchange import (
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
from .multilabel import (
    MULTILABEL_FROM_NAME,
    LabelSetAnnotation,
    multilabel_labeling_config,
    parse_label_studio_multilabel,
    to_label_studio_multilabel_tasks,
)
from .multilabel_exchange import export_label_studio_multilabel, import_label_studio_multilabel
from .ner import (
    NER_FROM_NAME,
    NER_SNAPS,
    NerAnnotation,
    char_to_token_spans,
    join_tokens,
    ner_labeling_config,
    parse_label_studio_ner,
    to_label_studio_ner_tasks,
    token_char_offsets,
)
from .ner_exchange import (
    ProposedSpans,
    export_label_studio_ner,
    import_label_studio_ner,
    is_tagging_run,
    proposed_spans,
    span_decisions,
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
    "MULTILABEL_FROM_NAME",
    "LabelSetAnnotation",
    "multilabel_labeling_config",
    "parse_label_studio_multilabel",
    "to_label_studio_multilabel_tasks",
    "export_label_studio_multilabel",
    "import_label_studio_multilabel",
    "NER_FROM_NAME",
    "NER_SNAPS",
    "NerAnnotation",
    "char_to_token_spans",
    "join_tokens",
    "ner_labeling_config",
    "parse_label_studio_ner",
    "to_label_studio_ner_tasks",
    "token_char_offsets",
    "ProposedSpans",
    "export_label_studio_ner",
    "import_label_studio_ner",
    "is_tagging_run",
    "proposed_spans",
    "span_decisions",
]
