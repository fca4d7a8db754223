"""Recording a demo run in the lineage store (``weaklab demo`` keeps one run per invocation)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .._core import LabelMatrix, SoftLabels, fingerprint
from ..labeling import lf_summary
from ..pipeline.record import label_model_stats, record_alerts, record_sources, recorded_run, stats_for_store
from ..pipeline.training import calibration
from ..store import Store

if TYPE_CHECKING:
    from .run import SpamDemo

__all__ = ["record_demo", "DEMO_DATASET"]

#: Name of the demo's dataset in the store.
DEMO_DATASET = "youtube_spam"


def record_demo(demo: SpamDemo, state: dict[str, Any]) -> int:
    """Record a finished demo (every earlier step run) as one run; return its id.

    Dataset: every bundled comment (item ids = comment ids). The run holds the
    sources and their versions, the label matrix over the training and test
    comments with its ApplyReport, the label model's (AutoLabelModel) state and soft labels,
    per-source statistics (the label model's estimated accuracy and the
    accuracy on the test comments' gold), the end
    model's metrics and calibration, and alerts against the previous demo run.
    """
    comments = state["comments"]
    L: LabelMatrix = state["L"]
    result = demo.result
    with Store(demo.store) as store:
        dataset_id = store.add_dataset(DEMO_DATASET, item_ids=comments["comment_id"].to_numpy(),
                                       fingerprint=fingerprint("youtube_spam", comments),
                                       meta={"bundled": "youtube_spam", "id_column": "comment_id"})
        versions = record_sources(store, state["lfs"])
        config = {
            "demo": True, "random_state": demo.random_state, "test_size": demo.test_size,
            "seed_size": demo.seed_size,
            "label_model": {"name": "AutoLabelModel", "chosen": result.label_model_choice},
            "end_model": {"name": "tfidf_logreg"}, "sources": versions,
            "steps": ["apply", "analyse", "fit", "train"]}
        with recorded_run(store, dataset_id, config) as run:
            run_id = run.run_id
            _record_run(store, run_id, dataset_id, L, state, result)
            run.metrics.update({"label_model": result.label_model, "end_model": result.end_model,
                                "sizes": result.sizes, "n_alerts": len(result.alerts)})
    result.run_id, result.store_path = run_id, str(demo.store)
    result.example_item = example_item(state["L_test"])
    return run_id


def _record_run(store: Store, run_id: int, dataset_id: int, L: LabelMatrix, state: dict[str, Any],
                result: Any) -> None:
    report = result.report.to_dict() if result.report is not None else None
    app_id = store.add_application(dataset_id, L, report=report, run_id=run_id)
    model = state["label_model"]
    soft = SoftLabels(model.predict_proba(L), item_ids=L.item_ids, class_names=L.class_names,
                      producer="AutoLabelModel")
    store.add_label_model_run(run_id, model.to_state(), application_id=app_id, metrics=result.label_model)
    store.add_soft_labels(dataset_id, soft, run_id=run_id, role="label_model")
    test = state["test"]
    gold = test["label"].to_numpy()
    summary = lf_summary(state["L_test"], gold).rename(columns={"emp_acc": "emp_accuracy"})
    stats = summary.join(label_model_stats(model, L, random_state=0), how="left")
    store.add_source_stats(run_id, stats_for_store(stats))
    proba = state["weak_proba_test"]
    store.add_end_model_run(run_id, "tfidf_logreg", params={"C": 4.0}, metrics=result.end_model,
                            calibration=calibration(proba, gold, random_state=0))
    current = stats.copy()
    current["n_votes"] = L.votes_per_source()
    current["coverage"] = current["n_votes"] / max(1, L.n_items)
    result.alerts = record_alerts(store, run_id, dataset_id, current, n_classes=L.n_classes)


def example_item(L: LabelMatrix) -> Any:
    """A comment worth explaining: the first with conflicting votes, else the first with two votes, else any."""
    dense = L.to_dense()
    voted = (dense >= 0).sum(axis=1)
    spam, ham = (dense == 1).sum(axis=1), (dense == 0).sum(axis=1)
    for mask in ((spam > 0) & (ham > 0), voted >= 2, voted >= 1):
        rows = np.flatnonzero(mask)
        if rows.size:
            value = L.item_ids[rows[0]] if L.item_ids is not None else int(rows[0])
            return value.item() if isinstance(value, np.generic) else value
    return None
