"""The dashboard's /diff of two multilabel runs: per-label counts and the items whose label set changed."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

from weaklab.dashboard import create_app
from weaklab.demo.multilabel import init_multilabel_project
from weaklab.pipeline import Project
from weaklab.pipeline.multilabel_diff import diff_label_sets


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory):
    """Run 1 with the example's LFs; run 2 after kw_sport_shared also fires on 'season' (a new version)."""
    root = tmp_path_factory.mktemp("ml_diff_page") / "topics"
    init_multilabel_project(root, n_items=120)
    Project(root).run("fit")
    lfs = root / "lfs.py"
    lfs.write_text(lfs.read_text().replace('["game", "record"]', '["game", "record", "season", "week"]'))
    Project(root).run("fit")
    with TestClient(create_app(root / ".weaklab" / "weaklab.duckdb", annotator_default="ann", random_share=0),
                    follow_redirects=False, base_url="http://127.0.0.1") as c:
        yield c


def test_diff_page_lists_the_changed_label_sets_and_per_label_counts(client: TestClient) -> None:
    """/diff?a=1&b=2 answers 200 with the per-label table and one row per changed item (as diff_label_sets)."""
    found = diff_label_sets(client.app.state.dashboard.store, 1, 2)
    assert len(found.items) > 0
    page = client.get("/diff?a=1&b=2")
    assert page.status_code == 200, page.text[-300:]
    assert 'id="per-label-diff"' in page.text and f"{len(found.items)} items changed their final label set" in page.text
    for row in found.per_label.itertuples():
        assert f"<td>{row.label}</td><td>{row.n_a}</td><td>{row.n_b}</td>" in page.text
    shown = min(len(found.items), 50)
    assert page.text.count('<tr><td><a href="/items/') == shown
    for row in found.items.head(shown).itertuples():  # each row: the labels on both sides and the reason
        assert (f"<td>{', '.join(row.labels_a) or '-'}</td><td>{', '.join(row.labels_b) or '-'}</td>" in page.text
                and row.reason in page.text)


def test_diff_of_a_run_with_itself_lists_nothing(client: TestClient) -> None:
    """The same run on both sides: no item changed, the per-label counts are equal."""
    page = client.get("/diff?a=2&b=2")
    assert page.status_code == 200 and "0 items changed their final label set" in page.text
