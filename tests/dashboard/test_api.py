"""The dashboard's routes through FastAPI's test client: pages, writes, validation and security rules."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

from weaklab.dashboard import create_app

TOKEN = "s3cret-token-for-tests"


def _client(store: Path, **kwargs: Any) -> TestClient:
    return TestClient(create_app(store, **kwargs), follow_redirects=False, base_url="http://127.0.0.1")


def _csrf(client: TestClient, url: str = "/runs") -> str:
    response = client.get(url)
    assert response.status_code == 200
    return str(client.cookies.get("weaklab_csrf"))


def _item_ids(client: TestClient, n: int = 3) -> list[Any]:
    return client.app.state.dashboard.store.load_item_ids(1)[:n].tolist()


@pytest.fixture
def client(demo_store: Path):
    """A test client over a private demo store, with an annotator set (for tests that write)."""
    with _client(demo_store, annotator_default="ann") as c:
        yield c


@pytest.fixture(scope="module")
def ro(demo_store_template: Path, tmp_path_factory: pytest.TempPathFactory):
    """One test client shared by the tests that only read (its caches make them fast)."""
    import shutil

    target = tmp_path_factory.mktemp("ro") / ".weaklab"
    shutil.copytree(demo_store_template.parent, target)
    with _client(target / "weaklab.duckdb", annotator_default="ann") as c:
        yield c


PAGES = ["/runs", "/sources", "/sources?run=1", "/sources?sort=coverage&dir=desc", "/sources/kw_subscribe",
         "/label-model", "/health", "/issues", "/review", "/diff?a=1&b=2", "/runs?page=1"]


@pytest.mark.parametrize("url", PAGES)
def test_every_page_renders(ro: TestClient, url: str) -> None:
    """Every page answers 200 with HTML that loads only the app's own assets."""
    response = ro.get(url)
    assert response.status_code == 200, response.text[-500:]
    assert "text/html" in response.headers["content-type"]
    assert not re.search(r'(src|href)="(https?:)?//', response.text)


def test_home_redirects_and_static_assets(ro: TestClient) -> None:
    """The root redirects to the runs page and the two static assets are served with their types."""
    assert ro.get("/").headers["location"] == "/runs"
    assert ro.get("/static/app.js").headers["content-type"].startswith("text/javascript")
    assert ro.get("/static/style.css").status_code == 200


@pytest.mark.parametrize("url", ["/static/../app.py", "/static/%2e%2e%2fapp.py", "/static/..%2F..%2Fetc%2Fpasswd",
                                 "/static/state.py", "/items/..%2F..%2Fetc%2Fpasswd", "/sources/..%2Fweaklab.duckdb",
                                 "/api/items/..%2F..%2Fweaklab.duckdb"])
def test_path_traversal_is_a_404(ro: TestClient, url: str) -> None:
    """Paths that try to leave the app's assets or name files are plain 404s, never file contents."""
    response = ro.get(url)
    assert response.status_code == 404
    assert "import" not in response.text and "root:" not in response.text


def test_item_lineage_page_and_api(ro: TestClient) -> None:
    """An item's page shows its votes and final label; the API returns the same story as JSON."""
    item = _item_ids(ro, 1)[0]
    page = ro.get(f"/items/{item}")
    assert page.status_code == 200 and str(item) in page.text and "Final label" in page.text
    story = ro.get(f"/api/items/{item}?run=1").json()
    assert story["item_id"] == item and story["run_id"] == 1 and "votes" in story
    assert ro.get(f"/items?item_id={item}&run=2").headers["location"] == f"/items/{item}?run=2"


@pytest.mark.parametrize("url", ["/items/no-such-item", "/api/items/no-such-item", "/sources?run=999",
                                 "/sources/no_such_source", "/health?run=999", "/review?run=12345",
                                 "/diff?a=1&b=999", "/nowhere"])
def test_unknown_ids_are_404_with_a_message(ro: TestClient, url: str) -> None:
    """Unknown runs, items, sources and routes are 404s that say what was not found."""
    response = ro.get(url)
    assert response.status_code == 404
    assert "no " in response.text


@pytest.mark.parametrize("url", ["/sources?sort=bogus", "/sources?dir=up", "/runs?page=0", "/sources?run=abc",
                                 "/diff?a=1", "/runs?page=999999999999"])
def test_bad_parameters_are_4xx(ro: TestClient, url: str) -> None:
    """Malformed query parameters are refused with a 4xx and a message, never a 500."""
    response = ro.get(url)
    assert 400 <= response.status_code < 500
    assert response.text


def test_sources_sorting_orders_rows(ro: TestClient) -> None:
    """Sorting the sources by coverage descending returns non-increasing coverage."""
    rows = ro.get("/api/sources?sort=coverage&dir=desc").json()["rows"]
    values = [r["coverage"] for r in rows]
    assert len(values) == 12 and values == sorted(values, reverse=True)


