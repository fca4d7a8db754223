"""The item lineage, label-model and health views of a multi-label run (``/items/<id>``, ``/label-model``, ``/health``).

A multi-label run's item page shows, per label, which sources voted it
present or absent, ``P(label applies)`` of the label model and the end
model, the gold and the final labels; its label-model page shows the dev
F1 of the label model, one-vs-rest majority vote and the end model, per
label, and what the label model learned about each source and label.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..pipeline.multilabel_health import POOLED
from . import charts
from .page import explain
from .state import DashboardState

__all__ = ["multilabel_item_view", "multilabel_model_view", "multilabel_health_view", "label_rows"]


def multilabel_item_view(state: DashboardState, item_id: str, run_id: int) -> dict[str, Any]:
    """An item of a multi-label run: its text, and per label its votes, probabilities and gold."""
    def build() -> dict[str, Any]:
        story = explain(state, item_id, run_id)
        story["text"] = state.texts(state.dataset_id(run_id)).get(story["item_id"])
        story["rows"] = label_rows(story)
        return story

    return dict(state.fresh(("multilabel_item", str(item_id), int(run_id)), build))


def label_rows(story: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per label of an item's story: sources voting present and absent, both models' P, gold.

    Examples
    --------
    >>> story = {"label_names": ["a"], "votes": [{"source": "s", "label": "a", "vote": "absent"}],
    ...          "label_model": {"proba": {"a": 0.2}}, "end_model": None, "gold": ["a"], "final_labels": []}
    >>> row = label_rows(story)[0]
    >>> row["absent"], row["label_model"], row["gold"], row["final"]
    (['s'], 0.2, True, False)
    """
    out = []
    for name in story.get("label_names", []):
        votes = [v for v in story["votes"] if v["label"] == name]
        gold = story.get("gold")
        out.append({"label": name, "present": [v["source"] for v in votes if v["vote"] == "present"],
                    "absent": [v["source"] for v in votes if v["vote"] == "absent"],
                    "label_model": None if story.get("label_model") is None else story["label_model"]["proba"][name],
                    "end_model": None if story.get("end_model") is None else story["end_model"]["proba"][name],
                    "gold": None if gold is None else name in gold,
                    "final": name in (story.get("final_labels") or [])})
    return out


def multilabel_model_view(state: DashboardState, run_id: int) -> dict[str, Any]:
    """The label-model page of a multi-label run: dev F1 per label, learned source rates, label priors."""
    def build() -> dict[str, Any]:
        metrics = state.run_row(run_id).get("metrics") or {}
        lm, em = metrics.get("label_model") or {}, metrics.get("end_model") or {}
        store = state.store
        records = store.run_records(int(run_id))["label_model_runs"]
        model_state = None if not len(records) else store.load_label_model_state(
            int(records["label_model_run_id"].iloc[-1]))
        stats = store.run_source_stats(int(run_id))
        return {"model_class": lm.get("class"), "dev": lm.get("dev"), "majority_vote": lm.get("majority_vote"),
                "end_dev": em.get("dev"), "n_dev": metrics.get("n_dev", 0),
                "per_label": _per_label(lm.get("dev"), em.get("dev")),
                "sources": _sources(stats, model_state), "priors": _priors(model_state)}

    return dict(state.fresh(("multilabel_model", int(run_id)), build))


