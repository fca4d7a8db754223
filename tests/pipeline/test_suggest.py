"""Source repair suggestions: harm by counterfactual prediction, narrower templates, applying the repairs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from weaklab.cleaning import find_weak_label_errors
from weaklab.labeling import keyword_lf, regex_lf
from weaklab.models import MajorityVote
from weaklab.pipeline.suggest import RepairSuggestions, SourceRepair, apply_repairs, narrower_template, suggest_repairs


def _planted(n=400, seed=0):
    """Three sources right 90 % of the time and one ('bad') that votes the wrong class on a third of the items."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    good = np.where(rng.random((n, 3)) < 0.9, y[:, None], 1 - y[:, None])
    good[rng.random((n, 3)) < 0.4] = -1
    bad = np.where(rng.random(n) < 0.33, 1 - y, -1)
    votes = np.column_stack([good, bad])
    oof = np.where(np.eye(2)[y] == 1, 0.8, 0.2)
    return votes, y, oof


def test_the_planted_bad_source_is_the_most_harmful_and_is_dropped():
    """The source that votes wrong labels causes more errors than it fixes and comes first; good ones are kept."""
    votes, _, oof = _planted()
    model = MajorityVote().fit(votes, n_classes=2)
    found = find_weak_label_errors(votes, model.predict_proba(votes), oof, source_names=["g0", "g1", "g2", "bad"])
    suggestions = suggest_repairs(votes, model, found)
    first = suggestions.repairs[0]
    assert first.source == "bad" and first.harm > 0 and first.action == "drop"
    assert first.harm == first.caused - first.fixed
    assert all(r.action == "keep" for r in suggestions.repairs if r.source != "bad")
    assert [r.harm for r in suggestions.repairs] == sorted((r.harm for r in suggestions.repairs), reverse=True)
    frame = suggestions.to_frame()
    assert list(frame["source"]) == [r.source for r in suggestions.repairs] and suggestions.n_flagged > 0


def test_a_keyword_template_is_narrowed_by_the_keyword_on_most_flagged_items():
    """The keyword that fires on most culprit items is dropped; the replacement keeps the name and the rest."""
    lf = keyword_lf(["free", "song", "win"], 1, name="kw")
    data = pd.DataFrame({"text": ["free song", "a song", "song now", "win big", "nothing"]})
    new, detail = narrower_template(lf, data, np.array([0, 1, 2]))
    assert new.name == "kw" and new.params["keywords"] == ("free", "win") and "'song'" in detail
    assert narrower_template(keyword_lf(["song"], 1), data, np.array([0])) is None
    assert narrower_template(lf, data, np.array([4])) is None  # no keyword fires on the culprits


def test_a_regex_is_split_only_at_top_level_alternatives():
    """Alternatives inside groups or character classes stay whole; the culprits' alternative is removed."""
    lf = regex_lf(r"b(c|d)|[x|y]z|http", 1, name="re")
    data = pd.DataFrame({"text": ["see http://a", "bd", "http b"]})
    new, _ = narrower_template(lf, data, np.array([0, 2]))
    assert new.params["pattern"] == "b(c|d)|[x|y]z"
    assert narrower_template(regex_lf(r"(a|b)c", 1), data, np.array([0])) is None


def test_apply_repairs_drops_and_replaces_by_name():
    """Dropped sources disappear, narrowed ones are replaced in place, kept ones are unchanged."""
    lfs = [keyword_lf(["a", "b"], 1, name="x"), keyword_lf(["c"], 0, name="y"), keyword_lf(["d"], 0, name="z")]
    narrowed = keyword_lf(["a"], 1, name="x")
    s = RepairSuggestions((SourceRepair("x", 3, 1, 2, "narrow", "", narrowed), SourceRepair("y", 2, 0, 2, "drop", ""),
                           SourceRepair("z", 0, 4, -4, "keep", "")), 5, 50)
    out = apply_repairs(lfs, s)
    assert [lf.name for lf in out] == ["x", "z"] and out[0] is narrowed and out[1] is lfs[2]
    assert [r.source for r in s.actionable()] == ["x", "y"]
