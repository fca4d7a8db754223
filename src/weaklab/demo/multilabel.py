"""``weaklab init --example multilabel``: a small multi-label project (topics of short articles), generated offline.

The articles are generated here from word lists written for weaklab (no
external corpus): each carries any number of four topics (``sport``,
``politics``, ``tech``, ``health``; ``tech`` and ``health`` often come
together, some articles carry none), and its words are drawn from the
vocabularies of its topics, from words shared by two topics ("game",
"policy") and from filler. Gold label sets come from the generator. The
example LFs know only part of each vocabulary (so they miss), fire on
shared words (so they err), and two of them state that a topic is *absent*,
so the label model has something to resolve.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._core.validation import check_int
from ..pipeline.config import CONFIG_NAME
from ._files import refuse_existing, write_example

__all__ = ["init_multilabel_project", "multilabel_example", "MULTILABEL_EXAMPLE_ITEMS", "MULTILABEL_LABELS"]

#: How many articles a multi-label example can have (fewest, most).
MULTILABEL_EXAMPLE_ITEMS = (40, 20000)
#: The example's labels.
MULTILABEL_LABELS = ("sport", "politics", "tech", "health")

VOCABULARY = {
    "sport": ("goal", "match", "league", "coach", "striker", "tournament", "referee", "stadium", "season", "medal",
              "olympic", "penalty", "champion", "keeper", "transfer", "derby"),
    "politics": ("election", "minister", "parliament", "vote", "senate", "campaign", "coalition", "party",
                 "governor", "ballot", "reform", "treaty", "cabinet", "mayor", "opposition", "bill"),
    "tech": ("software", "startup", "chip", "app", "algorithm", "cloud", "robot", "smartphone", "data", "browser",
             "processor", "network", "developer", "update", "device", "sensor"),
    "health": ("vaccine", "hospital", "doctor", "patients", "virus", "diet", "clinic", "therapy", "nurse",
               "symptoms", "disease", "surgery", "fitness", "sleep", "trial", "medicine"),
}
#: Words two topics share (each occurs with either).
SHARED = {"game": ("sport", "tech"), "policy": ("politics", "health"), "record": ("sport", "tech"),
          "funding": ("politics", "health")}
#: Words that occur only in articles *without* the topic.
CONTRARY = {"sport": ("indoors", "office"), "politics": ("recipe", "holiday")}
FILLER = ("the", "a", "new", "report", "today", "week", "people", "says", "city", "after", "year", "plans", "big",
          "local", "news", "more", "first", "over")


def multilabel_example(n_items: int = 600, *, dev_share: float = 0.25, random_state: int = 0) -> pd.DataFrame:
    """Generated articles: ``article_id``, ``text``, ``topics`` (``"tech|health"``, ``"-"`` for none), ``split``.

    Examples
    --------
    >>> frame = multilabel_example(50, random_state=1)
    >>> list(frame.columns), len(frame)
    (['article_id', 'text', 'topics', 'split'], 50)
    """
    n_items = check_int("n_items", n_items, low=MULTILABEL_EXAMPLE_ITEMS[0], high=MULTILABEL_EXAMPLE_ITEMS[1])
    rng = np.random.default_rng(random_state)
    rows = []
    for i in range(n_items):
        labels = _draw_labels(rng)
        rows.append({"article_id": f"a{i:05d}", "text": _text(rng, labels),
                     "topics": "|".join(labels) if labels else "-",
                     "split": "dev" if rng.random() < dev_share else "train"})
    return pd.DataFrame(rows)


def _draw_labels(rng: np.random.Generator) -> list[str]:
    on = {name: bool(rng.random() < rate) for name, rate in zip(MULTILABEL_LABELS, (0.35, 0.3, 0.3, 0.25))}
    if on["health"] and rng.random() < 0.6:
        on["tech"] = True  # health tech: the two co-occur
    return [name for name in MULTILABEL_LABELS if on[name]]


def _text(rng: np.random.Generator, labels: list[str]) -> str:
    words = [str(w) for w in rng.choice(FILLER, size=int(rng.integers(4, 9)))]
    for label in labels:
        words += [str(w) for w in rng.choice(VOCABULARY[label], size=int(rng.integers(2, 5)), replace=False)]
    for word, pair in SHARED.items():
        if any(p in labels for p in pair) and rng.random() < 0.25:
            words.append(word)
    for label, contrary in CONTRARY.items():
        if label not in labels and rng.random() < 0.35:
            words.append(str(rng.choice(contrary)))
    rng.shuffle(words)
    return " ".join(words)


MULTILABEL_CONFIG = """\
# weaklab multi-label project: topics of generated short articles (an article has any number of them).
# See README.md in this folder. Paths are relative to this file.
[project]
name = "{name}"

