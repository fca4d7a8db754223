"""The item lineage and label-model views of a multi-label run (``/items/<id>``, ``/label-model``).

A multi-label run's item page shows, per label, which sources voted it
present or absent, ``P(label applies)`` of the label model and the end
model, the gold and the final labels; its label-model page shows the dev
F1 of the label model, one-vs-rest majority vote and the end model, per
label, and what the label model learned about each source and label.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .page import explain
from .state import DashboardState

__all__ = ["multilabel_item_view", "multilabel_model_view", "label_rows"]


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
