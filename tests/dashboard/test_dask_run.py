"""The dashboard over a run on the Dask engine: every page answers from the run's reduced statistics and from
the Parquet partitions that hold the items shown, never from the whole data."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

from weaklab._core import partitioned as partitioned_module
from weaklab.dashboard import create_app

from .conftest import DASK_PARTITION, DASK_ROWS

RUN = 1


class Reads:
    """Counts the Parquet reads of votes and soft-label partitions and of data row groups (rows and files)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import pyarrow.parquet as pq

        self.partition_reads: list[tuple[str, int]] = []
        self.data_rows: list[int] = []
        real_frame, real_group = partitioned_module.read_frame, pq.ParquetFile.read_row_group

        def read_frame(root: str, relative: str, *args: Any, **kwargs: Any) -> pd.DataFrame:
            frame = real_frame(root, relative, *args, **kwargs)
            self.partition_reads.append((f"{root}/{relative}", len(frame)))
            return frame

        def read_row_group(this: Any, i: int, *args: Any, **kwargs: Any) -> Any:
            table = real_group(this, i, *args, **kwargs)
            self.data_rows.append(table.num_rows)
            return table

        monkeypatch.setattr(partitioned_module, "read_frame", read_frame)
        monkeypatch.setattr(pq.ParquetFile, "read_row_group", read_row_group)

    def reset(self) -> None:
        self.partition_reads.clear()
        self.data_rows.clear()


@pytest.fixture
def web(dask_store: Path) -> Iterator[TestClient]:
    with TestClient(create_app(dask_store, annotator_default="ann"), follow_redirects=False,
                    base_url="http://127.0.0.1") as client:
        yield client


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Reads:
    return Reads(monkeypatch)


def _data(store_path: Path) -> pd.DataFrame:
    return pd.read_parquet(store_path.parent.parent / "data" / "comments.parquet")


@pytest.mark.parametrize("url", ["/runs", "/sources", "/sources/kw_song", "/label-model", "/health", "/issues",
                                 "/issues?page=2", "/review", "/api/sources"])
def test_every_page_of_a_dask_run_answers(web: TestClient, url: str) -> None:
    """Sources, label model, health, issues and review pages of a Dask run answer 200 (no 400 any more)."""
    response = web.get(url)
    assert response.status_code == 200, response.text[-400:]


def test_sources_and_label_model_come_from_the_reduced_statistics(web: TestClient, dask_store_template: Path) -> None:
    """The sources table holds every LF with the coverage the run recorded and the label model's estimate."""
    from weaklab.store import Store

    rows = web.get(f"/api/sources?run={RUN}").json()["rows"]
    with Store(dask_store_template, read_only=True) as store:
        manifest = store.partitioned(RUN)["votes"]["manifest"]
        history = store.source_history("kw_song")
    assert [r["source"] for r in sorted(rows, key=lambda r: r["source"])] == sorted(manifest["source_names"])
    song = next(r for r in rows if r["source"] == "kw_song")
    assert song["coverage"] == pytest.approx(float(history["coverage"].dropna().iloc[-1]))
    assert all(0 <= r["est_accuracy"] <= 1 for r in rows)
    page = web.get(f"/label-model?run={RUN}").text
    assert "Learned accuracy per source" in page


def test_issues_page_pages_through_the_recorded_top_n(web: TestClient) -> None:
    """The run's top-N issues are recorded like a local run's: 25 per page, the first page starts at rank 1."""
    store = web.app.state.dashboard.store
    n = store.n_label_issues(RUN)
    assert 25 < n <= DASK_ROWS
    first = store.label_issues(RUN, limit=25)
    assert first["rank"].tolist() == list(range(1, 26))
    page = web.get(f"/issues?run={RUN}").text
    assert str(first["item_id"].iloc[0]) in page and f"/issues?run={RUN}&amp;page=2" in page