def _per_label(lm: dict[str, Any] | None, em: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not lm:
        return []
    return [{"label": name, "support": row["support"], "predicted": row["predicted"], "f1": row["f1"],
             "end_f1": None if not em else em["per_label"][name]["f1"]} for name, row in lm["per_label"].items()]


def _sources(stats: Any, model_state: dict[str, Any] | None) -> list[dict[str, Any]]:
    arrays = (model_state or {}).get("arrays", {})
    names = ((model_state or {}).get("attributes") or {}).get("source_names_") or []
    rates = {n: (float(arrays["sensitivity_"][j]), float(arrays["specificity_"][j]))
             for j, n in enumerate(names)} if "sensitivity_" in arrays else {}
    out = []
    for name, row in stats.iterrows():
        sens, spec = rates.get(str(name), (None, None))
        out.append({"source": str(name), "version": row.get("version"),
                    **{k: _num(row.get(k)) for k in ("coverage", "n_present", "n_absent", "precision", "accuracy")},
                    "sensitivity": sens, "specificity": spec})
    return out


def _priors(model_state: dict[str, Any] | None) -> list[dict[str, Any]]:
    arrays = (model_state or {}).get("arrays", {})
    names = ((model_state or {}).get("attributes") or {}).get("label_names_") or (model_state or {}).get(
        "label_names") or []
    if "label_prior_" not in arrays:
        return []
    return [{"label": n, "prior": float(p)} for n, p in zip(names, np.asarray(arrays["label_prior_"]).tolist())]


def _num(value: Any) -> float | None:
    return None if value is None or value != value else float(value)


def multilabel_health_view(state: DashboardState, run_id: int) -> dict[str, Any]:
    """The model-health page of a multi-label run: dev scores of both models, per-label counts, calibration.

    Per label: gold support, the label model's and the end model's F1,
    true/false positives and negatives (from the recorded F1, support and
    predicted count) and expected calibration error; reliability diagrams
    of ``P(applies)`` on the dev gold, pooled and per label (runs recorded
    before weaklab kept the bins show the errors only).
    """
    def build() -> dict[str, Any]:
        metrics = state.run_row(run_id).get("metrics") or {}
        lm, em = metrics.get("label_model") or {}, metrics.get("end_model") or {}
        models: list[tuple[str, dict[str, Any]]] = [(who, m["dev"]) for who, m in (("label model", lm),
                                                                                  ("end model", em))
                                                    if isinstance(m.get("dev"), dict)]
        diagrams = {}
        for label in _curve_labels(models):
            curves = {who: (dev.get("reliability") or {}).get(label) or [] for who, dev in models}
            if any(curves.values()):
                diagrams[label] = charts.reliability({k: v for k, v in curves.items() if v},
                                                     title=f"Reliability of P(applies): {label}")
        return {"model_class": lm.get("class"), "end_model": em or None, "n_dev": metrics.get("n_dev", 0),
                "scores": [{"who": who, **{k: dev.get(k) for k in ("micro_f1", "macro_f1", "hamming_loss",
                                                                    "mean_ece")}} for who, dev in models],
                "labels": _label_counts(models), "diagrams": diagrams,
                "calibration": [{"label": name, **c} for name, c in (em.get("calibration") or {}).items()]}

    return dict(state.fresh(("multilabel_health", int(run_id)), build))


def _curve_labels(models: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """The pooled curve first, then the labels, in recorded order."""
    names: list[str] = []
    for _, dev in models:
        for name in (dev.get("reliability") or {}):
            if name not in names:
                names.append(name)
    return sorted(names, key=lambda n: n != POOLED)


def _label_counts(models: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Per label and model: support, F1, TP/FP/FN/TN on the dev items and ECE.

    Examples
    --------
    >>> dev = {"n": 10, "per_label": {"a": {"f1": 0.8, "support": 4, "predicted": 6, "ece": 0.1}}}
    >>> row = _label_counts([("label model", dev)])[0]
    >>> row["tp"], row["fp"], row["fn"], row["tn"]
    (4, 2, 0, 4)
    """
    names = list((models[0][1].get("per_label") or {}) if models else [])
    out = []
    for name in names:
        for who, dev in models:
            row = (dev.get("per_label") or {}).get(name)
            if row is None:
                continue
            n, support, predicted = int(dev.get("n") or 0), int(row["support"]), int(row["predicted"])
            tp = round(float(row["f1"]) * (support + predicted) / 2)
            out.append({"label": name, "who": who, "support": support, "f1": row["f1"], "tp": tp,
                        "fp": predicted - tp, "fn": support - tp, "tn": n - support - predicted + tp,
                        "ece": row.get("ece")})
    return out
