"""The dashboard's review queue reads the gold column as the run does: a gold cell the run refuses (a class name
not in [labels].classes) gives the run's own message on the review page, and a class renamed by [labels.rename]
still counts as gold there."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

from weaklab.dashboard import create_app
from weaklab.errors import ValidationError
from weaklab.pipeline import Project


def _set_truth(root: Path, row: int, value: str) -> str:
    path = root / "data" / "msgs.csv"
    frame = pd.read_csv(path, keep_default_na=False, dtype=str)
    frame.loc[row, "truth"] = value
    frame.to_csv(path, index=False)
    return str(frame.loc[row, "msg_no"])


def test_review_page_says_what_the_run_says_about_a_refused_gold_cell(tmp_path, msgs_project_writer):
    msgs_project_writer(tmp_path, 12, 3, extra_toml='\n[labels.rename]\nspam = "junk"\n')
    Project(tmp_path).run("fit")
    store = tmp_path / ".weaklab" / "weaklab.duckdb"
    with TestClient(create_app(store, annotator_default="ann"), base_url="http://127.0.0.1") as client:
        renamed = _set_truth(tmp_path, 0, "spam")  # an old name the project maps: gold, so never offered
        page = client.get("/review?run=1")
        assert page.status_code == 200 and f'data-item="{renamed}"' not in page.text
        assert re.search(r"4 items hold gold", " ".join(page.text.split()))
        _set_truth(tmp_path, 3, "spma")
        with pytest.raises(ValidationError) as by_run:
            Project(tmp_path).run("apply")
        page = client.get("/review?run=1")
        assert page.status_code == 400
        assert "&#39;spma&#39; on row 3" in page.text or "'spma' on row 3" in page.text
        assert str(by_run.value).split(": ", 1)[1][:60] in page.text.replace("&#39;", "'")
