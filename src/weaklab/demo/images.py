"""``weaklab init --example images``: Fashion-MNIST images with noisy caption metadata, run by the ``weaklab`` commands.

The project folder gets ``n_items`` Fashion-MNIST training images as PNG files
(copied at init time from the original IDX files: the images are not shipped
inside weaklab), a table ``data/items.csv`` of their paths with caption-like
metadata, image labeling functions in ``lfs.py``, a ``weaklab.toml`` and a
README that documents how the captions were made.

Captions (see :func:`weaklab.synthetic.make_captions`): for each image,
independently, with probability ``CAPTION_MISSING`` (30 %) there is no
caption; otherwise with probability ``CAPTION_WRONG`` (15 %) the caption is
about another class drawn uniformly from the other nine; the caption is one of
ten shop-listing templates ("new {} for sale", "vintage {}", ...) filled
with one of three synonyms of the class ("sneaker", "sneakers",
"trainers"). So about 10.5 % of all items carry a wrong caption, and 30 %
none.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._core.validation import check_float, check_int, fail
from ..data import FASHION_MNIST_CLASSES, load_mnist
from ..data.image_io import import_pil
from ..errors import ValidationError
from ..synthetic import FASHION_MNIST_SYNONYMS, make_captions

__all__ = ["init_image_project", "CAPTION_MISSING", "CAPTION_WRONG", "IMAGE_EXAMPLE_ITEMS"]

CAPTION_MISSING = 0.3
CAPTION_WRONG = 0.15
#: How many images a new image project can take (fewest, most).
IMAGE_EXAMPLE_ITEMS = (200, 20_000)
SEED_PER_CLASS = 10

IMAGE_CONFIG = """\
# weaklab image project (Fashion-MNIST): see README.md and `weaklab --help`. Paths are relative to this file.
[project]
name = "{name}"

[data]
path = "data/items.csv"
id_column = "item_id"
text_field = "caption"        # shown under each picture in the review queue
image_column = "image"        # each item's picture (shown by the review queue, item pages and report)
gold_column = "label"         # gold class names: used on the dev rows (and by lfs.py on the seed rows)
split_column = "split"
dev_value = "dev"

[labels]
classes = {classes}

[lfs]
module = "lfs.py"
attribute = "lfs"

[label_model]
name = "DawidSkene"
params = {{ random_state = 0 }}

[end_model]
name = "cnn"                  # a small CNN on the pictures, trained on the soft labels (class activation maps)
params = {{ size = 28, widths = [16, 32, 64], max_epochs = 8 }}

[store]
path = ".weaklab/weaklab.duckdb"

[query]
strategy = "entropy"
n = 20
"""

IMAGE_LFS = '''\
"""Image labeling functions of this project: each votes a class id 0..9 or abstains (-1).

* caption keywords: one keyword LF per class on the (noisy, often missing) captions;
* a seed pre-labeller: a small CNN trained here, from scratch, on the rows of split "seed"
  (10 gold images per class), voting only where it is at least 90 % sure;
* a second pre-labeller: logistic regression on (standardised) pixel statistics of the same seed images (70 %).
"""

from pathlib import Path

import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from weaklab import keyword_lf, seed_lf
from weaklab.data import read_images
from weaklab.features import CNNEmbedder, pixel_statistics

DATA = Path(__file__).resolve().parent / "data"   # image paths in items.csv are relative to the table's folder
CLASSES = {classes}
SYNONYMS = [
{synonyms}
]

items = pd.read_csv(DATA / "items.csv")
seed = items[items["split"] == "seed"]
seed_images = read_images(seed["image"], root=DATA)
seed_labels = seed["label"].map(CLASSES.index).to_numpy()

lfs = [
    *[keyword_lf(list(words), c, field="caption", name=f"caption_{{c}}") for c, words in enumerate(SYNONYMS)],
    seed_lf(seed_images, seed_labels, estimator=CNNEmbedder(n_epochs=40, batch_size=32, random_state=0),
            threshold=0.9, root=DATA, name="seed_cnn"),
    seed_lf(seed_images, seed_labels, estimator=make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)),
            transform=pixel_statistics, threshold=0.7, root=DATA, name="seed_pixel_stats"),
]
'''

IMAGE_README = """\
# {name}: weak labels for images (Fashion-MNIST)

{n_items:,} images from the Fashion-MNIST training set (Xiao, Rasul & Vollgraf 2017, arXiv:1708.07747;
MIT licence), copied from `{source}` as PNG files into `data/images/`. `data/items.csv` has one row per
image (`weaklab.load_image_table("data/items.csv", label_column="label")` reads it as image items):

