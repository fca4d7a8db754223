"""Labeling functions may vote class names; they become ids through the class list when applied."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from weaklab import (
    ABSTAIN,
    LabelingFunction,
    apply_lfs,
    keyword_lf,
    labeling_function,
    lookup_lf,
    regex_lf,
    threshold_lf,
)
from weaklab.errors import LFExecutionError, ValidationError

DATA = pd.DataFrame({"id": ["a", "b", "c", "d"], "text": ["free money now", "nice song", "hm", "win a song"],
                     "n": [3, 2, 1, 3]})


@labeling_function()
def money(x):
    return "spam" if "money" in x.text else ABSTAIN


@labeling_function(vectorized=True)
def song(df):
    return np.where(df.text.str.contains("song"), "ham", None)


@labeling_function(vectorized=True)
def short(df):
    return df.text.map(lambda t: "ham" if len(t) < 5 else "spam")


NAMED = [money, song, short, keyword_lf("win", "spam"), regex_lf(r"^nice", "ham", name="re_nice"),
         threshold_lf("n", above=2, label="spam", name="many"),
         lookup_lf({"free money now": "spam", "hm": "ham"}, field="text", name="kb")]


def _classes_voted(classes: list[str]) -> np.ndarray:
    L, _ = apply_lfs(NAMED, DATA, item_id="id", class_names=classes, progress=False)
    dense = L.to_dense()
    names = np.array([*classes, "-"], dtype=object)
    return names[np.where(dense == ABSTAIN, len(classes), dense)]


def test_name_votes_mean_the_same_classes_whatever_the_order_of_the_class_list():
    """The class each vote names does not change when the list is reordered or a class inserted."""
    first = _classes_voted(["ham", "spam"])
    assert first.tolist()[0] == ["spam", "-", "spam", "-", "-", "spam", "spam"]
    assert first.tolist()[1] == ["-", "ham", "spam", "-", "ham", "-", "-"]
    assert first.tolist()[2] == ["-", "-", "ham", "-", "-", "-", "ham"]
    assert (_classes_voted(["spam", "ham"]) == first).all()
    assert (_classes_voted(["other", "spam", "unsure", "ham"]) == first).all()


def test_name_votes_equal_the_same_lfs_written_with_ids():
    ids = [LabelingFunction("money", lambda x: 1 if "money" in x.text else ABSTAIN),
           keyword_lf("win", 1), regex_lf(r"^nice", 0, name="re_nice"), threshold_lf("n", above=2, label=1),
           lookup_lf({"hm": 0, "nice song": 1}, field="text", name="kb"), lookup_lf({"hm"}, field="text", label=1)]
    names = [money, keyword_lf("win", "spam"), regex_lf(r"^nice", "ham", name="re_nice"),
             threshold_lf("n", above=2, label="spam"), lookup_lf({"hm": "ham", "nice song": "spam"}, field="text",
                                                                 name="kb"),
             lookup_lf(pd.DataFrame({"key": ["hm"]}), field="text", label="spam")]
    L_ids, report_ids = apply_lfs(ids, DATA, class_names=["ham", "spam"], progress=False)
    L_names, report_names = apply_lfs(names, DATA, class_names=["ham", "spam"], progress=False)
    assert (L_ids.to_dense() == L_names.to_dense()).all()
    assert report_ids.by_name == (False,) * 6 and report_names.by_name == (True,) * 6


def test_an_unknown_name_is_an_error_naming_the_lf_the_item_and_the_name():
    @labeling_function()
    def typo(x):
        return "spma" if "money" in x.text else ABSTAIN

    with pytest.raises(LFExecutionError, match=r"'typo' returned the class name 'spma' \(expected one of the class "
                       r"names 'ham', 'spam'.*on item 'a' \(row 0\)"):
        apply_lfs([typo], DATA, item_id="id", class_names=["ham", "spam"], progress=False)
    with pytest.warns(RuntimeWarning, match="lost to labeling-function faults"):
        L, report = apply_lfs([typo, money], DATA, item_id="id", class_names=["ham", "spam"], progress=False,
                              on_error="abstain")
    assert report.n_faults == (1, 0) and L.to_dense()[:, 0].tolist() == [-1] * 4
    assert report.faults[0].item_id == "a" and "'spma'" in report.faults[0].error


def test_a_vectorized_lf_voting_an_unknown_name_names_the_first_row_with_it():
    lf = LabelingFunction("vec", lambda df: np.where(df.text == "hm", "hamm", None), vectorized=True)
    with pytest.raises(LFExecutionError, match=r"'vec' returned the class name 'hamm'.* on item 'c' \(row 2\)"):
        apply_lfs([lf], DATA, item_id="id", class_names=["ham", "spam"], progress=False)


def test_names_without_a_class_list_say_the_list_is_needed():
    with pytest.raises(LFExecutionError, match="class names need the class list"):
        apply_lfs([money], DATA, progress=False)
    with pytest.raises(ValidationError, match=r"'keyword_win': label: expected a class id \(class names need the "
                       r"class list.*got the class name 'spam'"):
        apply_lfs([keyword_lf("win", "spam")], DATA, progress=False)


def test_a_template_voting_an_unknown_name_is_a_configuration_error_even_when_faults_abstain():
    with pytest.raises(ValidationError, match=r"'keyword_win': label: expected one of the class names 'ham', "
                       r"'spam', got the class name 'Spam'"):
        apply_lfs([keyword_lf("win", "Spam")], DATA, class_names=["ham", "spam"], progress=False, on_error="abstain")


def test_row_wise_name_votes_run_in_worker_processes():
    L1, _ = apply_lfs([money, song], DATA, class_names=["ham", "spam"], progress=False)
    L2, report = apply_lfs([money, song], DATA, class_names=["ham", "spam"], progress=False, n_jobs=2)
    assert (L1.to_dense() == L2.to_dense()).all() and report.by_name == (True, True)


@pytest.mark.parametrize("label", ["", None, -1, True, 1.5])
def test_a_template_label_must_be_a_class_id_or_a_name(label):
    with pytest.raises(ValidationError, match="label: expected a class id >= 0 or a class name"):
        keyword_lf("win", label)


def test_a_lookup_voting_an_unknown_class_name_names_the_lf_and_the_classes():
    """A knowledge base naming a class the list lacks is a configuration error, like any template's label."""
    kb = lookup_lf({"hm": "ham", "nice song": "Spam"}, field="text", name="kb")
    with pytest.raises(ValidationError, match=r"'kb': label: expected one of the class names 'ham', 'spam', got the "
                       r"class name 'Spam'"):
        apply_lfs([kb], DATA, class_names=["ham", "spam"], progress=False)
    with pytest.raises(ValidationError, match=r"kb\['x'\]: expected a class id >= 0 or a class name"):
        lookup_lf({"x": ""}, field="text")