[task]
kind = "multilabel"

[labels]
classes = ["sport", "politics", "tech", "health"]

[data]
path = "data/articles.csv"
id_column = "article_id"
text_field = "text"
gold_column = "topics"        # label sets: "tech|health", "-" for none; used only on the dev rows
split_column = "split"
dev_value = "dev"

[lfs]
module = "lfs.py"
attribute = "lfs"

[label_model]
name = "OneVsRestLabelModel"  # one AutoLabelModel per label (params = {{ base = "DawidSkene" }} for another);
                              # or MultiLabelDawidSkene (source rates shared across labels, a label-set prior)

[end_model]
name = "tfidf_logreg"         # one logistic regression per label on TF-IDF (or "none")

[store]
path = ".weaklab/weaklab.duckdb"

[query]
n = 20
"""

MULTILABEL_LFS = '''\
"""Labeling functions of this multi-label project.

An LF that returns a label (its name) votes that the label is PRESENT, or it abstains.
A pair (label, lf) votes on that one label: the LF returns 1 (present), 0 (absent) or ABSTAIN.

A label model cannot learn how common a label is from "present" votes alone (an abstention says
nothing), so each topic has one pair LF that states absence too: its words missing -> 0.
"""

import numpy as np

from weaklab.labeling import keyword_lf, labeling_function


def words_or_absent(label, words):
    """A (label, lf) pair: 1 (present) where one of `words` occurs, 0 (absent) elsewhere."""
    pattern = r"\\b(?:" + "|".join(words) + r")\\b"

    @labeling_function(name=f"words_{label}", resources={"pattern": pattern}, vectorized=True, fields="text")
    def lf(df, pattern):
        return np.where(df["text"].str.contains(pattern, regex=True), 1, 0)

    return (label, lf)


lfs = [
    words_or_absent("sport", ["goal", "match", "league", "coach", "striker", "stadium"]),
    words_or_absent("politics", ["election", "minister", "parliament", "vote", "senate"]),
    words_or_absent("tech", ["software", "startup", "chip", "app", "robot", "cloud"]),
    words_or_absent("health", ["vaccine", "hospital", "doctor", "patients", "virus"]),
    keyword_lf(["referee", "medal", "penalty"], "sport", name="kw_sport"),
    keyword_lf(["ballot", "cabinet", "mayor"], "politics", name="kw_politics"),
    keyword_lf(["game", "record"], "sport", name="kw_sport_shared"),           # also fires on tech articles
    keyword_lf(["policy", "funding"], "politics", name="kw_politics_shared"),  # also fires on health articles
    keyword_lf(["sensor", "device", "therapy", "clinic"], "tech", name="kw_health_tech"),
    ("sport", keyword_lf(["indoors", "office"], 0, name="not_sport")),        # 0: sport is absent
    ("politics", keyword_lf(["recipe", "holiday"], 0, name="not_politics")),
]
'''

MULTILABEL_README = """\
# A weaklab multi-label project

`data/articles.csv` holds {n} generated short articles (weaklab writes them from its own word lists: no
external corpus). Each has any number of four topics; the gold `topics` column holds the label set
(`tech|health`, `-` for none) and is used only on the `dev` rows, to measure.

    weaklab train                # apply the LFs, fit one label model per label, train one TF-IDF model per label
    weaklab runs                 # micro/macro F1 of the label model, majority vote and the end model on dev
    weaklab explain a00003       # an article's votes per label and P(label applies)
    weaklab export topics.csv    # every article's labels and probabilities
"""


def init_multilabel_project(path: Any = ".", *, n_items: int = 600, random_state: int = 0,
                            force: bool = False) -> list[Path]:
    """Create a multi-label project folder: ``weaklab.toml``, ``lfs.py``, ``README.md``, ``data/articles.csv``.

    Parameters
    ----------
    path : str or Path, default "."
    n_items : int, default 600
        Articles to generate.
    random_state : int, default 0
    force : bool, default False
        Overwrite existing files.

    Returns
    -------
    list of Path
        The files written.

    Examples
    --------
    >>> init_multilabel_project("topics")            # doctest: +SKIP
    [PosixPath('topics/weaklab.toml'), ...]
    """
    root = Path(path)
    frame = multilabel_example(n_items, random_state=random_state)
    files = {root / CONFIG_NAME: MULTILABEL_CONFIG.format(name=root.resolve().name or "multilabel"),
             root / "lfs.py": MULTILABEL_LFS, root / "README.md": MULTILABEL_README.format(n=n_items)}
    data = root / "data" / "articles.csv"
    refuse_existing([*files, data], force)
    write_example(root, files, {data: frame})
    return [*files, data]
