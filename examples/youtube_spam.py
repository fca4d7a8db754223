"""Weak supervision on the bundled YouTube comments with the public API.

Run: python examples/youtube_spam.py
"""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from weaklab import (
    ABSTAIN,
    AutoLabelModel,
    DawidSkene,
    MajorityVote,
    SoftLabelClassifier,
    apply_lfs,
    keyword_lf,
    labeling_function,
    lf_summary,
    load_youtube_spam,
    regex_lf,
)

HAM, SPAM = 0, 1


@labeling_function(vectorized=True)
def short_comment(df):
    """Very short comments are rarely spam."""
    return np.where(df["text"].str.len() < 20, HAM, ABSTAIN)


@labeling_function()
def many_exclamations(x):
    """Row-wise: shouting with several exclamation marks is often spam."""
    return SPAM if x.text.count("!") >= 3 else ABSTAIN


def main() -> None:
    comments = load_youtube_spam()
    train, test = train_test_split(comments, test_size=0.3, random_state=0, stratify=comments["label"])
    lfs = [
        keyword_lf(["subscribe", "my channel", "check out"], SPAM, name="kw_promo"),
        keyword_lf(["song", "love", "voice"], HAM, name="kw_song"),
        regex_lf(r"https?://|www\.", SPAM, name="re_link"),
        short_comment,
        many_exclamations,
    ]
    L_train, report = apply_lfs(lfs, train, item_id="comment_id", n_classes=2, progress=False)
    L_test, _ = apply_lfs(lfs, test, item_id="comment_id", n_classes=2, progress=False)
    print(report.to_frame()[["coverage", "n_faults", "items_per_second"]].round(3).to_string())
    summary = lf_summary(L_test, gold=test["label"].to_numpy())
    print(summary[["polarity", "coverage", "overlaps", "conflicts", "emp_acc"]].round(3).to_string())

    for model in (MajorityVote(), DawidSkene(random_state=0), AutoLabelModel(random_state=0)):
        model.fit(L_train)
        covered = L_test.votes_per_item() > 0
        pred = model.predict(L_test, tie_break="random", random_state=0)
        acc = (pred[covered] == test["label"].to_numpy()[covered]).mean()
        print(f"{type(model).__name__}: accuracy on covered test items {acc:.3f} (coverage {covered.mean():.3f})")

    # AutoLabelModel is the default: without gold it keeps majority vote unless another model is
    # safely better (its reason_ says what it chose and why).
    label_model = AutoLabelModel(random_state=0).fit(L_train)
    print(f"AutoLabelModel: {label_model.reason_.split('; ')[0]}")
    soft = label_model.predict_proba(L_train)
    keep = L_train.votes_per_item() > 0
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2)
    X_train = vectorizer.fit_transform(train["text"])
    clf = SoftLabelClassifier(LogisticRegression(max_iter=1000)).fit(X_train[keep], soft[keep])
    acc = (clf.predict(vectorizer.transform(test["text"])) == test["label"].to_numpy()).mean()
    print(f"end model trained on soft labels: test accuracy {acc:.3f}")


if __name__ == "__main__":
    main()