def test_item_page_reads_one_partition_of_votes_soft_labels_and_data(web: TestClient, reads: Reads,
                                                                     dask_store_template: Path) -> None:
    """The lineage of an item in the last partition reads that partition's ids, votes and soft labels and one
    row group of the data file: never more than one partition's rows per read, never the other partitions."""
    data = _data(dask_store_template)
    row = DASK_ROWS - 7
    item = int(data["comment_id"].iloc[row])
    story = web.get(f"/api/items/{item}?run={RUN}").json()
    assert story["row"] == row and story["partition"] == row // DASK_PARTITION
    assert story["text"] == data["text"].iloc[row] and story["posterior"] is not None
    files = {name for name, _ in reads.partition_reads}
    assert len(files) == 2 and all(f"{row // DASK_PARTITION:05d}.parquet" in f for f in files), files
    assert max(n for _, n in reads.partition_reads) <= DASK_PARTITION
    assert reads.data_rows == [DASK_PARTITION]


def test_review_answer_is_recorded_on_the_item_id_and_not_orphaned(web: TestClient, reads: Reads,
                                                                   dask_store_template: Path) -> None:
    """The review queue offers the most uncertain item; answering records it on the item id and its global row,
    the item's lineage shows the answer, the dataset counts it (not orphaned), and the queue moves on."""
    page = web.get(f"/review?run={RUN}").text
    item = re.search(r'data-item="([^"]+)"', page).group(1)
    assert max(n for _, n in reads.partition_reads) <= DASK_PARTITION  # ranked one partition at a time
    csrf = web.cookies.get("weaklab_csrf")
    response = web.post("/review/answer", data={"csrf": csrf, "run": str(RUN), "item_id": item, "label": "1"})
    assert response.status_code == 303
    store = web.app.state.dashboard.store
    answers = store.annotations(1)
    assert answers["item_id"].tolist() == [int(item)] and answers["annotator"].tolist() == ["ann"]
    data = _data(dask_store_template)
    row = int(np.flatnonzero(data["comment_id"].to_numpy() == int(item))[0])
    assert store.human_labels(1)["row"].tolist() == [row]
    carried = store.carry_over(1)
    assert carried["answers"] == 1 and carried["orphaned"] == 0
    story = web.get(f"/api/items/{item}?run={RUN}").json()
    assert [a["annotator"] for a in story["annotations"]] == ["ann"]
    assert re.search(r'data-item="([^"]+)"', web.get(f"/review?run={RUN}").text).group(1) != item


def _gold(store_path: Path) -> set[int]:
    """The items that hold gold: a gold label on a row of the dev split (as on the local engine)."""
    data = _data(store_path)
    held = (data["split"] == "dev").to_numpy() & data["label"].notna().to_numpy()
    return set(data["comment_id"].to_numpy()[held].tolist())


def test_review_candidates_are_the_most_uncertain_items_of_all_partitions(dask_store_template: Path) -> None:
    """The bounded per-partition merge equals ranking every soft label at once (ties in data order), the items
    that hold gold counted apart: the 50 most uncertain without gold and the 50 most uncertain with gold."""
    from weaklab.active import uncertainty
    from weaklab.pipeline.partitioned_runs import review_candidates
    from weaklab.store import Store

    with Store(dask_store_template, read_only=True) as store:
        soft = store.open_partitioned(RUN, "soft_labels")
        parts = [soft.read_partition(i) for i in range(soft.n_partitions)]
        ids, proba = review_candidates(store, RUN, "margin", limit=50)
    everything = np.concatenate([p.proba for p in parts])
    all_ids = np.concatenate([p.item_ids for p in parts])
    order = np.argsort(-uncertainty(everything, measure="margin"), kind="stable")
    held = np.isin(all_ids[order], list(_gold(dask_store_template)))
    assert 0 < held[:50].sum() < 50, "the test wants gold among the most uncertain items"
    order = np.sort(np.concatenate([np.flatnonzero(~held)[:50], np.flatnonzero(held)[:50]]))
    order = np.argsort(-uncertainty(everything, measure="margin"), kind="stable")[order]
    assert ids.tolist() == all_ids[order].tolist()
    np.testing.assert_allclose(proba, everything[order])


