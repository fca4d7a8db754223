"""Labeling functions for the bundled YouTube spam comments (the demo's sources).

Eleven sources of several kinds: keyword and regex rules, a knowledge-base
lookup (a list of authors already caught spamming), a threshold on comment
length, a model-based source (a small classifier trained on a few gold
comments) and two hand-written functions, one row-wise and one vectorized.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from .._core import ABSTAIN
from ..labeling import (
    LabelingFunction,
    keyword_lf,
    labeling_function,
    lookup_lf,
    model_lf,
    regex_lf,
    threshold_lf,
)

__all__ = ["HAM", "SPAM", "spam_lfs", "add_demo_features"]

HAM, SPAM = 0, 1


def add_demo_features(comments: pd.DataFrame) -> pd.DataFrame:
    """Columns the demo's sources read besides ``text``: ``n_chars``."""
    out = comments.copy()
    out["n_chars"] = out["text"].str.len()
    return out


@labeling_function()
def shouting(x) -> int:
    """Row-wise: comments mostly in capitals that ask for something are spam."""
    letters = [c for c in x.text if c.isalpha()]
    if len(letters) < 12:
        return ABSTAIN
    upper = sum(c.isupper() for c in letters) / len(letters)
    return SPAM if upper > 0.6 and ("!" in x.text or "PLEASE" in x.text.upper()) else ABSTAIN


@labeling_function(vectorized=True)
def song_praise(df: pd.DataFrame) -> np.ndarray:
    """Vectorized: short comments that praise the song or the singer are ham."""
    text = df["text"].str.lower()
    praise = text.str.contains(r"\b(?:love|best|awesome|amazing|beautiful|great)\b", regex=True)
    short = df["text"].str.len() < 80
    return np.where(praise & short & ~text.str.contains("http|www|\\.com", regex=True), HAM, ABSTAIN)


def _text_column(df: pd.DataFrame) -> pd.Series:
    return df["text"]


def spam_lfs(
    seed_texts: Iterable[str] = (),
    seed_labels: Iterable[int] = (),
    known_spammers: Iterable[str] = (),
) -> list[LabelingFunction]:
    """The demo's labeling functions.

    Parameters
    ----------
    seed_texts, seed_labels : iterables
        A few gold comments; they train the model-based source (skipped when
        empty).
    known_spammers : iterable of str
        Authors already known to spam: the knowledge base of the lookup source.
    """
    lfs: list[LabelingFunction] = [
        keyword_lf(["check out", "check my", "my channel", "my videos"], SPAM, name="kw_my_channel"),
        keyword_lf(["subscribe", "subscribers", "sub4sub"], SPAM, name="kw_subscribe"),
        keyword_lf(["free", "win", "money", "earn", "gift card", "giftcard"], SPAM, name="kw_money"),
        keyword_lf(["song", "songs", "music", "voice", "dance"], HAM, name="kw_song"),
        regex_lf(r"https?://|www\.|\.com\b", SPAM, name="re_link"),
        regex_lf(r"\b(?:please|plz|pls)\b.{0,40}\b(?:like|share|follow|view)", SPAM, name="re_please_like"),
        regex_lf(r"^\W*(?:lol|haha+|wow|omg)\W*$", HAM, name="re_reaction"),
        lookup_lf(set(known_spammers), field="author", label=SPAM, name="kb_known_spammer"),
        threshold_lf("n_chars", below=25, label=HAM, name="th_short_comment"),
        shouting,
        song_praise,
    ]
    texts, labels = list(seed_texts), list(seed_labels)
    if texts:
        clf = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True),
                            LogisticRegression(C=4.0, max_iter=1000))
        clf.fit(texts, labels)
        lfs.append(model_lf(clf, featurizer=_text_column, threshold=0.8, name="model_seed_tfidf"))
    return lfs
