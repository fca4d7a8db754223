"""``weaklab init --example tabular``: a table project (machine sensor readings) with threshold LFs.

The table is generated (offline, seeded): machines in three states (``ok``,
``worn``, ``broken``) read by sensors whose readings rise with wear, some
readings missing, a ``site`` and a ``model`` column of a few categories, and
a free-text ``note`` (which the tabular end model leaves out, saying why).
The dev split holds the gold ``verdict``. The labeling functions are
thresholds on two sensors and two bands for ``worn``; the end model is the
tabular one (``[end_model] name = "tabular"``, logistic regression), which
reads every sensor and the category columns, so it labels the machines no
threshold covers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._core.validation import check_float, check_int, check_random_state
from ..pipeline.config import CONFIG_NAME
from ._files import refuse_existing, write_example

__all__ = ["TABULAR_CONFIG", "TABULAR_EXAMPLE_ITEMS", "TABULAR_LFS", "example_machines", "init_tabular_project"]

#: Rows ``weaklab init --example tabular`` accepts (``--items``).
TABULAR_EXAMPLE_ITEMS = (100, 20000)
_STATES = ("ok", "worn", "broken")

TABULAR_CONFIG = """\
# weaklab project: machines labelled ok / worn / broken from their sensor readings. Paths are relative to
# this file. Run `weaklab train`, then `weaklab runs`, `weaklab serve` (the review queue shows each row's cells)
# and `weaklab predict new.csv out.csv` on a table with the same columns.

[project]
name = "{name}"

[data]
path = "data/machines.csv"
id_column = "unit"
gold_column = "verdict"       # gold class names on the dev rows (empty = unknown)
split_column = "part"
dev_value = "dev"

[labels]
classes = ["ok", "worn", "broken"]

[lfs]
module = "lfs.py"
attribute = "lfs"

[end_model]
name = "tabular"              # a classifier on the table's columns: numeric ones as they are, columns of at
                              # most max_categories (20) categories one-hot; text and id columns are left out
                              # (weaklab train says which and why)
params = {{ estimator = "logistic_regression" }}   # the default: on tables labelled by thresholds it generalises
# params = {{ estimator = "hist_gradient_boosting" }}   # boosted trees: for classes that depend on interactions
# params = {{ exclude = ["model"] }}                            # leave a column out
# params = {{ columns = ["temp_c", "vibration", "site"] }}     # or name the columns to read

[store]
path = ".weaklab/weaklab.duckdb"

[query]
strategy = "entropy"
n = 20
"""

TABULAR_LFS = '''\
"""Labeling functions of this project: thresholds on the machines' sensor readings.

Each votes a class of [labels].classes by name ("ok", "worn", "broken") or abstains.
threshold_lf(column, above=..., label=...) votes where the column is above the value
(below=... where it is below); a missing reading abstains. Edit them and run
`weaklab train` again; the tabular end model learns from their votes on every column,
so it also labels the machines none of them covers.
"""

import numpy as np

from weaklab import labeling_function, threshold_lf


@labeling_function(vectorized=True)
def lukewarm(df):
    """Worn machines run warm: a temperature between 45 and 60 C."""
    return np.where((df["temp_c"] > 45) & (df["temp_c"] < 60), "worn", None)


@labeling_function(vectorized=True)
def rattling(df):
    """Worn machines shake a little: a vibration between 1.1 and 1.6 mm/s."""
    return np.where((df["vibration"] > 1.1) & (df["vibration"] < 1.6), "worn", None)


lfs = [
    threshold_lf("temp_c", above=72.0, label="broken"),
    threshold_lf("temp_c", below=30.0, label="ok"),
    threshold_lf("vibration", above=2.4, label="broken"),
    threshold_lf("vibration", below=0.5, label="ok"),
    lukewarm,
    rattling,
]
'''


def example_machines(n_items: int = 600, dev_share: float = 0.2, random_state: int = 0) -> pd.DataFrame:
    """The generated machines table: sensors, categories, a free-text note, the gold ``verdict`` on the dev rows.

    Examples
    --------
    >>> table = example_machines(100)
    >>> list(table.columns)
    ['unit', 'temp_c', 'vibration', 'pressure_bar', 'hours', 'site', 'model', 'note', 'verdict', 'part']
    >>> sorted(set(table.loc[table["part"] == "dev", "verdict"]))
    ['broken', 'ok', 'worn']
    """
    n_items = check_int("n_items", n_items, low=TABULAR_EXAMPLE_ITEMS[0], high=TABULAR_EXAMPLE_ITEMS[1])
    dev_share = check_float("dev_share", dev_share, low=0.05, high=0.9)
    rng = check_random_state(random_state)
    state = rng.choice(3, n_items, p=[0.5, 0.3, 0.2])
    site = rng.choice(["north", "south", "east"], n_items)
    hot = site == "east"  # east runs hotter: a threshold on temperature errs there, the end model learns it
    temp = 26 + 21 * state + 6 * hot + rng.normal(0, 8, n_items)
    vibration = 0.35 + 0.95 * state + rng.normal(0, 0.45, n_items)
    pressure = 6.0 - 0.6 * state + rng.normal(0, 0.5, n_items)
    hours = rng.gamma(2.0 + state, 600, n_items)
    temp[rng.random(n_items) < 0.05] = np.nan
    hours[rng.random(n_items) < 0.1] = np.nan
    dev = np.arange(n_items) < max(3, round(dev_share * n_items))
    dev = dev[rng.permutation(n_items)]
    return pd.DataFrame({
        "unit": [f"m{i:05d}" for i in range(n_items)], "temp_c": temp.round(1), "vibration": vibration.round(3),
        "pressure_bar": pressure.round(2), "hours": hours.round(0), "site": site,
        "model": rng.choice(["A100", "A200", "B10"], n_items),
        "note": [f"inspected by tech {int(t)}" for t in rng.integers(1, 200, n_items)],
        "verdict": np.where(dev, np.asarray(_STATES, dtype=object)[state], ""),
        "part": np.where(dev, "dev", "pool"),
    })


def init_tabular_project(path: Any = ".", *, n_items: int = 600, dev_share: float = 0.2, random_state: int = 0,
                         force: bool = False) -> list[Path]:
    """Create a table project folder: ``weaklab.toml``, ``lfs.py`` (threshold LFs) and ``data/machines.csv``.

    Parameters
    ----------
    path : str or Path, default="."
        The project folder (created when missing).
    n_items : int, default=600
        Machines (rows), between ``TABULAR_EXAMPLE_ITEMS``.
    dev_share : float, default=0.2
        Share of rows in the dev split (with gold).
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
    >>> folder = pathlib.Path(tempfile.mkdtemp()) / "machines"
    >>> [p.relative_to(folder).as_posix() for p in init_tabular_project(folder, n_items=100)]
    ['weaklab.toml', 'lfs.py', 'data/machines.csv']
    """
    root = Path(path)
    table = example_machines(n_items, dev_share, random_state)
    files = [root / CONFIG_NAME, root / "lfs.py", root / "data" / "machines.csv"]
    refuse_existing(files, force)
    write_example(root, {files[0]: TABULAR_CONFIG.format(name=root.resolve().name or "project"),
                         files[1]: TABULAR_LFS}, {files[2]: table})
    return files
