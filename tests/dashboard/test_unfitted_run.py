"""The pages that read soft labels say what to run when the chosen run has none (not a raw 400 error)."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from weaklab.dashboard import create_app
from weaklab.pipeline import Project, init_project


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    root = tmp_path_factory.mktemp("unfitted") / "p"
    init_project(root, n_items=60)
    Project(root).run(until="apply")  # `weaklab apply`, then `weaklab serve`: no label model yet
    return TestClient(create_app(root / ".weaklab" / "weaklab.duckdb"), base_url="http://127.0.0.1")


@pytest.mark.parametrize("page", ["/health", "/review", "/health?run=1", "/review?run=1"])
def test_a_run_without_soft_labels_gets_a_note_naming_weaklab_fit(client, page):
    response = client.get(page)
    assert response.status_code == 200, response.text[:300]
    assert 'id="unfitted"' in response.text
    assert "Run 1 has no soft labels (its steps: apply; finished)" in response.text
    assert "weaklab fit" in response.text
