"""The dashboard in a real browser: Playwright driving Debian's Chromium against uvicorn on loopback.

Skipped (with the reason) when /usr/bin/chromium or playwright is missing, except in CI
(``CI`` set to ``true`` or ``1``) or under ``WEAKLAB_REQUIRE_BROWSER=1`` (set by ``.ci/run``, which
fails when it cannot install Chromium): there a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
#: How long one browser action may wait (ms): generous, because the suite often shares 2 cores with other work
#: (a 15 s limit timed out under load averages above 30); on an idle machine every action takes well under a second.
ACTION_TIMEOUT_MS = 45_000
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]


def _require_browser() -> Any:
    reason = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason, sync_playwright = "playwright is not installed (pip install playwright)", None
    if reason is None and not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install -y chromium)"
    if reason is not None:
        if os.environ.get("WEAKLAB_REQUIRE_BROWSER") == "1" or os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(f"browser tests required (CI or WEAKLAB_REQUIRE_BROWSER=1) but {reason}")
        pytest.skip(reason)
    return sync_playwright


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(demo_store_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    """The dashboard on a private store copy, served by uvicorn in a background thread on a free port."""
    target = tmp_path_factory.mktemp("browser") / ".weaklab"
    shutil.copytree(demo_store_template.parent, target)
    yield from _serve(target / "weaklab.duckdb")


@pytest.fixture(scope="module")
def image_server(image_project_factory: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    """The dashboard over a small image project (bar pictures with captions) with the image CNN as its end
    model, run up to ``train`` (so items have class activation maps)."""
    from weaklab.pipeline import Project

    pytest.importorskip("torch", reason="the cnn end model needs the [vision] extra (torch)")
    root = image_project_factory(tmp_path_factory.mktemp("browser_images") / "bars", cnn=True)
    Project(root).run("train")
    yield from _serve(root / ".weaklab" / "weaklab.duckdb")


@pytest.fixture(scope="module")
def dask_server(dask_store_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    """The dashboard over a copy of a run on the Dask engine (votes and soft labels stay in their partitions)."""
    target = tmp_path_factory.mktemp("browser_dask") / ".weaklab"
    shutil.copytree(dask_store_template.parent, target, ignore=shutil.ignore_patterns("partitions"))
    yield from _serve(target / "weaklab.duckdb")


@pytest.fixture(scope="module")
def tagging_server(tagging_store_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    """The dashboard over a private copy of the tagging example's store (run up to fit)."""
    target = tmp_path_factory.mktemp("browser_tagging") / ".weaklab"
    shutil.copytree(tagging_store_template.parent, target)
    yield from _serve(target / "weaklab.duckdb")


