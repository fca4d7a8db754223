"""A small recorded store for the dashboard tests: two demo runs plus ranked label issues."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the dashboard needs the [web] extra (fastapi)")

N_ISSUES = 30


def _build(folder: Path) -> Path:
    from weaklab.demo import SpamDemo
    from weaklab.store import Store

    path = folder / ".weaklab" / "weaklab.duckdb"
    SpamDemo(store=path).run()
    SpamDemo(store=path, random_state=1).run()
    with Store(path) as store:
        run_id = store.latest_run_id()
        soft = store.load_soft_labels(int(store.run_records(run_id)["soft_labels"]["soft_labels_id"].iloc[-1]))
        given = np.argmax(soft.proba, axis=1)[:N_ISSUES]
        store.add_label_issues(run_id, np.asarray(soft.item_ids)[:N_ISSUES], method="confident_learning",
                               given=given, suggested=1 - given, score=np.linspace(0.01, 0.3, N_ISSUES))
    return path


@pytest.fixture(scope="session")
def demo_store_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the demo store once per test process."""
    return _build(tmp_path_factory.mktemp("dashboard_store"))


@pytest.fixture
def demo_store(demo_store_template: Path, tmp_path: Path) -> Path:
    """A private copy of the demo store (tests write answers and corrections into it)."""
    target = tmp_path / "project" / ".weaklab"
    shutil.copytree(demo_store_template.parent, target)
    return target / "weaklab.duckdb"


#: Rows of the Dask run's data (integer ids 1000..) and rows per partition (and per Parquet row group).
DASK_ROWS, DASK_PARTITION = 240, 60


@pytest.fixture(scope="session")
def dask_store_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project run up to ``issues`` on the Dask engine (a LocalCluster of one worker): Parquet data with
    integer ids in row groups of DASK_PARTITION rows, votes and soft labels in DASK_ROWS / DASK_PARTITION
    partitions."""
    pytest.importorskip("distributed", reason="the Dask engine needs the [dask] extra")
    import pandas as pd

    from weaklab.pipeline import Project, init_project

    root = tmp_path_factory.mktemp("dask_dashboard") / "project"
    init_project(root, n_items=DASK_ROWS)
    table = pd.read_csv(root / "data" / "comments.csv", keep_default_na=False, na_values=[""])
    table["comment_id"] = range(1000, 1000 + len(table))
    table.to_parquet(root / "data" / "comments.parquet", row_group_size=DASK_PARTITION, index=False)
    config = root / "weaklab.toml"
    config.write_text(config.read_text().replace('path = "data/comments.csv"', 'path = "data/comments.parquet"')
                      + f'\n[engine]\nkind = "dask"\nscheduler = "local"\nn_workers = 1\n'
                        f'partition_rows = {DASK_PARTITION}\n'
                      + '\n[label_model]\nname = "MatrixCompletion"\nparams = { random_state = 0 }\n')  # estimates
    Project(root).run("issues")
    return root / ".weaklab" / "weaklab.duckdb"


@pytest.fixture
def dask_store(dask_store_template: Path, tmp_path: Path) -> Path:
    """A private copy of the Dask run's store (its votes stay where the run wrote them; tests only add answers)."""
    target = tmp_path / "project" / ".weaklab"
    shutil.copytree(dask_store_template.parent, target, ignore=shutil.ignore_patterns("partitions"))
    return target / "weaklab.duckdb"


@pytest.fixture(scope="session")
def tagging_store_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tagging project (the generated example, 60 sentences) run up to fit, once per test process."""
    from weaklab.demo.tagging import init_tagging_project
    from weaklab.pipeline import Project

    root = tmp_path_factory.mktemp("tagging_store") / "ner"
    init_tagging_project(root, n_items=60)
    Project(root).run("fit")
    return root / ".weaklab" / "weaklab.duckdb"


@pytest.fixture
def tagging_store(tagging_store_template: Path, tmp_path: Path) -> Path:
    """A private copy of the tagging store (tests write span answers into it)."""
    target = tmp_path / "ner" / ".weaklab"
    shutil.copytree(tagging_store_template.parent, target)
    return target / "weaklab.duckdb"
