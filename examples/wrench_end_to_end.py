"""A WRENCH weak-label set end to end with the public API: sources, label models, end model, label errors.

WRENCH (Zhang et al., 2021) ships each set as ``train.json`` / ``valid.json`` / ``test.json`` with the
labeling functions' votes already applied (``weak_labels``). This script:

1. loads the three splits and summarises the sources on the valid split's gold;
2. fits majority vote and the default ``AutoLabelModel`` on the train votes *without gold* and scores
   both on the test split (expected accuracy: a tie among t classes counts 1/t);
3. trains a TF-IDF + logistic regression end model on the covered train items' soft labels and
   reports its test accuracy and expected calibration error (ECE);
4. flags train items whose weak label is likely wrong (confident learning on out-of-fold
   probabilities) and checks the flags against WRENCH's train gold, which a real project would not
   have.

Run: python examples/wrench_end_to_end.py [PATH/TO/wrench_youtube]
(default: $WEAKLAB_DATA/wrench_youtube, else ../shared/data/wrench_youtube beside the repository).
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from weaklab import (
    AutoLabelModel,
    MajorityVote,
    SoftLabelClassifier,
    expected_calibration_error,
    find_label_issues,
    lf_summary,
    load_wrench,
)
from weaklab.cleaning import out_of_fold_proba


def default_folder() -> Path:
    root = Path(os.environ.get("WEAKLAB_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
    return root / "wrench_youtube"


def expected_accuracy(proba: np.ndarray, gold: np.ndarray) -> float:
    """Accuracy with exact ties split: an item whose top probability is shared by t classes counts 1/t."""
    top = proba >= proba.max(axis=1, keepdims=True) - 1e-12
    return float(np.mean(top[np.arange(len(gold)), gold] / top.sum(axis=1)))


def main(folder: Path) -> None:
    splits = load_wrench(folder, split=None)
    train, valid, test = splits["train"], splits["valid"], splits["test"]
    print(f"{folder.name}: {train.n_items} train / {valid.n_items} valid / {test.n_items} test items, "
          f"{train.L.n_sources} sources, {train.L.n_classes} classes")

    # 1. The sources, with their empirical accuracy on the valid split's gold.
    summary = lf_summary(valid.L, gold=valid.gold)
    print(summary.sort_values("coverage", ascending=False).head(8).round(3).to_string())

    # 2. Label models without gold, scored on the test split.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        auto = AutoLabelModel(random_state=0).fit(train.L)
    for w in caught:
        print(f"AutoLabelModel warned: {w.message}")
    majority = MajorityVote().fit(train.L)
    for name, model in (("MajorityVote", majority), ("AutoLabelModel", auto)):
        print(f"{name:15s} test expected accuracy {expected_accuracy(model.predict_proba(test.L), test.gold):.3f}")
    print(f"AutoLabelModel chose {auto.selected_}: {auto.reason_}")

    # 3. An end model on the soft labels of the covered train items.
    soft = auto.predict_proba(train.L)
    covered = train.L.votes_per_item() > 0
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    X_train = vectorizer.fit_transform(train.items["text"])
    X_test = vectorizer.transform(test.items["text"])
    clf = SoftLabelClassifier(LogisticRegression(max_iter=2000)).fit(X_train[covered], soft[covered])
    proba = clf.predict_proba(X_test)
    accuracy = float(np.mean(proba.argmax(axis=1) == test.gold))
    ece = expected_calibration_error(proba, test.gold)
    print(f"end model (covered train items {covered.mean():.0%}): test accuracy {accuracy:.3f}, ECE {ece:.3f}")

    # 4. Which weak labels are wrong? Out-of-fold probabilities of the same end model, confident learning.
    weak = soft[covered].argmax(axis=1)
    oof = out_of_fold_proba(LogisticRegression(max_iter=2000), X_train[covered], weak, cv=5, random_state=0)
    flagged = find_label_issues(weak, oof)
    truly_wrong = weak != train.gold[covered]
    precision = truly_wrong[flagged].mean() if flagged.any() else float("nan")
    print(f"flagged {int(flagged.sum())} of {int(covered.sum())} weak labels; {precision:.0%} of the flagged "
          f"are wrong by the train gold (weak labels wrong overall: {truly_wrong.mean():.0%})")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else default_folder())