def test_votes_of_a_renamed_class_count_as_its_new_name():
    """With class_renames {"spam": "junk mail"}, LFs still voting "spam" (row-wise, vectorized, templates, lookups,
    in worker processes too) vote the class "junk mail": the same matrix as LFs written with the new name."""
    renamed = ["ham", "junk mail"]
    expected = _classes_voted(["ham", "spam"])
    L, report = apply_lfs(NAMED, DATA, item_id="id", class_names=renamed, class_renames={"spam": "junk mail"},
                          progress=False)
    names = np.array([*renamed, "-"], dtype=object)
    got = names[np.where(L.to_dense() == ABSTAIN, 2, L.to_dense())]
    assert (got == np.where(expected == "spam", "junk mail", expected)).all()
    assert all(report.by_name) and L.class_names == tuple(renamed)
    pooled, _ = apply_lfs([money, song], DATA, class_names=renamed, class_renames={"spam": "junk mail"},
                          progress=False, n_jobs=2)
    assert pooled.to_dense()[:, 0].tolist() == [1, -1, -1, -1]


@pytest.mark.parametrize(("renames", "classes", "message"), [
    ({"spam": "junk"}, ["ham", "spam", "junk"], r"class_renames\['spam'\]: expected an old name that is no longer a "
                                                r"class, got 'spam', which is a class as well as renamed to 'junk'"),
    ({"spam": "junk"}, ["ham", "junk mail"], r"class_renames\['spam'\]: expected one of the class names"),
    ({"spam": "junk"}, None, "class_names: expected the class list the renamed classes map into"),
    ([("spam", "junk")], ["ham", "junk"], "class_renames: expected a mapping"),
])
def test_an_ambiguous_or_dangling_rename_is_an_error_naming_it(renames, classes, message):
    with pytest.raises(ValidationError, match=message):
        apply_lfs([money], DATA, class_names=classes, class_renames=renames, progress=False)