def test_review_queue_of_a_dask_run_offers_no_gold_item_and_says_how_many(web: TestClient,
                                                                         dask_store_template: Path) -> None:
    """As on the local engine: the run lists the items that hold gold (found on the workers), no review queue
    offers them (every other item is offered), the page says how many are held back, and ?gold=1 offers them."""
    from weaklab.pipeline.review import GoldItems, gold_items, review_batch

    gold = _gold(dask_store_template)
    store = web.app.state.dashboard.store
    found = gold_items(store, 1)
    assert found.ids == {str(v) for v in gold} and found.column == "label" and len(gold) > 10
    items, _ = review_batch(store, RUN, limit=DASK_ROWS)
    everything = set(_data(dask_store_template)["comment_id"].tolist())
    assert {int(item.item_id) for item in items} == everything - gold
    items, _ = review_batch(store, RUN, limit=DASK_ROWS, gold=GoldItems(frozenset()))
    assert {int(item.item_id) for item in items} == everything
    page = web.get(f"/review?run={RUN}").text
    assert f"{len(gold)} items hold gold (column &#39;label&#39;) and are not offered" in page
    assert int(re.search(r'data-item="([^"]+)"', page).group(1)) not in gold


def test_label_model_page_shows_the_agreement_the_run_reduced(web: TestClient, dask_store_template: Path,
                                                              reads: Reads) -> None:
    """The Dask run recorded the agreement between sources (reduced over its partitions): the label-model page
    draws the heat-map from it, equal to the local computation on the whole matrix, without reading a partition;
    the sources table gains the agreement with the label model per class and a source lists its disagreements."""
    from weaklab.dashboard.state import MatrixStats
    from weaklab.store import Store

    with Store(dask_store_template, read_only=True) as store:
        plm, soft = store.open_partitioned(RUN, "votes"), store.open_partitioned(RUN, "soft_labels")
        votes = np.concatenate([plm.read_partition(i).to_dense() for i in range(plm.n_partitions)])
        proba = np.concatenate([soft.read_partition(i).proba for i in range(soft.n_partitions)])
        ids = np.concatenate([plm.read_item_ids(i) for i in range(plm.n_partitions)])
    local = MatrixStats(votes, np.argmax(proba, axis=1), ids, list(plm.source_names), plm.n_classes)
    reads.reset()
    page = web.get(f"/label-model?run={RUN}").text
    assert "Agreement between sources" in page and f"over {DASK_ROWS:,} items" in page
    state = web.app.state.dashboard
    recorded = state.matrix_stats(RUN)
    np.testing.assert_allclose(recorded.agreement, local.agreement)
    np.testing.assert_allclose(recorded.class_agreement, local.class_agreement)
    rows = web.get(f"/api/sources?run={RUN}").json()["rows"]
    assert any(k.startswith("agrees_lm_") for k in rows[0])
    assert not reads.partition_reads
    name = next(n for n in plm.source_names if len(local.disagreements[n][0]))
    first = local.disagreements[name][0][0]
    assert f"/items/{first}" in web.get(f"/sources/{name}?run={RUN}").text


def test_issues_page_shows_the_evidence_the_run_recorded_without_reading_partitions(
        web: TestClient, reads: Reads, dask_store_template: Path) -> None:
    """The run recorded each top issue's votes, posterior and text: the issues page shows the same evidence
    as the item's lineage (which reads its partitions), and reads no partition and no data row group itself."""
    store = web.app.state.dashboard.store
    first = store.label_issues(RUN, limit=25)
    reads.reset()
    for page in (1, 2):
        assert web.get(f"/issues?run={RUN}&page={page}").status_code == 200
    assert not reads.partition_reads and not reads.data_rows
    from weaklab.dashboard.pages.issues import issues_view

    shown = issues_view(web.app.state.dashboard, RUN, 1)["issues"]
    assert [i["item_id"] for i in shown] == first["item_id"].tolist()
    data = _data(dask_store_template).set_index("comment_id")
    for issue in shown[:5]:
        story = store.explain(issue["item_id"], RUN)
        assert issue["votes"] == [{k: v[k] for k in ("source", "version", "label", "class_name")}
                                  for v in story["votes"]]
        np.testing.assert_allclose(issue["posterior"], story["posterior"]["proba"])
        assert issue["text"] == data.loc[int(issue["item_id"]), "text"][:500]
