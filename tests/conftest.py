"""Shared fixtures: the real benchmark data under ``WEAKLAB_DATA``.

Tests on the shared data sets find them through ``WEAKLAB_DATA`` (default
``../shared/data`` from the repository root). When a data set is missing the
test is skipped with a reason, unless ``WEAKLAB_REQUIRE_DATA=1`` (set by CI),
under which it fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def data_root() -> Path:
    """Folder that holds the shared benchmark data sets."""
    return Path(os.environ.get("WEAKLAB_DATA", REPO_ROOT.parent / "shared" / "data"))


def require_dataset(name: str) -> Path:
    """Path of data set ``name``; skip (or fail under WEAKLAB_REQUIRE_DATA=1) if absent."""
    path = data_root() / name
    if not path.exists():
        message = f"shared data set {name!r} not found at {path} (set WEAKLAB_DATA)"
        if os.environ.get("WEAKLAB_REQUIRE_DATA") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
def dataset():
    """Return a function that resolves a shared data set by folder name."""
    return require_dataset


def tie_split_accuracy(proba, y, mask=None) -> float:
    """Accuracy of the argmax of ``proba`` with exact ties split: a tie among t classes counts 1/t.

    The expectation under a uniform random tie-break, so a comparison of two models (or of a model with
    majority vote, which ties often) does not depend on a random seed. ``mask`` selects the scored items.
    """
    import numpy as np

    P = np.nan_to_num(np.asarray(proba, dtype=np.float64), nan=0.0)
    y = np.asarray(y)
    keep = np.ones(y.shape[0], dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    tied = P[keep] >= P[keep].max(axis=1, keepdims=True) - 1e-9
    share = tied / tied.sum(axis=1, keepdims=True)
    return float(share[np.arange(share.shape[0]), y[keep]].mean())


@pytest.fixture
def accuracy_ties_split():
    """Return :func:`tie_split_accuracy` (real-data floors compare models with it)."""
    return tie_split_accuracy


def paper_floor(figure: float, n_scored: int) -> float:
    """A published accuracy less one standard error of an accuracy measured on ``n_scored`` items.

    The tolerance comes from the reference (its figure and the number of gold items), never from the
    level the tested code happens to reach.
    """
    return figure - (figure * (1 - figure) / n_scored) ** 0.5


@pytest.fixture
def published_floor():
    """Return :func:`paper_floor`."""
    return paper_floor


NEWS_CLASSES = ["politics", "sports", "tech"]
_NEWS_WORDS = {"politics": ["election", "senate", "minister"], "sports": ["match", "league", "goal"],
               "tech": ["software", "chip", "startup"]}
_NEWS_LFS = '''\
"""Keyword sources of the news project (they read the `headline` column; class ids follow weaklab.toml)."""

import os
import time
from pathlib import Path

from weaklab import ABSTAIN, keyword_lf, labeling_function
from weaklab.pipeline import load_config

CLASSES = load_config(Path(__file__).parent).class_names
KEYWORDS = {"politics": ["election", "senate"], "sports": ["match", "league"], "tech": ["software", "chip"]}


@labeling_function()
def slow_when_asked(x):
    """Abstains; with WEAKLAB_TEST_SLOW=<file> it touches the file and sleeps (to kill a fit mid-run)."""
    marker = os.environ.get("WEAKLAB_TEST_SLOW")
    if marker:
        Path(marker).touch()
        time.sleep(120)
    return ABSTAIN


lfs = [keyword_lf(words, CLASSES.index(name), field="headline", name=f"kw_{name}")
       for name, words in KEYWORDS.items() if name in CLASSES] + [slow_when_asked]
'''
_NEWS_TOML = '''\
[project]
name = "news"

[data]
path = "stories.csv"
id_column = "story_id"
text_field = "headline"

[labels]
classes = {classes}

[lfs]
module = "lfs.py"

[label_model]
name = "MajorityVote"

[end_model]
name = "none"
'''


def write_news_project(root: Path, n_items: int = 45) -> Path:
    """A project whose text column is ``headline``, ids ``story_id`` (strings) and classes politics/sports/tech.

    Every headline holds one keyword of its class (two thirds of them one the LFs know).
    """
    import pandas as pd

    rows = []
    for i in range(n_items):
        name = NEWS_CLASSES[i % 3]
        word = _NEWS_WORDS[name][(i // 3) % 3]
        rows.append({"story_id": f"s{i:03d}", "headline": f"story {i}: the {word} of the day", "truth": name})
    root.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(root / "stories.csv", index=False)
    (root / "lfs.py").write_text(_NEWS_LFS, encoding="utf-8")
    set_news_classes(root, NEWS_CLASSES)
    return root


def set_news_classes(root: Path, classes: list[str], extra: str = "") -> None:
    """Write the news project's weaklab.toml with these ``[labels].classes`` (and extra TOML appended)."""
    text = _NEWS_TOML.format(classes="[" + ", ".join(f'"{c}"' for c in classes) + "]")
    (root / "weaklab.toml").write_text(text + extra, encoding="utf-8")


