"""Weak supervision for sequence tagging: span votes, span LFs, tag label models, span F1.

A stage package: it imports only weaklab's base layer.
"""

from .analysis import span_lf_summary
from .apply import SpanApplyReport, apply_span_lfs
from .base import TagLabelModel, io_ids_to_spans
from .context import SHORT_FORM_SOURCE, add_short_form_source, short_form_spans
from .corpus import Corpus, normalize_token
from .crf import CRFTagger, token_features
from .dataset import TaggingDataset, load_tagging
from .hmm import HMMLabelModel
from .lfs import SpanLF, gazetteer_lf, model_span_lf, regex_span_lf, shape_lf, word_shape
from .majority import MajorityVoteTagger, type_vote_counts
from .metrics import span_f1, span_f1_report
from .spans import bio_to_io, check_spans, io_to_bio, merge_adjacent, spans_to_tags, tags_to_spans
from .token_ds import TokenDawidSkene
from .votes import TokenVotes

__all__ = [
    "TaggingDataset",
    "TokenVotes",
    "load_tagging",
    "TagLabelModel",
    "MajorityVoteTagger",
    "HMMLabelModel",
    "TokenDawidSkene",
    "CRFTagger",
    "token_features",
    "span_f1",
    "span_f1_report",
    "tags_to_spans",
    "spans_to_tags",
    "bio_to_io",
    "io_to_bio",
    "merge_adjacent",
    "check_spans",
    "io_ids_to_spans",
    "type_vote_counts",
    "SpanLF",
    "gazetteer_lf",
    "regex_span_lf",
    "shape_lf",
    "model_span_lf",
    "word_shape",
    "apply_span_lfs",
    "SpanApplyReport",
    "span_lf_summary",
    "short_form_spans",
    "add_short_form_source",
    "SHORT_FORM_SOURCE",
    "Corpus",
    "normalize_token",
]
