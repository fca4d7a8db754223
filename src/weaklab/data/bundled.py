"""Demo data shipped inside the package (see ``bundled/NOTICE.md`` for credit)."""

from __future__ import annotations

import html
from importlib import resources

import pandas as pd

from .._core.validation import check_bool

__all__ = ["load_youtube_spam", "YOUTUBE_SPAM_CLASSES"]

YOUTUBE_SPAM_CLASSES: tuple[str, ...] = ("HAM", "SPAM")
_FILE = "youtube_spam.csv.gz"
_VIDEOS = ("Psy", "KatyPerry", "LMFAO", "Eminem", "Shakira")


def load_youtube_spam(*, drop_duplicates: bool = True) -> pd.DataFrame:
    """The UCI YouTube Spam Collection: 1,956 comments on five music videos.

    Alberto, Lochter & Almeida (2015), CC BY 4.0; bundled with weaklab as
    ``weaklab/data/bundled/youtube_spam.csv.gz`` (credit in ``NOTICE.md``).

    Parameters
    ----------
    drop_duplicates : bool, default=True
        Three comment ids occur twice in the published files (two in
        ``Youtube04-Eminem.csv``, one in ``Youtube05-Shakira.csv``), each time
        as an exact copy of the same row. By default the second copy is dropped,
        leaving 1,953 comments with unique ``comment_id`` (usable as item
        ids); with False all 1,956 published rows are returned.

    Returns
    -------
    pandas.DataFrame
        Columns ``comment_id`` (str), ``author`` (str), ``date``
        (datetime64, NaT for the 245 comments published without a date),
        ``text`` (str, HTML entities such as ``&#39;`` decoded), ``label`` (int: 1 = spam, 0 = ham; class names in
        :data:`YOUTUBE_SPAM_CLASSES`) and ``video`` (categorical: ``Psy``,
        ``KatyPerry``, ``LMFAO``, ``Eminem``, ``Shakira``). Rows keep the
        published order, video by video.

    Examples
    --------
    >>> from weaklab.data import load_youtube_spam
    >>> comments = load_youtube_spam()
    >>> len(comments), list(comments.columns)
    (1953, ['comment_id', 'author', 'date', 'text', 'label', 'video'])
    >>> comments["label"].value_counts().sort_index().tolist()
    [950, 1003]
    """
    drop_duplicates = check_bool("drop_duplicates", drop_duplicates)
    with resources.files("weaklab.data").joinpath("bundled", _FILE).open("rb") as handle:
        frame = pd.read_csv(handle, compression="gzip", dtype={"comment_id": str, "author": str, "text": str},
                            keep_default_na=False, na_values={"date": [""]})
    for column in ("author", "text"):  # the published files carry HTML entities (&#39;, &amp;, &quot;, ...)
        frame[column] = frame[column].map(html.unescape)
    frame["date"] = pd.to_datetime(frame["date"], format="ISO8601")
    frame["label"] = frame["label"].astype("int64")
    frame["video"] = pd.Categorical(frame["video"], categories=list(_VIDEOS))
    if drop_duplicates:
        frame = frame.drop_duplicates(subset="comment_id", keep="first").reset_index(drop=True)
    return frame
