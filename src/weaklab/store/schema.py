"""The store's DuckDB schema as an ordered list of migrations.

``MIGRATIONS[i]`` brings a store from schema version ``i`` to ``i + 1``. A new
store runs them all; an older store runs the missing ones in one transaction
when it is opened for writing. The version lives in the ``schema_info`` table
next to a ``format`` marker that tells a weaklab store from a foreign DuckDB
file.

Conventions of the tables: ids come from one sequence per table and only grow,
so newer records have larger ids; ``created_at`` is UTC; JSON is kept as text
(metrics may hold NaN, which strict JSON types reject); item ids are kept as
text (``item_key``) next to their dataset row; large arrays live in Parquet
files named in the ``arrays`` table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ._migrate_names import fill_class_names

__all__ = ["FORMAT", "Migration", "MIGRATIONS", "SCHEMA_VERSION"]

#: Marker stored under ``schema_info.format``.
FORMAT = "weaklab-store"


@dataclass(frozen=True)
class Migration:
    """One schema step: a description, the SQL statements to run in order, then an optional data step.

    ``after(con)`` runs in the same transaction (for back-filling new columns
    from what older versions recorded).
    """

    description: str
    statements: tuple[str, ...]
    after: Callable[[Any], None] | None = None


_SEQUENCES = (
    "dataset", "source", "application", "run", "label_model_run", "soft_labels",
    "end_model_run", "label_issue", "correction", "annotation", "alert",
)

_TABLES_V1 = (
    """CREATE TABLE arrays (
        name VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, n_rows BIGINT NOT NULL,
        n_bytes BIGINT NOT NULL, created_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE datasets (
        dataset_id BIGINT PRIMARY KEY, name VARCHAR NOT NULL, fingerprint VARCHAR NOT NULL,
        ids_fingerprint VARCHAR NOT NULL, n_items BIGINT NOT NULL, id_dtype VARCHAR NOT NULL,
        item_ids_array VARCHAR NOT NULL, meta VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE items (
        dataset_id BIGINT NOT NULL, item_key VARCHAR NOT NULL, row BIGINT NOT NULL)""",
    """CREATE TABLE sources (
        source_id BIGINT PRIMARY KEY, name VARCHAR NOT NULL, version VARCHAR NOT NULL,
        kind VARCHAR NOT NULL, code VARCHAR, params VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL,
        UNIQUE (name, version))""",
    """CREATE TABLE applications (
        application_id BIGINT PRIMARY KEY, dataset_id BIGINT NOT NULL, fingerprint VARCHAR NOT NULL,
        n_items BIGINT NOT NULL, n_sources INTEGER NOT NULL, n_classes INTEGER NOT NULL,
        class_names VARCHAR, layout VARCHAR NOT NULL, votes_array VARCHAR NOT NULL,
        rows_array VARCHAR, id_dtype VARCHAR, report VARCHAR, created_at TIMESTAMP NOT NULL,
        UNIQUE (dataset_id, fingerprint))""",
    """CREATE TABLE application_sources (
        application_id BIGINT NOT NULL, col INTEGER NOT NULL, name VARCHAR NOT NULL, version VARCHAR,
        n_votes BIGINT NOT NULL, coverage DOUBLE NOT NULL)""",
    """CREATE TABLE runs (
        run_id BIGINT PRIMARY KEY, dataset_id BIGINT NOT NULL, config VARCHAR NOT NULL,
        status VARCHAR NOT NULL, metrics VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP)""",
    """CREATE TABLE run_applications (
        run_id BIGINT NOT NULL, application_id BIGINT NOT NULL, created_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE label_model_runs (
        label_model_run_id BIGINT PRIMARY KEY, run_id BIGINT, application_id BIGINT,
        class VARCHAR NOT NULL, module VARCHAR, params VARCHAR NOT NULL, state VARCHAR NOT NULL,
        state_array VARCHAR NOT NULL, metrics VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE source_stats (
        run_id BIGINT NOT NULL, source VARCHAR NOT NULL, version VARCHAR, metric VARCHAR NOT NULL,
        value DOUBLE, created_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE soft_labels (
        soft_labels_id BIGINT PRIMARY KEY, run_id BIGINT, dataset_id BIGINT NOT NULL,
        role VARCHAR NOT NULL, producer VARCHAR, fingerprint VARCHAR NOT NULL, n_items BIGINT NOT NULL,
        n_classes INTEGER NOT NULL, class_names VARCHAR, proba_array VARCHAR NOT NULL,
        rows_array VARCHAR, id_dtype VARCHAR, created_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE end_model_runs (
        end_model_run_id BIGINT PRIMARY KEY, run_id BIGINT, name VARCHAR NOT NULL,
        params VARCHAR NOT NULL, metrics VARCHAR NOT NULL, calibration VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE label_issues (
        issue_id BIGINT PRIMARY KEY, run_id BIGINT NOT NULL, item_key VARCHAR NOT NULL,
        row BIGINT NOT NULL, given INTEGER, suggested INTEGER, score DOUBLE, method VARCHAR NOT NULL,
        rank BIGINT NOT NULL, created_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE issue_decisions (
        issue_id BIGINT NOT NULL, decision VARCHAR NOT NULL, who VARCHAR, why VARCHAR,
        correction_id BIGINT, created_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE corrections (
        correction_id BIGINT PRIMARY KEY, run_id BIGINT NOT NULL, item_key VARCHAR NOT NULL,
        row BIGINT NOT NULL, old_label INTEGER, new_label INTEGER NOT NULL, method VARCHAR,
        score DOUBLE, threshold DOUBLE, who VARCHAR, why VARCHAR, issue_id BIGINT,
        created_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE annotations (
        annotation_id BIGINT PRIMARY KEY, dataset_id BIGINT NOT NULL, item_key VARCHAR NOT NULL,
        row BIGINT NOT NULL, annotator VARCHAR NOT NULL, label INTEGER NOT NULL, origin VARCHAR,
        run_id BIGINT, created_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE claims (
        run_id BIGINT NOT NULL, item_key VARCHAR NOT NULL, row BIGINT NOT NULL,
        annotator VARCHAR NOT NULL, claimed_at TIMESTAMP NOT NULL, expires_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE alerts (
        alert_id BIGINT PRIMARY KEY, run_id BIGINT, kind VARCHAR NOT NULL, source VARCHAR,
        severity VARCHAR NOT NULL, message VARCHAR NOT NULL, value DOUBLE,
        created_at TIMESTAMP NOT NULL)""",
)

_ANSWER_IDENTITY_V2 = (
    # human answers: the class NAME, their own identity and time (Label Studio annotation id, updated_at),
    # when the store learnt them, and skips (no label)
    "ALTER TABLE annotations ADD COLUMN class_name VARCHAR",
    "ALTER TABLE annotations ADD COLUMN status VARCHAR DEFAULT 'answered'",
    "ALTER TABLE annotations ADD COLUMN external_id VARCHAR",
    "ALTER TABLE annotations ADD COLUMN updated_at TIMESTAMP",
    "ALTER TABLE annotations ADD COLUMN recorded_at TIMESTAMP",
    "ALTER TABLE annotations ALTER COLUMN label DROP NOT NULL",
    "UPDATE annotations SET status = 'answered', updated_at = created_at, recorded_at = created_at",
    # corrections and label issues carry class names too
    "ALTER TABLE corrections ADD COLUMN old_class VARCHAR",
    "ALTER TABLE corrections ADD COLUMN new_class VARCHAR",
    "ALTER TABLE label_issues ADD COLUMN given_class VARCHAR",
    "ALTER TABLE label_issues ADD COLUMN suggested_class VARCHAR",
    # a content fingerprint per item, to tell which answered items changed in a new dataset version
    "ALTER TABLE items ADD COLUMN content VARCHAR",
    # the process that runs a run (pid, host, process start), to tell a dead run from a live one
    "ALTER TABLE runs ADD COLUMN pid BIGINT",
    "ALTER TABLE runs ADD COLUMN host VARCHAR",
    "ALTER TABLE runs ADD COLUMN process_start VARCHAR",
    # items sent out for labelling (e.g. a Label Studio task file): pending until answered or skipped
    """CREATE TABLE exports (
        dataset_id BIGINT NOT NULL, item_key VARCHAR NOT NULL, target VARCHAR NOT NULL, batch VARCHAR,
        run_id BIGINT, created_at TIMESTAMP NOT NULL)""",
)

_PARTITIONED_V3 = (
    # distributed runs record their votes and soft labels by reference: a Parquet dataset (folder or URL) with
    # its manifest (_weaklab.json: sources, classes, partition files and rows) and its content fingerprint
    """CREATE TABLE partitioned (
        run_id BIGINT NOT NULL, kind VARCHAR NOT NULL, root VARCHAR NOT NULL, fingerprint VARCHAR NOT NULL,
        manifest VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL)""",
)

_PARTITIONED_DATASETS_V4 = (
    # the data of a distributed run, by reference: its file (Parquet/CSV path or URL), the columns of ids, texts and
    # pictures, the rows per partition and the votes folder whose id columns locate an item (its partition and row)
    """CREATE TABLE partitioned_datasets (
        dataset_id BIGINT PRIMARY KEY, location VARCHAR NOT NULL, format VARCHAR NOT NULL, id_column VARCHAR,
        id_dtype VARCHAR NOT NULL, text_column VARCHAR, image_column VARCHAR, n_rows BIGINT NOT NULL,
        fingerprint VARCHAR NOT NULL, id_index VARCHAR NOT NULL, layout VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL)""",
)

_SPANS_V5 = (
    # tagging runs: the spans of every source, the label model's proposed spans (with confidence), the end
    # model's and the gold spans, each a set of rows in Parquet (item row, token start/end, type, source,
    # confidence) with the items' tokens; and people's answers on an item's spans (the spans they left, what
    # they decided about each proposed span, and which proposed set they saw)
    "CREATE SEQUENCE seq_span_set START 1",
    "CREATE SEQUENCE seq_span_answer START 1",
    """CREATE TABLE span_sets (
        span_set_id BIGINT PRIMARY KEY, run_id BIGINT, dataset_id BIGINT NOT NULL, role VARCHAR NOT NULL,
        producer VARCHAR, fingerprint VARCHAR NOT NULL, entity_types VARCHAR NOT NULL, sources VARCHAR NOT NULL,
        n_items BIGINT NOT NULL, n_spans BIGINT NOT NULL, spans_array VARCHAR NOT NULL, items_array VARCHAR,
        metrics VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE span_answers (
        span_answer_id BIGINT PRIMARY KEY, dataset_id BIGINT NOT NULL, item_key VARCHAR NOT NULL,
        row BIGINT NOT NULL, annotator VARCHAR NOT NULL, status VARCHAR NOT NULL, spans VARCHAR NOT NULL,
        decisions VARCHAR NOT NULL, span_set_id BIGINT, run_id BIGINT, origin VARCHAR,
        created_at TIMESTAMP NOT NULL)""",
)

_END_MODEL_STATE_V6 = (
    # the fitted end model itself (JSON + arrays, no pickle), so `weaklab predict` can apply it to new data
    "ALTER TABLE end_model_runs ADD COLUMN state VARCHAR",
    "ALTER TABLE end_model_runs ADD COLUMN state_array VARCHAR",
)

_FIT_GOLD_V7 = (
    # the items whose gold in the data file fed a run's label-model fit ([data].fit_gold), recorded by item key at
    # fit time with the gold each gave (class id and name) and its content fingerprint, under one set per run with
    # the digest of (item key, gold) pairs: the review queues and `weaklab doctor` read them instead of drawing the
    # rows again from a data file that may have changed since (a run recorded before this has no set)
    """CREATE TABLE fit_gold_sets (
        run_id BIGINT PRIMARY KEY, dataset_id BIGINT NOT NULL, n_items BIGINT NOT NULL, digest VARCHAR NOT NULL,
        option VARCHAR, random_state BIGINT, origin VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE fit_gold_items (
        run_id BIGINT NOT NULL, item_key VARCHAR NOT NULL, row BIGINT NOT NULL, label INTEGER NOT NULL,
        class_name VARCHAR, content VARCHAR)""",
)

_QUEUE_SLOTS_V8 = (
    # the items review queues served (dashboard, terminal, Label Studio batches), one round id per request, with
    # which were uniformly random checks and how many items were free to draw: what weights every queue answer
    # into an unbiased sample of the pool (a store migrated from v7 has no slots: its answers stay "active")
    "CREATE SEQUENCE seq_queue_round START 1",
    """CREATE TABLE queue_slots (
        round_id BIGINT NOT NULL, dataset_id BIGINT NOT NULL, item_key VARCHAR NOT NULL, row BIGINT NOT NULL,
        slot BIGINT NOT NULL, queue VARCHAR NOT NULL, run_id BIGINT, at_random BOOLEAN NOT NULL,
        pool_left BIGINT NOT NULL, created_at TIMESTAMP NOT NULL)""",
)

_MULTILABEL_V9 = (
    # multi-label runs: the votes of every source on every label ((item, source, label, vote) rows, 1 present,
    # 0 absent), and per-label probabilities P(label applies) of the label model, the end model and the gold
    # label sets of the data (1/0, NaN where an item has no gold), each an (n_items, n_labels) array by dataset row
    "CREATE SEQUENCE seq_label_set START 1",
    """CREATE TABLE label_sets (
        label_set_id BIGINT PRIMARY KEY, run_id BIGINT, dataset_id BIGINT NOT NULL, role VARCHAR NOT NULL,
        producer VARCHAR, fingerprint VARCHAR NOT NULL, label_names VARCHAR NOT NULL, sources VARCHAR NOT NULL,
        n_items BIGINT NOT NULL, n_labels BIGINT NOT NULL, array_name VARCHAR NOT NULL, metrics VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL)""",
)

_LABEL_SET_ANSWERS_V10 = (
    # a person's answer on a multi-label item: the label names they say apply (an empty list: none of them),
    # or a skip; with the label set of probabilities they were shown (lineage)
    "CREATE SEQUENCE seq_label_set_answer START 1",
    """CREATE TABLE label_set_answers (
        label_set_answer_id BIGINT PRIMARY KEY, dataset_id BIGINT NOT NULL, item_key VARCHAR NOT NULL,
        row BIGINT NOT NULL, annotator VARCHAR NOT NULL, status VARCHAR NOT NULL, labels VARCHAR NOT NULL,
        label_set_id BIGINT, run_id BIGINT, origin VARCHAR, created_at TIMESTAMP NOT NULL)""",
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        "lineage tables: datasets, items, sources, applications, runs, label-model runs, soft labels, "
        "end-model runs, label issues, corrections, annotations, review claims, alerts",
        tuple(f"CREATE SEQUENCE seq_{name} START 1" for name in _SEQUENCES) + _TABLES_V1,
    ),
    Migration(
        "answer identity: class names on answers, corrections and issues; external ids, update times and "
        "skips of answers; item content fingerprints; run processes; exported (pending) items",
        _ANSWER_IDENTITY_V2,
        after=fill_class_names,
    ),
    Migration("distributed runs: partitioned votes and soft labels recorded by reference", _PARTITIONED_V3),
    Migration("partitioned datasets: a distributed run's data file by reference, its columns and row count",
              _PARTITIONED_DATASETS_V4),
    Migration("tagging: span sets (sources', proposed, end-model and gold spans) and span answers", _SPANS_V5),
    Migration("end-model state: the fitted end model as JSON and arrays, for weaklab predict", _END_MODEL_STATE_V6),
    Migration("fit gold: the items whose data-file gold fed a run's label-model fit, by item key, with their gold",
              _FIT_GOLD_V7),
    Migration("queue slots: the items review queues served, by round, with their random checks and free pool",
              _QUEUE_SLOTS_V8),
    Migration("multi-label: label sets (sources' per-label votes, label-model, end-model and gold probabilities "
              "of each label)", _MULTILABEL_V9),
    Migration("multi-label answers: the labels a person says apply to an item, by name", _LABEL_SET_ANSWERS_V10),
)

#: The schema version this weaklab writes.
SCHEMA_VERSION = len(MIGRATIONS)
