"""Tests of the bundled UCI YouTube Spam Collection."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import pytest

from weaklab import LabelMatrix, ValidationError
from weaklab.data import YOUTUBE_SPAM_CLASSES, load_youtube_spam

VIDEOS = {"Youtube01-Psy": "Psy", "Youtube02-KatyPerry": "KatyPerry", "Youtube03-LMFAO": "LMFAO",
          "Youtube04-Eminem": "Eminem", "Youtube05-Shakira": "Shakira"}


def test_shape_columns_and_counts():
    """All 1,956 published rows load with the documented columns, 1,005 spam and 951 ham."""
    df = load_youtube_spam(drop_duplicates=False)
    assert df.shape == (1956, 6)
    assert list(df.columns) == ["comment_id", "author", "date", "text", "label", "video"]
    assert df["label"].value_counts().to_dict() == {1: 1005, 0: 951}
    assert df["video"].value_counts().to_dict() == {"Eminem": 448, "LMFAO": 438, "Shakira": 370,
                                                     "Psy": 350, "KatyPerry": 350}
    assert df["date"].isna().sum() == 245
    assert YOUTUBE_SPAM_CLASSES == ("HAM", "SPAM")


def test_duplicates_are_exact_copies_and_dropped_by_default():
    """The 3 repeated comment ids are exact copies; the default drops them, leaving unique ids."""
    full = load_youtube_spam(drop_duplicates=False)
    repeated = full[full["comment_id"].duplicated(keep=False)]
    assert repeated["comment_id"].nunique() == 3 and len(repeated) == 6
    assert len(repeated.drop_duplicates()) == 3
    df = load_youtube_spam()
    assert len(df) == 1953 and df["comment_id"].is_unique
    pd.testing.assert_frame_equal(df, full.drop_duplicates().reset_index(drop=True))


def test_ids_usable_as_item_ids():
    """The deduplicated comment ids are valid LabelMatrix item ids."""
    df = load_youtube_spam()
    L = LabelMatrix(np.full((len(df), 1), -1), n_classes=2, item_ids=df["comment_id"].to_numpy())
    assert L.n_items == 1953


def test_bad_flag():
    """A non-bool drop_duplicates is rejected by name."""
    with pytest.raises(ValidationError, match="drop_duplicates"):
        load_youtube_spam(drop_duplicates="no")


@pytest.mark.realdata
def test_bundle_equals_published_csvs(dataset):
    """The bundled table holds exactly the values of the five UCI CSVs, in file order."""
    folder = dataset("youtube_spam_collection_uci")
    parts = [pd.read_csv(folder / f"{stem}.csv", dtype=str, keep_default_na=False).assign(video=video)
             for stem, video in VIDEOS.items()]
    raw = pd.concat(parts, ignore_index=True)
    df = load_youtube_spam(drop_duplicates=False)
    assert list(df["comment_id"]) == list(raw["COMMENT_ID"])
    assert list(df["author"]) == [html.unescape(a) for a in raw["AUTHOR"]]  # entities decoded, nothing else
    assert list(df["text"]) == [html.unescape(t) for t in raw["CONTENT"]]
    assert raw["CONTENT"].str.contains("&#39;").any()  # the published files do carry entities
    assert list(df["label"]) == [int(c) for c in raw["CLASS"]]
    assert list(df["video"].astype(str)) == list(raw["video"])
    dates = pd.to_datetime(raw["DATE"].replace("", None), format="ISO8601")
    pd.testing.assert_series_equal(df["date"], dates, check_names=False, check_dtype=False)


def test_comments_carry_no_html_entities():
    """The comments read as a person reads them: "He's", not "He&#39;s" (the UCI files' entities are decoded)."""
    df = load_youtube_spam()
    for entity in ("&#39;", "&amp;", "&quot;", "&lt;", "&gt;"):
        assert not df["text"].str.contains(entity, regex=False).any(), entity
    assert df["text"].str.contains("'", regex=False).sum() > 100
