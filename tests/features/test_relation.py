"""Relation tasks: marking the entity pair lets a bag-of-words end model see what the LFs read (issue 15)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from weaklab import ValidationError
from weaklab.features import entity_marked_texts, has_entity_spans


def _relation_items(n, seed):
    """Two clauses per sentence, 'X causes Y' and 'Z prevents W'; the spans pick one clause, the class its verb."""
    rng = np.random.default_rng(seed)
    nouns = ["virus", "drug", "smoke", "diet", "stress", "gene", "toxin", "sleep"]
    rows, y = [], []
    for _ in range(n):
        a, b, c, d = rng.choice(nouns, 4, replace=False)
        first, second = f"{a} causes {b}", f"{c} prevents {d}"
        text = f"{first} and {second} ."
        label = int(rng.integers(0, 2))
        if label == 0:
            s1, s2 = (0, len(a)), (len(a) + 8, len(a) + 8 + len(b))
        else:
            off = len(first) + 5
            s1, s2 = (off, off + len(c)), (off + len(c) + 10, off + len(c) + 10 + len(d))
        rows.append({"text": text, "span1": [s1[0], s1[1]], "span2": [s2[0], s2[1]]})
        y.append(label)
    return pd.DataFrame(rows), np.array(y)


def test_marked_texts_separate_what_the_plain_sentence_cannot():
    items, y = _relation_items(400, 0)
    assert items.loc[0, "text"][slice(*items.loc[0, "span1"])] in items.loc[0, "text"]
    train, test = slice(0, 300), slice(300, None)

    def accuracy(texts):
        vec = TfidfVectorizer().fit(texts[train])
        clf = LogisticRegression(max_iter=1000).fit(vec.transform(texts[train]), y[train])
        return float(np.mean(clf.predict(vec.transform(texts[test])) == y[test]))

    plain = accuracy(np.array(items["text"].tolist(), dtype=object))
    marked = accuracy(np.array(entity_marked_texts(items), dtype=object))
    assert plain < 0.7  # every sentence holds both verbs: the bag of words cannot tell the relation
    assert marked > 0.95


def test_rows_without_spans_keep_their_text_and_missing_columns_are_named():
    items = pd.DataFrame({"text": ["a b c", "d e"], "span1": [[0, 1], None], "span2": [[4, 5], [3, 4]]})
    out = entity_marked_texts(items)
    assert out[0].startswith("a b c e1_first btw_b") and out[1] == "d e"
    assert has_entity_spans(items) and not has_entity_spans(items[["text"]])
    with pytest.raises(ValidationError, match="column 'span1'"):
        entity_marked_texts(items[["text", "span2"]])
