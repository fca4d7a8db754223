"""``weaklab init``: a ready-to-run project folder (config, example LFs, example data)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .._core.validation import check_int, fail
from ..data import load_youtube_spam
from ..errors import ValidationError
from ..pipeline.config import CONFIG_NAME

__all__ = ["init_project", "example_comments", "COMMENTS_TABLES", "EXAMPLE_ITEMS", "EXAMPLE_LFS", "EXAMPLE_CONFIG"]

#: The ``[project]``, ``[data]`` and ``[labels]`` tables of the example projects (the bundled comments).
COMMENTS_TABLES = """\
[project]
name = "{name}"

[data]
path = "data/comments.csv"
id_column = "comment_id"
text_field = "text"
gold_column = "label"         # gold class names (empty = unknown): the dev rows' gold scores the runs
split_column = "split"
dev_value = "dev"
# fit_gold = 50               # the label model fits on at most 50 gold rows outside the dev split, drawn
                              # at random ("all": every one; default "none": only the dev gold is read)

[labels]
classes = ["HAM", "SPAM"]
"""

EXAMPLE_CONFIG = """\
# weaklab project: see `weaklab --help`. Paths are relative to this file.
""" + COMMENTS_TABLES + """
[lfs]
module = "lfs.py"
attribute = "lfs"

# No [label_model] table: the default, AutoLabelModel(random_state=0), chooses among the label models
# without gold (on the Dask engine, on a random sample of at most 500,000 voted items). To pick one yourself:
# [label_model]
# name = "DawidSkene"         # any class of weaklab.models: MajorityVote, MatrixCompletion, ...
# params = {{ random_state = 0 }}

[end_model]
name = "tfidf_logreg"
params = {{ C = 4.0 }}

[store]
path = ".weaklab/weaklab.duckdb"

[query]
strategy = "entropy"
n = 20
"""

EXAMPLE_LFS = '''\
"""Labeling functions of this project: each votes a class of [labels].classes by name, or abstains.

A vote is a class NAME ("HAM", "SPAM"); weaklab maps it to the class's position in
weaklab.toml when the functions run, so inserting or reordering classes there keeps
every vote's meaning (a name that is not a class is an error naming the function).
Row-wise functions return ABSTAIN (-1) for no vote; vectorized ones return an array
of names with None where they abstain.

Edit them and run `weaklab fit` again: a changed function becomes a new source
version in the store, and `weaklab diff RUN_A RUN_B` shows which items changed.
"""

import numpy as np

from weaklab import ABSTAIN, keyword_lf, labeling_function, regex_lf

HAM, SPAM = "HAM", "SPAM"
# The text column, as [data].text_field in weaklab.toml names it. keyword_lf and regex_lf below read
# [data].text_field by themselves; the functions written here read TEXT (and declare it, so a mismatch
# is reported before anything runs).
TEXT = "text"


@labeling_function(fields=[TEXT])
def shouting(x):
    """Comments mostly in capitals that ask for something are spam."""
    letters = [c for c in x[TEXT] if c.isalpha()]
    if len(letters) < 12:
        return ABSTAIN
    upper = sum(c.isupper() for c in letters) / len(letters)
    return SPAM if upper > 0.6 and "!" in x[TEXT] else ABSTAIN


@labeling_function(vectorized=True, fields=[TEXT])
def short_comment(df):
    """Very short comments are rarely spam."""
    return np.where(df[TEXT].str.len() < 25, HAM, None)


lfs = [
    keyword_lf(["check out", "check my", "my channel", "my videos"], SPAM, name="kw_my_channel"),
    keyword_lf(["subscribe", "subscribers", "sub4sub"], SPAM, name="kw_subscribe"),
    keyword_lf(["free", "win", "money", "earn"], SPAM, name="kw_money"),
    keyword_lf(["song", "songs", "music", "voice", "dance"], HAM, name="kw_song"),
    regex_lf(r"https?://|www\\.|\\.com\\b", SPAM, name="re_link"),
    regex_lf(r"\\b(?:love|best|awesome|amazing)\\b", HAM, name="re_praise"),
    shouting,
    short_comment,
]
'''


#: How many bundled comments a new project can take (fewest, most).
EXAMPLE_ITEMS = (20, 1953)


def init_project(path: Any = ".", *, n_items: int = 600, dev_share: float = 0.25, random_state: int = 0,
                 force: bool = False) -> list[Path]:
    """Create a project folder: ``weaklab.toml``, ``lfs.py`` and ``data/comments.csv``.

    The data are ``n_items`` comments sampled from the bundled YouTube spam
    comments, with their gold ``label`` (the class name, ``HAM`` or ``SPAM``)
    and a ``split`` column marking ``dev_share`` of them ``dev`` (the rest
    ``train``). The example labeling functions vote class names too, so
    inserting or reordering ``[labels].classes`` keeps every vote's meaning.

    Parameters
    ----------
    path : str or Path, default="."
        The project folder (created when missing).
    n_items : int, default=600
    dev_share : float, default=0.25
    random_state : int, default=0
    force : bool, default=False
        Overwrite existing files.

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    ValidationError
        A file exists and ``force`` is False.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from weaklab.pipeline import init_project
    >>> folder = pathlib.Path(tempfile.mkdtemp()) / "my_project"
    >>> [path.relative_to(folder).as_posix() for path in init_project(folder, n_items=200)]
    ['weaklab.toml', 'lfs.py', 'data/comments.csv']
    """
    root = Path(path)
    n_items = check_int("n_items", n_items, low=EXAMPLE_ITEMS[0], high=EXAMPLE_ITEMS[1])
    if not 0.0 < dev_share < 1.0:
        raise fail("dev_share", "a share in (0, 1)", dev_share)
    files = {root / CONFIG_NAME: EXAMPLE_CONFIG.format(name=root.resolve().name or "project"),
             root / "lfs.py": EXAMPLE_LFS}
    data = root / "data" / "comments.csv"
    existing = [p for p in [*files, data] if p.exists()]
    if existing and not force:
        raise ValidationError(f"{existing[0]}: expected no existing project file, got one "
                              "(use --force to overwrite)")
    sample = example_comments(n_items, dev_share, random_state)
    try:
        root.mkdir(parents=True, exist_ok=True)
        data.parent.mkdir(parents=True, exist_ok=True)
        for file, text in files.items():
            file.write_text(text, encoding="utf-8")
        sample.to_csv(data, index=False)
    except OSError as exc:
        where = exc.filename or root
        raise ValidationError(f"{where}: expected a folder weaklab can create and write the project in, got "
                              f"{exc.strerror or exc} (pick another folder, or check its permissions)") from None
    return [*files, data]


def example_comments(n_items: int, dev_share: float, random_state: int) -> Any:
    """``n_items`` bundled comments (id, author, text, gold class name) with a ``split`` column (``dev``/``train``)."""
    comments = load_youtube_spam()
    rng = np.random.default_rng(random_state)
    rows = np.sort(rng.choice(len(comments), n_items, replace=False))
    sample = comments.iloc[rows][["comment_id", "author", "text", "label"]].reset_index(drop=True)
    # gold as class names, like the votes: reordering [labels].classes keeps their meaning
    sample["label"] = np.array(["HAM", "SPAM"], dtype=object)[sample["label"].to_numpy()]
    dev = np.zeros(n_items, dtype=bool)
    dev[rng.choice(n_items, round(dev_share * n_items), replace=False)] = True
    sample["split"] = np.where(dev, "dev", "train")
    return sample