@pytest.fixture
def news_project(tmp_path):
    """A fresh news project folder (text column ``headline``, its own class names)."""
    return write_news_project(tmp_path / "news")


@pytest.fixture
def news_classes():
    """``set_news_classes(root, classes, extra="")``: rewrite a news project's classes (and append TOML)."""
    return set_news_classes


def make_bar_images(n: int, seed: int = 0):
    """``n`` 28x28 grey images on faint noise: class 0 a horizontal bar, class 1 a vertical bar.

    Returns ``(X, y)``: uint8 ``(n, 28, 28)`` and the alternating classes ``0, 1, 0, ...``.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    X = rng.integers(0, 40, (n, 28, 28)).astype(np.uint8)
    y = np.arange(n) % 2
    for i in range(n):
        at = rng.integers(6, 20)
        if y[i] == 0:
            X[i, at:at + 4, 4:24] = 255
        else:
            X[i, 4:24, at:at + 4] = 255
    return X, y


@pytest.fixture
def bar_images():
    """Return :func:`make_bar_images` (the image tests' two-class toy data)."""
    return make_bar_images


IMAGE_PROJECT_TOML = """\
[project]
name = "bars"

[data]
path = "data/items.csv"
id_column = "key"
text_field = "caption"
image_column = "picture"
gold_column = "truth"

[labels]
classes = ["horizontal", "vertical"]

[lfs]
module = "lfs.py"

[label_model]
name = "MajorityVote"

[end_model]
name = "none"
"""

IMAGE_PROJECT_LFS = """\
from weaklab.labeling import keyword_lf

lfs = [
    keyword_lf(["flat", "horizontal", "lying"], 0, field="caption", name="kw_flat"),
    keyword_lf(["upright", "vertical", "standing"], 1, field="caption", name="kw_upright"),
    keyword_lf(["bar"], 0, field="caption", name="kw_bar_guess"),
]
"""


#: The [end_model] of a test image project with the image end model: a tiny CNN (16-pixel inputs, 4x4 maps).
CNN_END_MODEL = 'name = "cnn"\nparams = { size = 16, widths = [4, 8], max_epochs = 4, batch_size = 8 }'


def make_image_project(folder, n: int = 24, *, cnn: bool = False):
    """A small image project in ``folder``: ``n`` bar pictures (PNG) with captions, keyword LFs, a weaklab.toml.

    Its columns are not the defaults (``key`` ids, ``picture`` paths relative to
    the table's folder, ``caption`` texts, ``truth`` gold). With ``cnn`` its end
    model is the image CNN (:data:`CNN_END_MODEL`), else none. Returns the folder.
    """
    from pathlib import Path

    import pandas as pd
    from PIL import Image

    root = Path(folder)
    (root / "data" / "pics").mkdir(parents=True, exist_ok=True)
    X, y = make_bar_images(n)
    words = (["a flat bar", "horizontal stripe", "bar lying down", ""], ["an upright bar", "vertical line",
                                                                          "standing bar", ""])
    rows = []
    for i in range(n):
        Image.fromarray(X[i]).save(root / "data" / "pics" / f"b{i}.png")
        rows.append({"key": f"img{i}", "picture": f"pics/b{i}.png", "caption": words[y[i]][i % 4],
                     "truth": ["horizontal", "vertical"][y[i]] if i % 3 == 0 else ""})
    pd.DataFrame(rows).to_csv(root / "data" / "items.csv", index=False)
    (root / "lfs.py").write_text(IMAGE_PROJECT_LFS)
    toml = IMAGE_PROJECT_TOML.replace('name = "none"', CNN_END_MODEL) if cnn else IMAGE_PROJECT_TOML
    (root / "weaklab.toml").write_text(toml)
    return root


@pytest.fixture
def image_project(tmp_path):
    """A fresh :func:`make_image_project` folder (not yet run)."""
    pytest.importorskip("PIL", reason="image items need the [vision] extra (pillow)")
    return make_image_project(tmp_path / "bars")


@pytest.fixture
def cnn_image_project(tmp_path):
    """A fresh :func:`make_image_project` folder whose end model is the image CNN (not yet run)."""
    pytest.importorskip("PIL", reason="image items need the [vision] extra (pillow)")
    pytest.importorskip("torch", reason="the cnn end model needs the [vision] extra (torch)")
    return make_image_project(tmp_path / "bars", cnn=True)


@pytest.fixture(scope="session")
def image_project_factory():
    """Return :func:`make_image_project` (for module-scoped fixtures that build their own image project)."""
    pytest.importorskip("PIL", reason="image items need the [vision] extra (pillow)")
    return make_image_project


_MSGS_TOML = """\
[project]
name = "msgs"

[data]
path = "data/msgs.csv"
id_column = "msg_no"
text_field = "message_body"
gold_column = "truth"
split_column = "part"

[labels]
classes = ["fine", "junk"]

[lfs]
module = "lfs.py"
"""
_MSGS_LFS = """\
from weaklab import keyword_lf, regex_lf

lfs = [keyword_lf(["subscribe", "check out"], 1, name="kw_junk"), keyword_lf(["song", "love"], 0, name="kw_fine"),
       regex_lf(r"https?://", 1, name="re_link")]
"""


def write_msgs_project(root: Path, n_items: int, dev_every: int, *, extra_toml: str = "",
                       lfs: str = _MSGS_LFS) -> set[str]:
    """A new user's project: ids ``msg_no``, text ``message_body``, gold names in ``truth`` on the ``dev`` part.

    The first ``n_items`` bundled comments; every ``dev_every``-th is a dev item holding gold (classes
    fine/junk). ``extra_toml`` is appended to weaklab.toml, ``lfs`` replaces the LF module. Returns the dev ids.
    """
    import numpy as np
    import pandas as pd

    from weaklab.data import load_youtube_spam

    comments = load_youtube_spam().iloc[:n_items]
    dev = np.arange(n_items) % dev_every == 0
    frame = pd.DataFrame({"msg_no": [f"m{i:03d}" for i in range(n_items)], "message_body": comments["text"].to_numpy(),
                          "truth": np.where(dev, np.array(["fine", "junk"])[comments["label"].to_numpy()], ""),
                          "part": np.where(dev, "dev", "train")})
    (root / "data").mkdir(parents=True)
    frame.to_csv(root / "data" / "msgs.csv", index=False)
    (root / "weaklab.toml").write_text(_MSGS_TOML + extra_toml)
    (root / "lfs.py").write_text(lfs)
    return set(frame.loc[dev, "msg_no"])


@pytest.fixture
def msgs_project_writer():
    """Return :func:`write_msgs_project` (a project with its own column names: ``msg_no``, ``message_body``)."""
    return write_msgs_project


def start_annotate(root: Path, annotator: str, limit: int):
    """A real ``python -m weaklab annotate`` process in project folder ``root`` (pipes for stdin/stdout/stderr)."""
    import subprocess
    import sys

    return subprocess.Popen([sys.executable, "-m", "weaklab", "annotate", "--annotator", annotator, "--limit",
                             str(limit)], cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def answer_shown_items(child, answers) -> list[str]:
    """Give ``answers`` (keys) to the items ``child`` shows, then wait for the next item; the item ids shown.

    The item shown after the last answer proves every answer was taken in.
    """
    shown = []
    for answer in [*answers, None]:
        line = child.stdout.readline()
        while line and "] item " not in line:
            line = child.stdout.readline()
        assert line, child.stderr.read()
        shown.append(line.split("item ", 1)[1].split()[0])
        if answer is not None:
            child.stdin.write(answer + "\n")
            child.stdin.flush()
    return shown


@pytest.fixture
def annotate_process():
    """``(start_annotate, answer_shown_items)``: drive a real terminal review session."""
    return start_annotate, answer_shown_items


def fit_with_fit_gold(root: Path, n_items: int, fit_gold: str | None) -> tuple:
    """The example project (every row holds gold) with MajorityVote and no end model, fitted with ``fit_gold``.

    Returns ``(project, run id, all item ids, dev ids, the ids whose gold fed the fit)`` (ids as str).
    """
    from weaklab.pipeline import Project, init_project, load_config
    from weaklab.pipeline.loading import fit_gold_rows, item_ids_of, load_data, run_gold

    init_project(root, n_items=n_items)
    config = root / "weaklab.toml"
    text = config.read_text() + '\n[label_model]\nname = "MajorityVote"\n'
    if fit_gold is not None:
        text = text.replace("# fit_gold = 50 ", f"fit_gold = {fit_gold} ")
    config.write_text(text.replace('name = "tfidf_logreg"', 'name = "none"'))
    project = Project(root)
    run = project.run("fit")
    settings = load_config(root)
    frame = load_data(settings)
    gold, dev = run_gold(settings, frame)
    seed = int(run.metrics["label_model"].get("fit_gold_random_state", 0))
    ids = item_ids_of(settings, frame).astype(str)
    drawn = set(ids[fit_gold_rows(settings, frame, gold, dev, random_state=seed)].tolist())
    return project, run.run_id, set(ids.tolist()), set(ids[dev].tolist()), drawn


@pytest.fixture
def fit_gold_project():
    """:func:`fit_with_fit_gold`: a project whose fit took ``[data].fit_gold`` rows of the file's gold."""
    return fit_with_fit_gold


def edit_fit_gold_file(config, drawn: set, dev: set) -> dict:
    """Edit a project's data file as a user might after a fit: delete 2 drawn rows (``drawn``: ids whose gold fed
    the fit) and 2 other rows outside dev, clear one drawn gold label, flip another, and shuffle the rows.

    Returns ``{"deleted": the deleted drawn ids, "cleared": (id, gold then), "flipped": (id, then, now)}``.
    """
    import pandas as pd

    id_col, gold_col = config.get("data", "id_column"), config.get("data", "gold_column")
    frame = pd.read_csv(config.data_path, keep_default_na=False, dtype=str)
    order = sorted(drawn)
    others = sorted(set(frame[id_col]) - set(drawn) - set(dev))
    deleted, cleared, flipped = order[:2], order[2], order[3]
    before = dict(zip(frame[id_col], frame[gold_col]))
    frame.loc[frame[id_col] == cleared, gold_col] = ""
    new = "HAM" if before[flipped] == "SPAM" else "SPAM"
    frame.loc[frame[id_col] == flipped, gold_col] = new
    frame = frame[~frame[id_col].isin(deleted + others[:2])].sample(frac=1.0, random_state=7)
    frame.to_csv(config.data_path, index=False)
    return {"deleted": set(deleted), "cleared": (cleared, before[cleared]), "flipped": (flipped, before[flipped], new)}


@pytest.fixture
def fit_gold_file_edit():
    """:func:`edit_fit_gold_file`: reorder, delete and relabel rows of a fitted project's data file."""
    return edit_fit_gold_file


#: The ticket project's labeling functions: a (label, lf) pair per tag that states presence and absence, two
#: present-only keywords, and one bad rule ("thanks" -> urgent) that is wrong on most of its votes.
TICKET_RULES = '''
import numpy as np
from weaklab.labeling import keyword_lf, labeling_function

def pair(label, words):
    @labeling_function(name=f"has_{label}", vectorized=True, fields="body")
    def lf(df):
        return np.where(df["body"].str.contains("|".join(words)), 1, 0)
    return (label, lf)

rules = [
    pair("billing", ["invoice", "charged", "refund", "payment"]),
    pair("bug", ["crash", "error", "broken", "freezes"]),
    pair("feature", ["wish", "suggest"]),
    pair("urgent", ["asap", "outage"]),
    keyword_lf(["refund", "payment"], "billing", name="kw_money", field="body"),
    keyword_lf(["crash"], "bug", name="kw_crash", field="body"),
    keyword_lf(["thanks"], "urgent", name="thanks_means_urgent", field="body"),
]
'''
TICKET_WORDS = {"billing": ["invoice", "charged", "refund", "payment"], "bug": ["crash", "error", "broken", "freezes"],
                "feature": ["wish", "suggest"], "urgent": ["asap", "outage"]}


def write_ticket_project(root: Path, *, n_items: int = 200, seed: int = 0, rules: str = TICKET_RULES,
                         extra: str = "") -> Path:
    """A multi-label project of support tickets in the user's own names: ids ``ticket_no``, text ``body``, gold
    label sets ``tags`` on the ``check`` rows of ``part``, tags billing/bug/feature/urgent, LFs in ``rules.py``."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    (root / "data").mkdir(parents=True, exist_ok=True)
    filler = "the a my our app account today again screen page team please help".split()
    rows = []
    for i in range(n_items):
        tags = [t for t, p in zip(TICKET_WORDS, (0.35, 0.4, 0.25, 0.15)) if rng.random() < p]
        words = list(rng.choice(filler, 6)) + [str(rng.choice(TICKET_WORDS[t])) for t in tags if rng.random() < 0.85]
        words += ["thanks"] if rng.random() < 0.3 else []
        rng.shuffle(words)
        rows.append({"ticket_no": f"T{i:04d}", "body": " ".join(words), "tags": "|".join(tags) or "-",
                     "part": "check" if i % 4 == 0 else "pool"})
    pd.DataFrame(rows).to_csv(root / "data" / "tickets.csv", index=False)
    (root / "rules.py").write_text(rules)
    (root / "weaklab.toml").write_text(
        '[project]\nname = "tickets"\n[task]\nkind = "multilabel"\n[labels]\n'
        'classes = ["billing", "bug", "feature", "urgent"]\n'
        '[data]\npath = "data/tickets.csv"\nid_column = "ticket_no"\ntext_field = "body"\ngold_column = "tags"\n'
        'split_column = "part"\ndev_value = "check"\n[lfs]\nmodule = "rules.py"\nattribute = "rules"\n' + extra)
    return root


@pytest.fixture(scope="session")
def ticket_project():
    """``write_ticket_project(root, n_items=200, seed=0, rules=TICKET_RULES, extra="")``: a multi-label project
    of support tickets with its own column and label names."""
    return write_ticket_project
