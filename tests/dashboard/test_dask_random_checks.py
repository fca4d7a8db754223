"""Random checks of a Dask run's review queues are drawn from every free item of its partitions."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

from weaklab.dashboard import create_app

from .conftest import DASK_ROWS

RUN = 1


def _data(store_path: Path) -> pd.DataFrame:
    return pd.read_parquet(store_path.parent.parent / "data" / "comments.parquet")


def _gold(store_path: Path) -> set[int]:
    data = _data(store_path)
    held = (data["split"] == "dev").to_numpy() & data["label"].notna().to_numpy()
    return set(data["comment_id"].to_numpy()[held].tolist())


def test_draw_free_items_draws_every_item_but_gold_and_taken_ones(dask_store: Path,
                                                                   dask_store_template: Path) -> None:
    """Asked for more than are free, the draw holds each free item once (none holding gold, none taken), with its
    soft label as the run's partitions hold it, and counts the free items; a small draw is a subset of them."""
    from weaklab.pipeline.partitioned_runs import draw_free_items
    from weaklab.store import Store

    everything = _data(dask_store_template)["comment_id"].to_numpy()
    taken = everything[[0, 5, 61, 239]].tolist()
    free = set(everything.tolist()) - _gold(dask_store_template) - set(taken)
    with Store(dask_store) as store:
        ids, proba, n_free = draw_free_items(store, RUN, DASK_ROWS, taken, random_state=0)
        soft = store.open_partitioned(RUN, "soft_labels")
        whole = np.concatenate([soft.read_partition(i).proba for i in range(soft.n_partitions)])
        few, _, _ = draw_free_items(store, RUN, 5, taken, random_state=1)
    assert n_free == len(free) == len(ids) and set(ids.tolist()) == free
    rows = np.searchsorted(everything, ids)  # ids grow with the rows (1000..)
    np.testing.assert_allclose(proba, whole[rows])
    assert len(set(few.tolist())) == 5 and set(few.tolist()) <= free


def test_the_review_page_of_a_dask_run_serves_recorded_random_checks(dask_store: Path,
                                                                     dask_store_template: Path) -> None:
    """With every slot a check, the Dask run's review page serves items drawn from the free ones, recorded as
    random checks with the free count (one fewer after each answer)."""
    from weaklab.store import Store

    with TestClient(create_app(dask_store, annotator_default="ann", random_share=1.0), follow_redirects=False,
                    base_url="http://127.0.0.1") as client:
        for _ in range(3):
            page = client.get(f"/review?run={RUN}").text
            item = re.search(r'id="review-item" data-item="([^"]+)"', page).group(1)
            client.post("/review/answer", data={"csrf": str(client.cookies.get("weaklab_csrf")), "run": str(RUN),
                                                "item_id": item, "label": "0"})
    with Store(dask_store, read_only=True) as store:
        slots = store.queue_slots(1)
    assert slots["at_random"].tolist() == [True] * 3
    assert np.diff(slots["pool_left"].to_numpy()).tolist() == [-1, -1]
    assert slots["pool_left"].iloc[0] == DASK_ROWS - len(_gold(dask_store_template))
    assert not set(slots["item_id"].astype(int)) & _gold(dask_store_template)