def test_api_runs_lists_both_runs(ro: TestClient) -> None:
    """The runs API lists both recorded runs, newest first, with their label model."""
    runs = ro.get("/api/runs").json()["runs"]
    assert [r["run_id"] for r in runs] == [2, 1]
    assert runs[0]["label_model"] == "AutoLabelModel"


def test_review_answer_is_stored_with_name_and_time(client: TestClient, demo_store: Path) -> None:
    """Answering the review item records an annotation by the annotator, then the next item is offered."""
    page = client.get("/review")
    item = re.search(r'name="item_id" value="([^"]+)"', page.text).group(1)
    csrf = client.cookies.get("weaklab_csrf")
    response = client.post("/review/answer", data={"csrf": csrf, "run": "2", "item_id": item, "label": "1"})
    assert response.status_code == 303
    again = client.post("/review/answer", data={"csrf": csrf, "run": "2", "item_id": item, "label": "1"},
                        headers={"accept": "application/json"})
    assert again.json()["duplicate"] is True
    answers = client.app.state.dashboard.store.annotations(1)
    assert len(answers) == 1 and answers["annotator"].iloc[0] == "ann" and answers["label"].iloc[0] == 1
    assert str(answers["item_id"].iloc[0]) == item and answers["created_at"].notna().all()
    next_item = re.search(r'name="item_id" value="([^"]+)"', client.get("/review").text).group(1)
    assert next_item != item


def test_review_skip_is_recorded_and_the_item_leaves_the_queue(client: TestClient) -> None:
    """Skip records an annotation with no label (status 'skipped', not gold) and the queue moves on for everyone."""
    item = re.search(r'data-item="([^"]+)"', client.get("/review").text).group(1)
    csrf = client.cookies.get("weaklab_csrf")
    response = client.post("/review/skip", data={"csrf": csrf, "run": "2", "item_id": item})
    assert response.status_code == 303
    store = client.app.state.dashboard.store
    answers = store.annotations(1)
    assert answers[["annotator", "status", "origin"]].values.tolist() == [["ann", "skipped", "review"]]
    assert str(answers["item_id"].iloc[0]) == item and answers["label"].isna().all()
    assert re.search(r'data-item="([^"]+)"', client.get("/review").text).group(1) != item
    client.cookies.set("weaklab_annotator", "another")
    assert re.search(r'data-item="([^"]+)"', client.get("/review").text).group(1) != item
    labels = store.human_labels(1).set_index("item_id")
    assert labels.loc[answers["item_id"].iloc[0], "status"] == "skipped"


def test_two_annotators_never_share_an_item(demo_store: Path) -> None:
    """Two reviewers at once are handed different items, and each keeps theirs on reload."""
    app = create_app(demo_store)
    with TestClient(app, base_url="http://127.0.0.1") as a, TestClient(app, base_url="http://127.0.0.1") as b:
        items = []
        for client, name in ((a, "alice"), (b, "bob")):
            csrf = _csrf(client)
            client.post("/review/annotator", data={"csrf": csrf, "run": "2", "annotator": name})
            items.append(re.search(r'data-item="([^"]+)"', client.get("/review?run=2").text).group(1))
        assert items[0] != items[1]
        assert re.search(r'data-item="([^"]+)"', a.get("/review?run=2").text).group(1) == items[0]


@pytest.mark.parametrize("label,item", [("7", None), ("-1", None), ("x", None), ("1", "no-such-item")])
def test_bad_answers_are_refused(ro: TestClient, label: str, item: str | None) -> None:
    """An unknown label or item id is a 4xx with a message, and nothing is written."""
    csrf = _csrf(ro)
    item = item or str(_item_ids(ro, 1)[0])
    response = ro.post("/review/answer", data={"csrf": csrf, "run": "2", "item_id": item, "label": label})
    assert response.status_code in (400, 404) and ("label" in response.text or "item" in response.text)
    assert len(ro.app.state.dashboard.store.annotations(1)) == 0


def test_answer_needs_an_annotator(demo_store: Path) -> None:
    """Without an annotator name the review page asks for one and answers are refused."""
    with _client(demo_store) as client:
        assert 'id="annotator-form"' in client.get("/review").text
        csrf = client.cookies.get("weaklab_csrf")
        item = str(_item_ids(client, 1)[0])
        response = client.post("/review/answer", data={"csrf": csrf, "run": "2", "item_id": item, "label": "0"})
        assert response.status_code == 400
        bad = client.post("/review/annotator", data={"csrf": csrf, "run": "2", "annotator": "<script>"})
        assert bad.status_code == 400


def test_accept_and_reject_label_issues(client: TestClient) -> None:
    """Accepting an issue records a correction by the annotator; rejecting records the decision only."""
    csrf = _csrf(client, "/issues")
    store = client.app.state.dashboard.store
    issues = store.label_issues(2, limit=2)
    first, second = (int(i) for i in issues["issue_id"])
    ok = client.post(f"/issues/{first}/resolve", data={"csrf": csrf, "decision": "accept", "run": "2",
                                                       "why": "obvious spam"})
    assert ok.status_code == 303
    client.post(f"/issues/{second}/resolve", data={"csrf": csrf, "decision": "reject", "run": "2"})
    corrections = store.corrections(2)
    assert len(corrections) == 1 and corrections["who"].iloc[0] == "ann"
    assert corrections["why"].iloc[0] == "obvious spam"
    assert list(store.label_issues(2, limit=2)["status"]) == ["accepted", "rejected"]
    assert "accepted (ann)" in client.get("/issues").text


