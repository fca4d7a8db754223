"""Fixtures of the pipeline tests on the Dask engine: one local cluster, and a project with its own column names."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from weaklab.pipeline import init_project

#: The project's own names for the example's columns and classes.
COLUMNS = {"comment_id": "msg_key", "text": "body", "label": "verdict", "split": "part"}
CLASSES = {"HAM": "fine", "SPAM": "junk"}


@pytest.fixture(scope="session")
def dask_cluster():
    """One LocalCluster of one worker process for the session's Dask-engine project tests."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as running:
        yield running


def renamed_project(root: Path, *, n_items: int = 240, scheduler: str | None = None,
                    partition_rows: int = 60) -> Path:
    """The example project with its columns and classes renamed (msg_key, body, verdict, part; fine / junk), the
    dev split called "holdout" and, given a scheduler address, [engine] kind = "dask" on it."""
    init_project(root, n_items=n_items)
    path = root / "data" / "comments.csv"
    data = pd.read_csv(path, keep_default_na=False, na_values=[""]).rename(columns=COLUMNS)
    data["verdict"] = data["verdict"].map(CLASSES)
    data["part"] = data["part"].replace({"dev": "holdout"})
    data.to_csv(root / "data" / "messages.csv", index=False)
    path.unlink()
    lfs = (root / "lfs.py").read_text().replace('TEXT = "text"', 'TEXT = "body"')
    (root / "lfs.py").write_text(lfs.replace('HAM, SPAM = "HAM", "SPAM"', 'HAM, SPAM = "fine", "junk"'))
    config = (root / "weaklab.toml").read_text().replace('"data/comments.csv"', '"data/messages.csv"')
    for old, new in [('"comment_id"', '"msg_key"'), ('text_field = "text"', 'text_field = "body"'),
                     ('gold_column = "label"', 'gold_column = "verdict"'), ('"split"', '"part"'),
                     ('dev_value = "dev"', 'dev_value = "holdout"'), ('["HAM", "SPAM"]', '["fine", "junk"]')]:
        assert old in config, old
        config = config.replace(old, new)
    if scheduler is not None:
        config += f'\n[engine]\nkind = "dask"\nscheduler = "{scheduler}"\npartition_rows = {partition_rows}\n'
    (root / "weaklab.toml").write_text(config)
    return root