| column | meaning |
|---|---|
| `item_id` | `fm<index>`, the image's index in the original training file |
| `image` | the PNG's path, relative to `data/` |
| `file_name` | the PNG's name |
| `caption` | a shop-listing-like caption (see below); empty when missing |
| `label` | the true class name on the `seed` and `dev` rows only (empty elsewhere) |
| `split` | `seed` ({seed_per_class} gold images per class, the pre-labellers' training set), `dev` (gold), `train` |

## How the captions were made (the noise is planted, with known rates)

`weaklab.synthetic.make_captions(labels, FASHION_MNIST_SYNONYMS, missing_rate={missing}, wrong_rate={wrong},
random_state={seed})`: for each image, independently,

1. with probability {missing} it has **no caption** (web images often have none);
2. otherwise, with probability {wrong}, the caption is about a **wrong class**, drawn uniformly from the
   other nine (a mislabelled listing);
3. the caption is one of ten listing templates ("new {{}} for sale", "vintage {{}}", "{{}} in size M", ...)
   filled with one of three **synonyms** of its class (T-shirt/top: t-shirt, tee, top; Trouser: trousers,
   pants, jeans; Pullover: pullover, sweater, jumper; Dress: dress, gown, frock; Coat: coat, jacket,
   parka; Sandal: sandal, sandals, flip-flops; Shirt: shirt, blouse, button-down; Sneaker: sneaker,
   sneakers, trainers; Bag: bag, handbag, purse; Ankle boot: ankle boot, boots, booties).

So about {wrong_all:.1f} % of all items carry a wrong caption and {missing_pct:.0f} % none; a keyword LF on the
captions is at best {best:.0f} % accurate where it fires. Some synonyms overlap on purpose ("shirt" inside
"t-shirt", "boots" vs "ankle boot"), as real listings do.

## Labeling functions (`lfs.py`)

* `caption_<c>`: one keyword LF per class on the captions;
* `seed_cnn`: a small CNN trained here from scratch (no downloaded weights) on the `seed` rows, voting
  only where it is at least 90 % sure;
* `seed_pixel_stats`: logistic regression on pixel statistics of the same seed images (threshold 70 %).

## Run it

    weaklab apply      # LFs -> label matrix
    weaklab analyze    # coverage, overlap, conflict, accuracy on the dev gold
    weaklab fit        # the label model (Dawid-Skene) -> soft labels
    weaklab train      # the end model
    weaklab issues     # likely label errors
    weaklab query      # items a person should label next

The end model of `weaklab train` is `cnn`: a small global-average-pooling CNN trained on CPU, from
scratch, on the pictures and the label model's soft labels. It also stores each item's class activation
map (where the CNN looked for the class it predicts) in `.weaklab/cams/`; `weaklab serve` shows it as an
overlay in the review queue (button or key `c`) and beside the picture on each item's page. To train on
the captions instead, set `name = "tfidf_logreg"` (and remove `params`).
"""


def default_fashion_mnist_folder() -> Path:
    """``$WEAKLAB_DATA/fashion_mnist`` (default ``../shared/data/fashion_mnist``)."""
    return Path(os.environ.get("WEAKLAB_DATA", Path("..") / "shared" / "data")) / "fashion_mnist"


def init_image_project(path: Any = ".", *, source: Any = None, n_items: int = 3000, dev_share: float = 0.2,
                       random_state: int = 0, force: bool = False) -> list[Path]:
    """Create a Fashion-MNIST image project: images, a table with noisy captions, image LFs, config, README.

    Parameters
    ----------
    path : str or Path, default="."
        The project folder (created when missing).
    source : str or Path, optional
        Folder holding Fashion-MNIST's original IDX files
        (``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``);
        default :func:`default_fashion_mnist_folder`. The images are copied
        from there: weaklab does not ship them.
    n_items : int, default=3000
        Images to copy (drawn at random from the 60,000 training images).
    dev_share : float in (0, 1), default=0.2
        Share of the non-seed images marked ``dev`` (gold kept for measuring).
    random_state : int, default=0
        Draws the images, the splits and the captions.
    force : bool, default=False
        Overwrite existing project files.

    Returns
    -------
    list of Path
        The files written (the PNG files not listed one by one: their folder is).

    Raises
    ------
    ValidationError
        The source folder lacks the IDX files, a project file exists and
        ``force`` is False, or Pillow is missing (``pip install 'weaklab[vision]'``).

    Examples
    --------
    >>> files = init_image_project("shop", n_items=500)  # doctest: +SKIP
    >>> [f.name for f in files]  # doctest: +SKIP
    ['weaklab.toml', 'lfs.py', 'README.md', 'items.csv', 'images']
    """
    from ..pipeline.config import CONFIG_NAME

    Image = import_pil("init_image_project")
    root = Path(path)
    n_items = check_int("n_items", n_items, low=IMAGE_EXAMPLE_ITEMS[0], high=IMAGE_EXAMPLE_ITEMS[1])
    dev_share = check_float("dev_share", dev_share, low=0.0, high=1.0, low_open=True, high_open=True)
    folder = Path(source) if source is not None else default_fashion_mnist_folder()
    if not (folder / "train-images-idx3-ubyte.gz").is_file():
        raise fail("source", "a folder holding Fashion-MNIST's train-images-idx3-ubyte.gz and "
                   "train-labels-idx1-ubyte.gz (set WEAKLAB_DATA, or pass source / --data)", got_text=repr(str(folder)))
    config, lfs, readme = root / CONFIG_NAME, root / "lfs.py", root / "README.md"
    table, images = root / "data" / "items.csv", root / "data" / "images"
    existing = [p for p in (config, lfs, readme, table) if p.exists()]
    if existing and not force:
        raise ValidationError(f"{existing[0]}: expected no existing project file, got one (use --force to overwrite)")
    frame, pixels = _image_items(folder, n_items, dev_share, random_state)
    texts = _project_texts(root, folder, n_items, random_state)
    try:
        images.mkdir(parents=True, exist_ok=True)
        table.parent.mkdir(parents=True, exist_ok=True)
        for name, img in zip(frame["file_name"], pixels):
            Image.fromarray(img).save(images / name)
        frame.to_csv(table, index=False)
        for file, text in zip((config, lfs, readme), texts):
            file.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ValidationError(f"{exc.filename or root}: expected a folder weaklab can write the project in, got "
                              f"{exc.strerror or exc}") from None
    return [config, lfs, readme, table, images]


def _image_items(folder: Path, n_items: int, dev_share: float, random_state: int) -> tuple[pd.DataFrame, np.ndarray]:
    train = load_mnist(folder, "train", fashion=True)
    rng = np.random.default_rng(random_state)
    rows = np.sort(rng.choice(len(train), n_items, replace=False))
    y = np.asarray(train.labels)[rows]
    split = np.full(n_items, "train", dtype=object)
    for c in range(10):
        members = np.flatnonzero(y == c)
        split[rng.choice(members, min(SEED_PER_CLASS, members.size), replace=False)] = "seed"
    rest = np.flatnonzero(split == "train")
    split[rng.choice(rest, round(dev_share * rest.size), replace=False)] = "dev"
    caps = make_captions(y, FASHION_MNIST_SYNONYMS, missing_rate=CAPTION_MISSING, wrong_rate=CAPTION_WRONG,
                         random_state=random_state)
    names = np.array(FASHION_MNIST_CLASSES, dtype=object)
    frame = pd.DataFrame({
        "item_id": [f"fm{r}" for r in rows],
        "image": [f"images/fm{r}.png" for r in rows],
        "file_name": [f"fm{r}.png" for r in rows],
        "caption": caps.captions,
        "label": np.where(split == "train", None, names[y]),
        "split": split,
    })
    return frame, train.pixels(rows)


def _project_texts(root: Path, folder: Path, n_items: int, random_state: int) -> tuple[str, str, str]:
    classes = list(FASHION_MNIST_CLASSES)
    synonyms = [list(w) for w in FASHION_MNIST_SYNONYMS]
    name = root.resolve().name or "images"
    config = IMAGE_CONFIG.format(name=name, classes="[" + ", ".join(f'"{c}"' for c in classes) + "]")
    lfs = IMAGE_LFS.format(classes=classes, synonyms="\n".join(f"    {w!r}," for w in synonyms))
    readme = IMAGE_README.format(
        name=name, n_items=n_items, source=folder, seed_per_class=SEED_PER_CLASS, missing=CAPTION_MISSING,
        wrong=CAPTION_WRONG, seed=random_state, wrong_all=100 * (1 - CAPTION_MISSING) * CAPTION_WRONG,
        missing_pct=100 * CAPTION_MISSING, best=100 * (1 - CAPTION_WRONG))
    return config, lfs, readme
