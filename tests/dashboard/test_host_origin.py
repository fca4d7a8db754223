"""DNS rebinding and cross-site posts: without a token only loopback Host names are served, and a POST
whose Origin is another site's is refused even with a valid CSRF token."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

from weaklab.dashboard import create_app

TOKEN = "s3cret-token-for-tests"


@pytest.fixture
def app(demo_store: Path):
    return create_app(demo_store, annotator_default="ann")


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8765", "192.168.1.5:8765", "testserver", ""])
def test_tokenless_dashboard_refuses_other_host_names(app, host):
    """A rebound name (or no Host) gets 403 and no data."""
    with TestClient(app, base_url="http://127.0.0.1") as client:
        response = client.get("/runs", headers={"host": host})
    assert response.status_code == 403
    assert "run" not in response.text.lower().split("403")[0]
    assert "localhost" in response.text


@pytest.mark.parametrize("host", ["127.0.0.1:8765", "localhost:8765", "localhost", "[::1]:8765", "127.0.0.2"])
def test_tokenless_dashboard_serves_loopback_names(app, host):
    """Loopback names, with or without a port, are served."""
    with TestClient(app, base_url="http://127.0.0.1") as client:
        assert client.get("/runs", headers={"host": host}).status_code == 200


def test_with_a_token_other_host_names_are_served_to_token_holders(demo_store):
    """With --token the dashboard may be reached by name; the token still gates every request."""
    with TestClient(create_app(demo_store, token=TOKEN), base_url="http://weaklab.internal") as client:
        assert client.get("/runs").status_code == 401
        assert client.get("/runs", headers={"x-weaklab-token": TOKEN}).status_code == 200


def _post_answer(client, origin):
    client.get("/review")
    csrf = client.cookies.get("weaklab_csrf")
    item = client.app.state.dashboard.store.load_item_ids(1)[0]
    headers = {"origin": origin} if origin is not None else {}
    return client.post("/review/answer", data={"csrf": csrf, "run": 2, "item_id": str(item), "label": 1},
                       headers=headers)


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.1:9999", "https://127.0.0.1"])
def test_post_from_another_origin_is_refused(app, origin):
    """Another origin (even with the right CSRF cookie and field) cannot write: 403, no answer stored."""
    with TestClient(app, base_url="http://127.0.0.1", follow_redirects=False) as client:
        before = len(client.app.state.dashboard.store.annotations(1))
        response = _post_answer(client, origin)
        assert response.status_code == 403 and "Origin" in response.text
        assert len(client.app.state.dashboard.store.annotations(1)) == before


@pytest.mark.parametrize("origin", ["http://127.0.0.1", None])
def test_post_from_the_same_origin_or_without_origin_is_accepted(app, origin):
    """The dashboard's own pages (same Origin) and non-browser clients (no Origin, CSRF token) can write."""
    with TestClient(app, base_url="http://127.0.0.1", follow_redirects=False) as client:
        before = len(client.app.state.dashboard.store.annotations(1))
        assert _post_answer(client, origin).status_code == 303
        assert len(client.app.state.dashboard.store.annotations(1)) == before + 1
