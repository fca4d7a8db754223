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