@pytest.fixture(scope="module")
def multilabel_server(ticket_project: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    """The dashboard over a multi-label project of one's own (support tickets, own column and label names), run
    through fit, train and issues."""
    from weaklab.pipeline import Project

    root = ticket_project(tmp_path_factory.mktemp("browser_multilabel") / "tickets", n_items=160)
    Project(root).run("fit")
    Project(root).run("issues")
    yield from _serve(root / ".weaklab" / "weaklab.duckdb")


def _serve(store: Path) -> Iterator[tuple[str, Any]]:
    import uvicorn

    from weaklab.dashboard import create_app

    app = create_app(store)
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}", app
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(server: tuple[str, Any]) -> Iterator[Any]:
    """Headless Chromium (Debian's) with networking extras off."""
    sync_playwright = _require_browser()
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, tmp_path: Path) -> Iterator[Any]:
    """A fresh browser context (own cookies), with page errors collected."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.errors = []
    tab.on("pageerror", lambda exc: tab.errors.append(str(exc)))
    tab.set_default_timeout(ACTION_TIMEOUT_MS)
    yield tab
    context.close()


PAGES = [("/runs", "Runs"), ("/sources", "Sources of run"), ("/sources/kw_subscribe", "Source"),
         ("/label-model", "Label model of run"), ("/health", "Model health of run"),
         ("/issues", "Label issues of run"), ("/review", "Review queue of run"), ("/diff?a=1&b=2", "Run 1")]


def test_every_page_loads(server: tuple[str, Any], page: Any, tmp_path: Path) -> None:
    """Every page loads in Chromium with its heading, no script errors and only same-origin requests."""
    base, _ = server
    requested: list[str] = []
    page.on("request", lambda req: requested.append(req.url))
    for path, heading in PAGES:
        response = page.goto(base + path)
        assert response is not None and response.status == 200, path
        assert heading in page.locator("h1").inner_text()
        if path in ("/sources", "/label-model", "/health"):
            assert page.locator("main svg").count() > 0, f"{path} draws no chart"
        page.screenshot(path=str(tmp_path / f"{path.strip('/').replace('/', '_').split('?')[0] or 'home'}.png"))
    assert page.errors == []
    assert all(url.startswith(base) for url in requested)


MULTILABEL_PAGES = [("/sources", "Sources of run 2, per label"), ("/sources/thanks_means_urgent", "Source"),
                    ("/health", "Model health of run"), ("/issues", "Label issues of run"),
                    ("/label-model", "Label model of run")]


def test_multilabel_pages_load_and_sort(multilabel_server: tuple[str, Any], browser: Any, tmp_path: Path) -> None:
    """A multilabel run's sources, source, health, issues and label-model pages load in Chromium with charts, no
    script errors and only same-origin requests; clicking est_accuracy sorts the (source, label) rows."""
    base, _ = multilabel_server
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(ACTION_TIMEOUT_MS)
    errors: list[str] = []
    requested: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("request", lambda req: requested.append(req.url))
    try:
        for path, heading in MULTILABEL_PAGES:
            response = tab.goto(base + path)
            assert response is not None and response.status == 200, path
            assert heading in tab.locator("h1").inner_text()
            if path in ("/sources", "/health"):
                assert tab.locator("main svg").count() > 0, f"{path} draws no chart"
            if path == "/issues":
                assert tab.locator("#label-issues-table tbody tr").count() > 0
            tab.screenshot(path=str(tmp_path / f"ml_{path.strip('/').replace('/', '_')}.png"))
        tab.goto(base + "/sources")
        tab.click("#label-sources-table th[data-column=est_accuracy] a")
        header = tab.locator("#label-sources-table thead th").all_inner_texts()
        col = next(i for i, t in enumerate(header) if t.strip().startswith("est_accuracy"))
        cells = tab.locator(f"#label-sources-table tbody tr td:nth-child({col + 1})").all_inner_texts()
        values = [float(c) for c in cells if c.strip() not in ("", "-")]
        assert len(values) >= 2 and values == sorted(values)
        assert errors == [] and all(url.startswith(base) for url in requested)
    finally:
        context.close()


def test_sort_sources_table(server: tuple[str, Any], page: Any, tmp_path: Path) -> None:
    """Clicking the coverage header sorts the sources ascending, clicking again descending."""
    base, _ = server
    page.goto(base + "/sources")

    def coverage() -> list[float]:
        index = page.locator("#sources-table thead th").all_inner_texts()
        col = next(i for i, t in enumerate(index) if t.strip().startswith("coverage"))
        cells = page.locator(f"#sources-table tbody tr td:nth-child({col + 1})").all_inner_texts()
        return [float(c) for c in cells]

    page.click("#sources-table th[data-column=coverage] a")
    ascending = coverage()
    assert ascending == sorted(ascending) and len(ascending) == 12
    page.click("#sources-table th[data-column=coverage] a")
    assert coverage() == sorted(ascending, reverse=True)
    page.screenshot(path=str(tmp_path / "sources_sorted.png"))


def test_answer_three_review_items_with_the_keyboard(server: tuple[str, Any], page: Any, tmp_path: Path) -> None:
    """A reviewer answers three items with 1, 2 and arrow+Enter; the store holds the three answers."""
    base, app = server
    page.goto(base + "/review")
    page.fill("#annotator", "kbd-reviewer")
    page.click("#annotator-form button")
    seen = []
    for keys, label in ((["1"], 0), (["2"], 1), (["ArrowRight", "ArrowRight", "Enter"], 1)):
        item = page.locator("#review-item").get_attribute("data-item")
        seen.append((item, label))
        with page.expect_navigation():
            for key in keys:
                page.keyboard.press(key)
    page.screenshot(path=str(tmp_path / "review.png"))
    answers = app.state.dashboard.store.annotations(1, annotator="kbd-reviewer")
    assert [(str(i), int(v)) for i, v in zip(answers["item_id"], answers["label"])] == seen
    assert len({i for i, _ in seen}) == 3
    assert page.errors == []


def _wait_decoded(page: Any, picture: Any) -> None:
    """Wait until the browser has loaded and decoded the picture (a thumbnail may take a while under load)."""
    page.wait_for_function("el => el.complete && el.naturalWidth > 0", arg=picture.element_handle())


def test_review_an_image_item_and_open_its_lineage(image_server: tuple[str, Any], browser: Any,
                                                  tmp_path: Path) -> None:
    """In an image project the reviewer sees each item's picture (decoded by the browser), turns its CAM
    overlay on and off with the keyboard, answers two with the keyboard, and the item's lineage page shows
    the same picture and its class activation map."""
    base, app = image_server
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    page.goto(base + "/review")
    page.fill("#annotator", "picture-reviewer")
    page.click("#annotator-form button")
    seen = []
    for key, label in (("1", 0), ("2", 1)):
        item = page.locator("#review-item").get_attribute("data-item")
        picture = page.locator("#item-image")
        picture.wait_for()
        _wait_decoded(page, picture)
        if not seen:  # the CAM overlay: "c" shows it (aria-pressed), "c" again hides it
            toggle = page.locator("#cam-toggle")
            assert toggle.get_attribute("aria-pressed") == "false"
            page.keyboard.press("c")
            page.wait_for_function("() => document.getElementById('item-image').src.includes('/cams/')")
            _wait_decoded(page, picture)
            assert toggle.get_attribute("aria-pressed") == "true" and "Hide" in toggle.inner_text()
            page.screenshot(path=str(tmp_path / "review_cam.png"))
            page.keyboard.press("c")
            page.wait_for_function("() => document.getElementById('item-image').src.includes('/thumbnails/')")
            assert toggle.get_attribute("aria-pressed") == "false"
        seen.append((item, label))
        with page.expect_navigation():
            page.keyboard.press(key)
    page.screenshot(path=str(tmp_path / "review_image.png"))
    answers = app.state.dashboard.store.annotations(1, annotator="picture-reviewer")
    assert [(str(i), int(v)) for i, v in zip(answers["item_id"], answers["label"])] == seen
    page.goto(f"{base}/items/{seen[0][0]}")
    picture = page.locator("#item-image")
    picture.wait_for()
    _wait_decoded(page, picture)
    cam = page.locator("#item-cam")
    cam.wait_for()
    _wait_decoded(page, cam)
    assert "picture-reviewer" in page.locator("#lineage-answers").inner_text()
    assert errors == []
    context.close()


def test_accept_a_correction_and_open_lineage(server: tuple[str, Any], page: Any, tmp_path: Path) -> None:
    """Accepting the top label issue records a correction, which the item's lineage page then shows."""
    base, app = server
    page.goto(base + "/issues")
    row = page.locator("#issues-table tbody tr").first
    issue_id = int(row.get_attribute("data-issue"))
    item = row.locator("td:nth-child(2) a").inner_text()
    row.locator("input[name=why]").fill("browser test")
    with page.expect_navigation():
        row.locator("button.accept").click()
    assert "accepted" in page.locator(f"tr[data-issue='{issue_id}'] td.status").inner_text()
    corrections = app.state.dashboard.store.corrections(2)
    assert list(corrections["issue_id"]) == [issue_id] and corrections["why"].iloc[0] == "browser test"
    page.locator(f"tr[data-issue='{issue_id}'] td:nth-child(2) a").click()
    page.wait_for_selector("#item-id")
    assert page.locator("#item-id").inner_text() == item
    assert "browser test" in page.locator("#lineage-corrections").inner_text()
    assert "correction" in page.locator("#final").inner_text()
    page.screenshot(path=str(tmp_path / "lineage.png"))


