"""The page registry: every module of weaklab.dashboard.pages is a page with routes and a navigation entry."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")

from weaklab.dashboard.page import Nav
from weaklab.dashboard.pages import page_modules


def test_every_page_module_has_routes_and_a_nav_entry():
    modules = page_modules()
    names = {m.__name__.rsplit(".", 1)[-1] for m in modules}
    assert {"runs", "sources", "label_model", "health", "issues", "review", "items"} <= names
    for module in modules:
        assert callable(module.routes), module.__name__
        assert module.NAV is None or isinstance(module.NAV, Nav), module.__name__


def test_navigation_order_is_the_bar_order():
    links = [m.NAV for m in page_modules() if m.NAV is not None]
    assert [n.key for n in links] == ["runs", "sources", "label-model", "health", "issues", "review"]
    assert len({n.order for n in links}) == len(links)
