"""The dashboard over a multi-label run: the runs page lists it; pages that do not show such runs yet say so."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

from weaklab.dashboard import create_app
from weaklab.demo.multilabel import init_multilabel_project
from weaklab.pipeline import Project


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("ml_dashboard") / "topics"
    init_multilabel_project(root, n_items=80)
    Project(root).run("fit")
    with TestClient(create_app(root / ".weaklab" / "weaklab.duckdb", annotator_default="ann"),
                    follow_redirects=False, base_url="http://127.0.0.1") as c:
        yield c


def test_runs_page_lists_the_multilabel_run(client: TestClient) -> None:
    """/runs answers 200 and names the run's label model."""
    page = client.get("/runs")
    assert page.status_code == 200 and "MultiLabelDawidSkene" in page.text


@pytest.mark.parametrize("path", ["/sources", "/label-model", "/review", "/health", "/issues", "/items/a00001",
                                  "/api/sources", "/diff?a=1&b=1"])
def test_pages_that_do_not_show_multilabel_runs_refuse_with_one_line(client: TestClient, path: str) -> None:
    """Each such page answers 400 with a message naming what is not supported (no 500, no wrong numbers)."""
    page = client.get(path)
    assert page.status_code == 400, page.text[-300:]
    assert "not supported for multilabel runs yet" in page.text