@pytest.mark.parametrize("issue,decision,status", [(999_999, "accept", 404), (1, "maybe", 400)])
def test_bad_issue_decisions(ro: TestClient, issue: int, decision: str, status: int) -> None:
    """An unknown issue is a 404 and an unknown decision a 400."""
    csrf = _csrf(ro)
    response = ro.post(f"/issues/{issue}/resolve", data={"csrf": csrf, "decision": decision, "run": "2"})
    assert response.status_code == status


def test_posts_need_the_csrf_token(client: TestClient, demo_store: Path) -> None:
    """A POST without, or with a wrong, CSRF token is refused with 403 and writes nothing."""
    _csrf(client)
    item = str(_item_ids(client, 1)[0])
    data = {"run": "2", "item_id": item, "label": "1"}
    assert client.post("/review/answer", data=data).status_code == 403
    assert client.post("/review/answer", data={**data, "csrf": "forged"}).status_code == 403
    assert client.post("/issues/1/resolve", data={"decision": "accept", "run": "2"}).status_code == 403
    header = client.post("/review/answer", data=data, headers={"x-csrf-token": client.cookies["weaklab_csrf"]})
    assert header.status_code == 303
    assert len(client.app.state.dashboard.store.annotations(1)) == 1


def test_state_changes_need_post(ro: TestClient) -> None:
    """The write routes do not accept GET."""
    assert ro.get("/review/answer").status_code in (404, 405)
    assert ro.get("/issues/1/resolve").status_code in (404, 405)


def test_token_is_required_when_set(demo_store: Path) -> None:
    """With a token, requests without it are 401; the header works; ?token= sets a cookie and redirects."""
    with _client(demo_store, token=TOKEN) as client:
        assert client.get("/runs").status_code == 401
        assert client.get("/static/app.js").status_code == 401
        assert client.get("/runs", headers={"x-weaklab-token": "wrong-token"}).status_code == 401
        assert client.get("/runs", headers={"x-weaklab-token": TOKEN}).status_code == 200
        assert client.get("/runs", headers={"authorization": f"Bearer {TOKEN}"}).status_code == 200
        login = client.get(f"/sources?token={TOKEN}&run=1")
        assert login.status_code == 303 and login.headers["location"] == "/sources?run=1"
        assert client.get("/sources?run=1").status_code == 200


def test_wrong_token_login_is_refused(demo_store: Path) -> None:
    """A ?token= visit with the wrong token does not log in."""
    with _client(demo_store, token=TOKEN) as client:
        assert client.get("/runs?token=not-the-token").status_code == 401
        assert "weaklab_token" not in client.cookies


def test_create_app_refuses_a_missing_store_and_short_token(tmp_path: Path, demo_store: Path) -> None:
    """A missing store file and a too-short token are ValidationErrors; no store is created."""
    from weaklab.errors import ValidationError

    with pytest.raises(ValidationError, match="no weaklab store"):
        create_app(tmp_path / "missing.duckdb")
    assert not (tmp_path / "missing.duckdb").exists()
    with pytest.raises(ValidationError, match="token"):
        create_app(demo_store, token="short")


def test_serve_refuses_public_host_without_token() -> None:
    """`weaklab serve --host 0.0.0.0` without a token exits with a message; loopback needs none."""
    from click.testing import CliRunner

    from weaklab.cli import main
    from weaklab.cli.serve import check_binding

    result = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0"], env={"WEAKLAB_TOKEN": ""})
    assert result.exit_code == 1 and "--token" in result.output
    check_binding("127.0.0.1", None)
    check_binding("::1", None)
    check_binding("0.0.0.0", "a-long-token")


def test_importing_weaklab_does_not_import_fastapi() -> None:
    """`import weaklab` and `import weaklab.cli` leave fastapi unimported."""
    import subprocess
    import sys

    code = "import sys, weaklab, weaklab.cli; print('fastapi' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_issues_page_of_a_run_without_an_issues_step_says_what_to_run(ro: TestClient) -> None:
    """A run that never went through the issues step gets a sentence pointing to `weaklab issues`, not a raw error."""
    store = ro.app.state.dashboard.store
    without = [int(r) for r in store.runs()["run_id"]
               if not (store.run_records(int(r))["soft_labels"]["role"] == "issues_judge").any()]
    assert without, "the demo store should hold a run without the issues step"
    text = ro.get(f"/issues?run={without[0]}").text
    assert "has not been through the issues step yet" in text and "weaklab issues" in text
    assert "run_id: expected" not in text
