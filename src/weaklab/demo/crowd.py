"""``weaklab init --example crowd``: the bundled comments labelled by a simulated crowd instead of LFs.

The items are the spam example's comments (with gold on a dev split); the
answers file holds three answers per comment from 25 simulated workers of
accuracy 55 % to 95 %, two of them careless (one answers at random, one
always "SPAM"), and one comment in ten gets no answer. Each worker becomes a
source of the project through the ``[crowd]`` table of ``weaklab.toml``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._core.validation import check_int
from ..pipeline.config import CONFIG_NAME
from ._files import refuse_existing, write_example
from .scaffold import COMMENTS_TABLES, EXAMPLE_ITEMS, example_comments

__all__ = ["CROWD_CONFIG", "crowd_answers", "init_crowd_project"]

CROWD_CONFIG = """\
# weaklab project: comments labelled by crowd workers (each worker is a source). Paths are relative to this file.
""" + COMMENTS_TABLES + """
[crowd]
path = "data/answers.csv"     # one row per answer
item_column = "comment_id"    # ids of [data].id_column
worker_column = "worker"
label_column = "answer"       # class names (or class ids)
duplicates = "error"          # a worker answering a comment twice: error | first | last | split
unknown_items = "error"       # answers about comments not in data/comments.csv: error | drop

# Labeling functions can vote beside the workers: add an [lfs] table (see `weaklab init --example spam`).

[end_model]
name = "tfidf_logreg"
params = {{ C = 4.0 }}

[store]
path = ".weaklab/weaklab.duckdb"
"""

#: Simulated workers, answers per answered comment, and one comment in how many left without answers.
_WORKERS, _PER_ITEM, _UNANSWERED = 25, 3, 10


def crowd_answers(comments: pd.DataFrame, random_state: int = 0) -> pd.DataFrame:
    """Simulated answers (``comment_id, worker, answer``) to ``comments`` (with their gold ``label`` names).

    Examples
    --------
    >>> comments = pd.DataFrame({"comment_id": ["a", "b", "c"], "label": ["HAM", "SPAM", "HAM"]})
    >>> answers = crowd_answers(comments)
    >>> list(answers.columns), sorted(set(answers["answer"])) <= ["HAM", "SPAM"]
    (['comment_id', 'worker', 'answer'], True)
    """
    rng = np.random.default_rng(random_state)
    accuracy = np.linspace(0.55, 0.95, _WORKERS)
    truth = (comments["label"].to_numpy() == "SPAM").astype(np.int64)
    rows = []
    for i, (item, y) in enumerate(zip(comments["comment_id"].tolist(), truth.tolist())):
        if i % _UNANSWERED == _UNANSWERED - 1:
            continue
        for w in rng.choice(_WORKERS, _PER_ITEM, replace=False).tolist():
            right = rng.random() < accuracy[w]
            label = int(rng.integers(2)) if w == 0 else 1 if w == 1 else (y if right else 1 - y)
            rows.append((item, f"worker{w:02d}", ("HAM", "SPAM")[label]))
    return pd.DataFrame(rows, columns=["comment_id", "worker", "answer"])


def init_crowd_project(path: Any = ".", *, n_items: int = 600, dev_share: float = 0.25, random_state: int = 0,
                       force: bool = False) -> list[Path]:
    """Create a crowd project folder: ``weaklab.toml``, ``data/comments.csv`` and ``data/answers.csv``.

    Parameters
    ----------
    path : str or Path, default="."
        The project folder (created when missing).
    n_items : int, default=600
        Comments (between ``EXAMPLE_ITEMS``).
    dev_share : float, default=0.25
    random_state : int, default=0
    force : bool, default=False
        Overwrite existing files.

    Returns
    -------
    list of Path
        The files written.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp()) / "crowd"
    >>> [p.relative_to(folder).as_posix() for p in init_crowd_project(folder, n_items=100)]
    ['weaklab.toml', 'data/comments.csv', 'data/answers.csv']
    """
    root = Path(path)
    n_items = check_int("n_items", n_items, low=EXAMPLE_ITEMS[0], high=EXAMPLE_ITEMS[1])
    files = [root / CONFIG_NAME, root / "data" / "comments.csv", root / "data" / "answers.csv"]
    refuse_existing(files, force)
    comments = example_comments(n_items, dev_share, random_state)
    write_example(root, {files[0]: CROWD_CONFIG.format(name=root.resolve().name or "project")},
                  {files[1]: comments, files[2]: crowd_answers(comments, random_state)})
    return files
