"""The dashboard's review queue serves random checks as any other item, and records them in the store."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

from weaklab.dashboard import create_app


def _fitted(tmp_path: Path, share: float) -> Path:
    from weaklab.pipeline import Project, init_project

    init_project(tmp_path, n_items=60)
    config = tmp_path / "weaklab.toml"
    config.write_text(config.read_text().replace("[query]\n", f"[query]\nrandom_share = {share}\n"))
    Project(tmp_path).run(until="fit")
    return tmp_path / ".weaklab" / "weaklab.duckdb"


def _shown(client: TestClient) -> tuple[str, str]:
    text = client.get("/review?run=1").text
    found = re.search(r'id="review-item" data-item="([^"]+)"', text)
    assert found is not None
    return found.group(1), text


@pytest.mark.parametrize("share", [1.0, 0.0])
def test_review_queue_records_each_served_item_and_its_random_checks(tmp_path: Path, share: float) -> None:
    """Every item the page serves is a recorded slot of the "review" queue; with share 1 each is a random check
    drawn from the free items (their count recorded), with share 0 none is; the page never says which."""
    from weaklab.store import Store

    store_path = _fitted(tmp_path, share)
    with TestClient(create_app(store_path, annotator_default="ann"), follow_redirects=False,
                    base_url="http://127.0.0.1") as client:
        shown = []
        for _ in range(3):
            item, text = _shown(client)
            assert "random" not in text.lower()
            shown.append(item)
            response = client.post("/review/answer", data={"csrf": str(client.cookies.get("weaklab_csrf")),
                                                           "run": "1", "item_id": item, "label": "0"})
            assert response.status_code == 303
    with Store(store_path, read_only=True) as store:
        slots = store.queue_slots(1)
    assert slots["item_id"].astype(str).tolist() == shown and set(slots["queue"]) == {"review"}
    assert slots["at_random"].tolist() == [share == 1.0] * 3
    if share:
        assert slots["pool_left"].tolist() == sorted(slots["pool_left"].tolist(), reverse=True)  # one fewer each
        assert slots["pool_left"].iloc[0] - slots["pool_left"].iloc[1] == 1


def test_create_app_random_share_overrides_the_projects(tmp_path: Path) -> None:
    """create_app(random_share=0) serves only ranked items in a project whose share is 1 (every slot a check
    otherwise); a share outside 0..1 is an error naming it."""
    from weaklab.errors import ValidationError
    from weaklab.store import Store

    store_path = _fitted(tmp_path, 1.0)
    with TestClient(create_app(store_path, annotator_default="ann", random_share=0.0), follow_redirects=False,
                    base_url="http://127.0.0.1") as client:
        _shown(client)
    with Store(store_path, read_only=True) as store:
        assert store.queue_slots(1)["at_random"].tolist() == [False]
    with pytest.raises(ValidationError, match="random_share"):
        create_app(store_path, random_share=1.5)


def _serve(store_path: Path, n: int) -> list[tuple[str, bool]]:
    """Answer ``n`` items the review page serves; each item with whether the store recorded it as a check."""
    from weaklab.store import Store

    with TestClient(create_app(store_path, annotator_default="ann"), follow_redirects=False,
                    base_url="http://127.0.0.1") as client:
        for _ in range(n):
            item, _ = _shown(client)
            client.post("/review/answer", data={"csrf": str(client.cookies.get("weaklab_csrf")), "run": "1",
                                                "item_id": item, "label": "0"})
    with Store(store_path, read_only=True) as store:
        slots = store.queue_slots(1)
    return list(zip(slots["item_id"].astype(str), slots["at_random"].astype(bool)))


def test_the_same_store_serves_the_same_random_checks(tmp_path: Path) -> None:
    """Two copies of one store serve the same items, checks at the same places (the draw is seeded from the
    store), mixing checks and ranked items at share 0.5; with another [query].random_state a third copy serves
    other items."""
    import shutil

    store_path = _fitted(tmp_path / "project", 0.5)
    copies = [tmp_path / f"copy{i}" / store_path.name for i in range(2)]
    for copy in copies:  # the store's folder: its Parquet arrays too
        shutil.copytree(store_path.parent, copy.parent)
    first, second = _serve(store_path, 8), _serve(copies[0], 8)
    assert first == second
    assert 0 < sum(flag for _, flag in first) < 8
    config = tmp_path / "project" / "weaklab.toml"
    config.write_text(config.read_text().replace("[query]\n", "[query]\nrandom_state = 7\n"))
    assert _serve(copies[1], 8) != first


def _skip(client: TestClient, item: str) -> None:
    response = client.post("/review/skip", data={"csrf": str(client.cookies.get("weaklab_csrf")), "run": "1",
                                                 "item_id": item})
    assert response.status_code == 303


@pytest.mark.parametrize("share", [0.5, 0.0])
def test_a_skipped_random_check_is_replaced_by_a_fresh_draw(tmp_path: Path, share: float) -> None:
    """Skipping an item served as a random check claims a fresh uniform draw for the reviewer, recorded as a check,
    and the page shows it next; skipping a ranked item does not (share 0: no check ever)."""
    from weaklab.pipeline.queue_checks import check_outcomes
    from weaklab.store import Store

    store_path = _fitted(tmp_path, share)
    with TestClient(create_app(store_path, annotator_default="ann"), follow_redirects=False,
                    base_url="http://127.0.0.1") as client:
        for _ in range(12):  # skip every item until a check was skipped (share 0: twelve ranked items)
            item, _ = _shown(client)
            with Store(store_path, read_only=True) as store:
                was_check = bool(store.queue_slots(1)["at_random"].iloc[-1])
            _skip(client, item)
            if was_check:
                break
        after, _ = _shown(client)
    with Store(store_path, read_only=True) as store:
        slots = store.queue_slots(1)
        outcomes = check_outcomes(store, 1)
    assert was_check == (share > 0)
    assert slots["item_id"].astype(str).iloc[-1] == after != item
    if share:
        assert slots["at_random"].tolist()[-2:] == [True, True] and outcomes == (0, 1)
        assert slots["pool_left"].iloc[-1] == slots["pool_left"].iloc[-2] - 1  # the skipped item left the pool
    else:
        assert not slots["at_random"].any() and outcomes == (0, 0) and len(slots) == 13
