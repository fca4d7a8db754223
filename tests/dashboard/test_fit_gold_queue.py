"""The dashboard's review queue with [data].fit_gold: items whose gold fed the run's fit are not offered (they
count as gold on the page), and without fit_gold the queue offers every item outside dev, as before."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("fastapi", reason="the dashboard needs the [web] extra (fastapi)")

from fastapi.testclient import TestClient

from weaklab.dashboard import create_app
from weaklab.pipeline import Project

N_ITEMS, N_FIT = 24, 6


def _skip_through(project: Project, run_id: int) -> tuple[list[str], str]:
    """Skip every item /review offers; the items shown and the first page's text."""
    client = TestClient(create_app(project.store_path, annotator_default="ann"), follow_redirects=False,
                        base_url="http://127.0.0.1")
    shown, first = [], ""
    with client:
        for _ in range(2 * N_ITEMS):
            text = client.get(f"/review?run={run_id}").text
            first = first or text
            found = re.search(r'id="review-item" data-item="([^"]+)"', text)
            if found is None:
                break
            shown.append(found.group(1))
            form = {"csrf": str(client.cookies.get("weaklab_csrf")), "run": run_id, "item_id": found.group(1)}
            assert client.post("/review/skip", data=form).status_code == 303
    return shown, first


def test_review_queue_does_not_offer_items_whose_gold_fed_the_fit(tmp_path, fit_gold_project):
    """With fit_gold = 6 the queue offers each item outside dev and the draw once, none of the 6 drawn, and the
    page counts them among the items that hold gold."""
    project, run_id, everything, dev, drawn = fit_gold_project(tmp_path, N_ITEMS, str(N_FIT))
    assert len(drawn) == N_FIT and not drawn & dev
    shown, page = _skip_through(project, run_id)
    assert len(shown) == len(set(shown)) and set(shown) == everything - dev - drawn
    assert f"{len(dev) + N_FIT} items hold gold (column &#39;label&#39;) and are not offered" in " ".join(page.split())


def test_without_fit_gold_the_review_queue_offers_every_item_outside_dev(tmp_path, fit_gold_project):
    """fit_gold unset: the queue is what it was before fit_gold."""
    project, run_id, everything, dev, drawn = fit_gold_project(tmp_path, N_ITEMS, None)
    shown, _ = _skip_through(project, run_id)
    assert not drawn and set(shown) == everything - dev


def test_after_editing_the_data_file_the_review_page_keeps_to_what_the_fit_had(tmp_path, fit_gold_project,
                                                                                fit_gold_file_edit):
    """Deleting and relabelling drawn rows and shuffling the file after the fit: /review offers none of the items
    whose gold fed the fit (deleted ones included) and every other item of the run once."""
    project, run_id, everything, dev, drawn = fit_gold_project(tmp_path, N_ITEMS, str(N_FIT))
    fit_gold_file_edit(project.config, drawn, dev)
    shown, _ = _skip_through(project, run_id)
    assert len(shown) == len(set(shown)) and set(shown) == everything - dev - drawn
