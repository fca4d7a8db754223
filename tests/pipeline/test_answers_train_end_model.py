"""Human answers are the end model's targets on their items, whatever the label model made of them.

AutoLabelModel leaves answers to a review queue out of its fit (a biased sample); the end model must still
train on each answered item's answer, also on items no source voted on, and never on dev items."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from weaklab.pipeline import Project, init_project


def test_answers_to_the_queue_become_the_end_models_targets(tmp_path):
    """Every non-dev item answered in the review queue with the class the label model did NOT give it: the end
    model trains on every one of them (voted or not) with the answer as the target, so its dev accuracy falls far
    below the run before (trained on the soft labels), where the label model alone ignores such answers."""
    init_project(tmp_path, n_items=200)
    before = Project(tmp_path).run("train")
    frame = pd.read_csv(tmp_path / "data" / "comments.csv")
    dev = (frame["split"] == "dev").to_numpy()
    project = Project(tmp_path)
    with project.open_store() as store:
        soft = store.load_soft_labels(before.metrics["soft_labels_id"])
        names = list(soft.class_names)
        flipped = [names[1 - c] for c in np.argmax(soft.proba, axis=1)]
        for item, label, is_dev in zip(frame["comment_id"].astype(str), flipped, dev, strict=True):
            if not is_dev:
                store.add_annotation(before.dataset_id, item, "ann", label, origin="review")
    after = Project(tmp_path).run("train")
    end = after.metrics["end_model"]
    assert after.metrics["label_model"]["gold_sampling"] == "active"
    assert end["n_known_in_training"] == int((~dev).sum())
    assert end["n_train"] == int((~dev).sum())  # the answered items without a vote train too
    assert after.reused.get("train") is False
    assert end["accuracy"] < before.metrics["end_model"]["accuracy"] - 0.2


def test_dev_answers_never_train(tmp_path):
    """An answer on a dev item (its gold re-checked in the queue) is not a training target: dev items score."""
    init_project(tmp_path, n_items=200)
    before = Project(tmp_path).run("train")
    frame = pd.read_csv(tmp_path / "data" / "comments.csv")
    dev_ids = frame.loc[frame["split"] == "dev", "comment_id"].astype(str)
    with Project(tmp_path).open_store() as store:
        for item in dev_ids:
            store.add_annotation(before.dataset_id, item, "ann", "HAM", origin="review")
    after = Project(tmp_path).run("train")
    assert after.metrics["end_model"]["n_known_in_training"] == 0
    assert after.metrics["end_model"]["n_train"] == before.metrics["end_model"]["n_train"]


def test_recipe_known_classes_are_checked():
    """WeakLabelRecipe.fit(known=...) names the parameter for a wrong length, a class out of range or an item that
    also holds validation gold."""
    from weaklab.endmodel import WeakLabelRecipe
    from weaklab.errors import ValidationError

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    votes = rng.integers(-1, 2, size=(40, 2))
    proba = np.full((40, 2), 0.5)
    gold = np.full(40, -1)
    gold[:5] = 1
    for bad in (np.zeros(39, dtype=int), np.full(40, 2), np.where(np.arange(40) == 0, 0, -1)):
        with pytest.raises(ValidationError, match="known"):
            WeakLabelRecipe().fit(X, votes, proba, gold, known=bad)
