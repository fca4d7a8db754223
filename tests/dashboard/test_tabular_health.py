"""The model-health page of a table project names the columns its tabular end model read (numeric, or categories
one-hot) and those it left out, with why, as `weaklab train` prints them."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

from weaklab.dashboard import create_app
from weaklab.demo.tabular import init_tabular_project
from weaklab.pipeline import Project


def test_the_health_page_lists_the_columns_read_and_left_out(tmp_path):
    """A tabular run's page shows 'site' read as 3 categories one-hot, 'temp_c' numeric and 'note' left out as text."""
    root = tmp_path / "machines"
    init_tabular_project(root, n_items=200)
    run = Project(root).run("train").run_id
    client = TestClient(create_app(root / ".weaklab" / "weaklab.duckdb"), base_url="http://127.0.0.1")
    page = client.get(f"/health?run={run}").text
    assert "<th>site</th><td>read: 3 categories, one-hot</td>" in page
    assert "<th>temp_c</th><td>read: numeric</td>" in page
    assert '<tr class="skipped"><th>note</th><td>left out: text or ids:' in page