def test_pages_fit_a_1280_px_window_and_show_plain_text(server: tuple[str, Any], page: Any, tmp_path: Path) -> None:
    """At 1280 px no page scrolls sideways, the issues' accept/reject controls are on screen, and comments
    read as text ("I'm", not "I&#39;m")."""
    base, _ = server
    for path, _ in PAGES:
        page.goto(base + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1280, f"{path} is {width} px wide"
    page.goto(base + "/issues")
    for button in ("button.accept", "button.reject"):
        box = page.locator(button).first.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 1280, button
    page.screenshot(path=str(tmp_path / "issues_1280.png"))
    texts = " ".join(page.locator("#issues-table tbody td:nth-child(3)").all_inner_texts())
    assert texts and "&#39;" not in texts and "&amp;" not in texts and "&quot;" not in texts


def test_review_a_dask_run_item_and_open_its_lineage(dask_server: tuple[str, Any], browser: Any) -> None:
    """On a run on the Dask engine the review queue shows an item's text (read from its partition of the data);
    answering it with the keyboard records the answer, which the item's lineage page then lists."""
    base, app = dask_server
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    page.goto(base + "/review?run=1")
    page.fill("#annotator", "dask-reviewer")
    page.click("#annotator-form button")
    item = page.locator("#review-item").get_attribute("data-item")
    assert "(no text recorded" not in page.locator("#item-text").inner_text()
    with page.expect_navigation():
        page.keyboard.press("2")
    answers = app.state.dashboard.store.annotations(1, annotator="dask-reviewer")
    assert [(str(i), int(v)) for i, v in zip(answers["item_id"], answers["label"])] == [(item, 1)]
    page.goto(f"{base}/items/{item}?run=1")
    assert "dask-reviewer" in page.locator("#lineage-answers").inner_text()
    assert errors == []
    context.close()


def _expected_after_keys(proposed: list[list[Any]], types: list[str]) -> tuple[list[list[Any]], list[str]]:
    """What the keys of test_review_spans_with_the_keyboard leave: reject span 1, add tokens 0-1 as type 1."""
    added = [0, 2, types[0]]
    decisions = ["rejected"] + ["accepted"] * (len(proposed) - 1)
    kept = []
    for i, p in enumerate(proposed[1:], start=1):
        if p[0] < 2:  # overlaps the added span: rejected by it
            decisions[i] = "rejected"
        else:
            kept.append(p)
    return sorted([added, *kept]), decisions


def test_review_spans_with_the_keyboard(tagging_server: tuple[str, Any], browser: Any, tmp_path: Path) -> None:
    """In a tagging run the review page highlights the proposed spans; a reviewer rejects one (r), adds one
    (n, Shift+Right, 1), accepts the rest and saves (Enter); the store holds the spans, decisions and the
    proposal seen, and the next item follows; s skips it."""
    base, app = tagging_server
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    page.goto(base + "/review")
    page.fill("#annotator", "span-reviewer")
    page.click("#annotator-form button")
    store = app.state.dashboard.store
    item = None
    for _ in range(10):  # the first item (least certain first) with at least one proposed span
        item = page.locator("#span-review").get_attribute("data-item")
        story = store.explain(item, 1)
        if story["proposed"]["spans"]:
            break
        with page.expect_navigation():
            page.keyboard.press("s")
    proposed = [[p["start"], p["end"], p["type"]] for p in story["proposed"]["spans"]]
    assert proposed, "no item with a proposed span among the first ten"
    first = proposed[0]
    marked = page.locator("#span-tokens .tok.in")
    assert marked.count() == sum(e - s for s, e, _ in proposed)
    assert page.locator("#span-tokens .tok.focus").count() == first[1] - first[0]
    assert page.locator("#span-list li").count() == len(proposed)
    page.keyboard.press("r")
    assert page.locator("#span-list li").first.get_attribute("data-status") == "rejected"
    page.keyboard.press("Home")  # not a key of the page: nothing changes
    page.keyboard.press("n")
    # "n" starts a new span after the chosen one; move the cursor to token 0 and widen to token 1
    for _ in range(len(story["tokens"])):
        page.keyboard.press("ArrowLeft")
    page.keyboard.press("Shift+ArrowRight")
    assert page.locator("#span-tokens .tok.sel").count() == 2
    page.keyboard.press("1")
    page.screenshot(path=str(tmp_path / "review_spans.png"))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    answers = store.span_answers(1, item_id=item)
    spans, decisions = _expected_after_keys(proposed, story["entity_types"])
    assert answers["annotator"].tolist() == ["span-reviewer"]
    assert answers["spans"].iloc[0] == spans
    assert [d["decision"] for d in answers["decisions"].iloc[0]] == decisions
    assert int(answers["span_set_id"].iloc[0]) == story["proposed"]["span_set_id"]
    following = page.locator("#span-review").get_attribute("data-item")
    assert following != item
    with page.expect_navigation():
        page.keyboard.press("s")
    assert store.span_answers(1, item_id=following)["status"].tolist()[-1] == "skipped"
    page.goto(f"{base}/items/{item}")
    assert "span-reviewer" in page.locator("#lineage-answers").inner_text()
    assert errors == []
    context.close()


def _expected_after_fix(proposed: list[list[Any]], types: list[str], n_tokens: int) -> tuple[list[list[Any]], list]:
    """What the keys of test_fix_a_proposed_span_with_the_keyboard leave: span 1 widened by one token to the
    right (when the item has one more) and given the next type; proposed spans it now overlaps are rejected."""
    s, e, t = proposed[0]
    fixed = [s, min(e + 1, n_tokens), types[(types.index(t) + 1) % len(types)]]
    decisions: list[tuple[str, Any]] = [("fixed", fixed)]
    kept = [fixed]
    for p in proposed[1:]:
        if p[0] < fixed[1]:
            decisions.append(("rejected", None))
        else:
            decisions.append(("accepted", None))
            kept.append(p)
    return sorted(kept), decisions


def test_fix_a_proposed_span_with_the_keyboard(tagging_server: tuple[str, Any], browser: Any) -> None:
    """A reviewer fixes a proposed span with f: Esc first cancels without a change; then f, Shift+Right widens
    it by a token and a type number gives it another type; the list shows it fixed with what it was, and
    Enter stores it as "fixed" with the new span (``fixed_to``) beside the proposal."""
    base, app = tagging_server
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    page.goto(base + "/review")
    page.fill("#annotator", "span-fixer")
    page.click("#annotator-form button")
    store = app.state.dashboard.store
    for _ in range(10):  # the first item left in the queue with at least one proposed span
        item = page.locator("#span-review").get_attribute("data-item")
        story = store.explain(item, 1)
        if story["proposed"]["spans"]:
            break
        with page.expect_navigation():
            page.keyboard.press("s")
    proposed = [[p["start"], p["end"], p["type"]] for p in story["proposed"]["spans"]]
    assert proposed, "no item with a proposed span among the first ten"
    types = story["entity_types"]
    assert len(types) >= 2, "the tagging example has two entity types"
    page.keyboard.press("f")
    assert page.locator("#span-tokens .tok.sel").count() == proposed[0][1] - proposed[0][0]
    assert "Choosing tokens" in page.locator("#span-mode").inner_text()
    page.keyboard.press("Escape")
    assert page.locator("#span-tokens .tok.sel").count() == 0
    assert page.locator("#span-list li").first.get_attribute("data-status") == "proposed"
    page.keyboard.press("f")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press(str((types.index(proposed[0][2]) + 1) % len(types) + 1))
    spans, decisions = _expected_after_fix(proposed, types, len(story["tokens"]))
    first = page.locator("#span-list li").first
    assert first.get_attribute("data-status") == "fixed"
    assert [int(first.get_attribute("data-start")), int(first.get_attribute("data-end")),
            first.get_attribute("data-type")] == decisions[0][1]
    assert "(was: " in first.inner_text()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    answers = store.span_answers(1, item_id=item)
    assert answers["annotator"].tolist() == ["span-fixer"]
    assert answers["spans"].iloc[0] == spans
    stored = answers["decisions"].iloc[0]
    assert [(d["decision"], d.get("fixed_to")) for d in stored] == decisions
    assert [d["span"] for d in stored] == proposed
    assert errors == []
    context.close()
