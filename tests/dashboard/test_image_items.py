"""Image items on the dashboard: the review queue and the item page show the item's picture, served as a
cached PNG thumbnail; a text project shows no picture; an unknown item or a lost picture is a 404."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from weaklab.dashboard import create_app
from weaklab.pipeline import Project


@pytest.fixture
def image_client(image_project):
    Project(image_project).run("fit")
    app = create_app(image_project / ".weaklab" / "weaklab.duckdb", annotator_default="ann")
    with TestClient(app, follow_redirects=False, base_url="http://127.0.0.1") as client:
        yield client, image_project


def _thumbnail_url(html: str) -> str:
    match = re.search(r'<img id="item-image" src="([^"]+)"', html)
    assert match, "no picture on the page"
    return match.group(1).replace("&amp;", "&")


def test_the_review_queue_shows_the_items_picture(image_client):
    """The claimed item is shown as its picture (a PNG thumbnail) with its caption under it."""
    client, _ = image_client
    page = client.get("/review")
    assert page.status_code == 200
    item = re.search(r'id="review-item" data-item="([^"]+)"', page.text).group(1)
    url = _thumbnail_url(page.text)
    assert url.startswith(f"/thumbnails/{item}?run=")
    picture = client.get(url)
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
    assert picture.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_item_page_and_api_show_the_picture(image_client):
    """The lineage page shows the picture and its path; the JSON API names the image column and path."""
    client, _ = image_client
    page = client.get("/items/img4")
    assert page.status_code == 200 and "pics/b4.png" in page.text
    assert client.get(_thumbnail_url(page.text)).status_code == 200
    story = client.get("/api/items/img4").json()
    cam = story["image"].pop("cam")
    assert story["image"] == {"column": "picture", "ref": "pics/b4.png", "missing": None}
    assert cam["available"] is False and "trained no end model" in cam["reason"]


def test_a_lost_picture_or_unknown_item_is_a_404(image_client):
    """A deleted picture file and an item the run does not have both answer 404 with a message."""
    client, root = image_client
    (root / "data" / "pics" / "b6.png").unlink()
    lost = client.get("/thumbnails/img6")
    assert lost.status_code == 404 and "img6" in lost.text
    assert client.get("/thumbnails/nobody").status_code == 404


def test_a_text_project_shows_no_picture(demo_store):
    """The spam demo (no image column) keeps its text quote and serves no thumbnails."""
    with TestClient(create_app(demo_store, annotator_default="ann"), base_url="http://127.0.0.1") as client:
        page = client.get("/review")
        assert page.status_code == 200 and 'id="item-image"' not in page.text and 'id="item-text"' in page.text
        item = re.search(r'data-item="([^"]+)"', page.text).group(1)
        assert client.get(f"/thumbnails/{item}").status_code == 404


@pytest.fixture
def cnn_client(cnn_image_project):
    Project(cnn_image_project).run("train")
    app = create_app(cnn_image_project / ".weaklab" / "weaklab.duckdb", annotator_default="ann")
    with TestClient(app, follow_redirects=False, base_url="http://127.0.0.1") as client:
        yield client, cnn_image_project


def test_the_cam_overlay_is_served_and_offered_on_the_review_and_item_pages(cnn_client):
    """With the image end model the review page offers a keyboard-accessible CAM toggle, /cams/<item> serves a
    PNG that is not the plain thumbnail, and the lineage page and its API show the map."""
    client, _ = cnn_client
    page = client.get("/review")
    item = re.search(r'id="review-item" data-item="([^"]+)"', page.text).group(1)
    toggle = re.search(r'<button type="button" id="cam-toggle" aria-pressed="false"[^>]*data-cam="([^"]+)"', page.text)
    assert toggle and toggle.group(1).replace("&amp;", "&").startswith(f"/cams/{item}?run=")
    overlay = client.get(toggle.group(1).replace("&amp;", "&"))
    assert overlay.status_code == 200 and overlay.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert overlay.content != client.get(_thumbnail_url(page.text)).content
    lineage = client.get("/items/img4")
    cam = re.search(r'<img id="item-cam" src="([^"]+)"', lineage.text)
    assert cam and client.get(cam.group(1).replace("&amp;", "&")).status_code == 200
    assert client.get("/api/items/img4").json()["image"]["cam"] == {"available": True, "reason": None,
                                                                    "classes": "predicted"}


def test_a_run_without_an_end_model_means_a_404_with_the_reason(image_client):
    """A fit-only run (no end model) answers /cams/<item> with 404 naming the cause; the pages say why."""
    client, _ = image_client
    missing = client.get("/cams/img4")
    assert missing.status_code == 404 and "trained no end model" in missing.text
    assert 'id="cam-toggle"' not in client.get("/review").text
    lineage = client.get("/items/img4")
    assert 'id="item-cam"' not in lineage.text and "trained no end model" in lineage.text
    assert client.get("/cams/nobody").status_code == 404
