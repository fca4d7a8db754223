"""Blind review ([review].show_suggestion = false): the review queues show the item alone."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

from weaklab.dashboard import create_app


def _fitted(tmp_path: Path, extra: str = "") -> Path:
    from weaklab.pipeline import Project, init_project

    init_project(tmp_path, n_items=60)
    config = tmp_path / "weaklab.toml"
    config.write_text(config.read_text() + extra)
    Project(tmp_path).run(until="fit")
    return tmp_path / ".weaklab" / "weaklab.duckdb"


@pytest.mark.parametrize("show", [True, False])
def test_the_review_page_hides_votes_and_soft_label_in_blind_review(tmp_path: Path, show: bool) -> None:
    """With show_suggestion false the page holds the item's text and the answer buttons, but neither the votes
    table, the soft label, the source names nor a link to the item's page (its whole story); with true (as unset)
    it shows them."""
    store_path = _fitted(tmp_path, "" if show else "\n[review]\nshow_suggestion = false\n")
    lfs = re.findall(r"^def (\w+)|name=\"(\w+)\"", (tmp_path / "lfs.py").read_text(), flags=re.M)
    names = {a or b for a, b in lfs}
    with TestClient(create_app(store_path, annotator_default="ann", random_share=0), follow_redirects=False,
                    base_url="http://127.0.0.1") as client:
        page = client.get("/review?run=1").text
    item = re.search(r'id="review-item" data-item="([^"]+)"', page).group(1)
    assert 'id="answer-form"' in page and 'id="item-text"' in page
    shown = [marker in page for marker in ('id="votes-table"', 'id="soft-label"', "Current soft label",
                                           f'href="/items/{item}')]
    assert shown == [show] * 4 and names
    assert ('id="blind-review"' in page) == (not show)
    if not show:
        assert not any(re.search(rf"<th>{re.escape(n)}</th>", page) for n in names)


def test_show_suggestion_is_validated(tmp_path: Path) -> None:
    """A non-boolean show_suggestion is refused naming the key, what was expected and what came."""
    from weaklab.errors import ValidationError
    from weaklab.pipeline import init_project, load_config

    init_project(tmp_path, n_items=60)
    config = tmp_path / "weaklab.toml"
    config.write_text(config.read_text() + '\n[review]\nshow_suggestion = "no"\n')
    with pytest.raises(ValidationError, match=r"review\.show_suggestion: expected true or false, got .*no"):
        load_config(tmp_path)


def test_the_multilabel_review_page_hides_probabilities_voters_and_ticks_in_blind_review(tmp_path: Path) -> None:
    """A multi-label run's review page in blind review lists every label with an unticked box, and neither
    P(applies), the voters nor the label model's ticks."""
    from weaklab.demo.multilabel import init_multilabel_project
    from weaklab.pipeline import Project

    root = tmp_path / "topics"
    init_multilabel_project(root, n_items=80)
    config = root / "weaklab.toml"
    config.write_text(config.read_text() + "\n[review]\nshow_suggestion = false\n")
    Project(root).run("fit")
    with TestClient(create_app(root / ".weaklab" / "weaklab.duckdb", annotator_default="ann"),
                    follow_redirects=False, base_url="http://127.0.0.1") as client:
        page = client.get("/review").text
    assert 'id="label-review"' in page and 'id="blind-review"' in page
    assert "P(applies)" not in page and "voted present by" not in page and " checked" not in page
    assert page.count('type="checkbox" name="labels"') >= 2


@pytest.mark.parametrize("show", [True, False])
def test_label_studio_tasks_carry_no_prediction_in_blind_review(tmp_path: Path, show: bool) -> None:
    """A Label Studio batch of a blind-review project pre-fills nothing (no task has predictions); unset, the
    covered tasks carry the model's prediction."""
    import json

    from weaklab.interop.labelstudio import export_label_studio
    from weaklab.store import Store

    store_path = _fitted(tmp_path, "" if show else "\n[review]\nshow_suggestion = false\n")
    with Store(store_path) as store:
        export_label_studio(store, 1, tmp_path / "tasks.json", limit=10)
    tasks = json.loads((tmp_path / "tasks.json").read_text())
    assert len(tasks) == 10 and any("predictions" in t for t in tasks) == show
