"""The documentation site builds offline and strictly: a broken link, anchor or API reference fails the build.

Runs ``mkdocs build --strict`` on the repository's ``mkdocs.yml`` into a temporary folder, so a page
that names a moved or renamed public object, or links to a page that does not exist, fails here
instead of on the published site. Also checks the rule that nothing in the README or the docs points
outside the repository (no ``../`` links that a user's clone would not have).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]

pytest.importorskip("mkdocs", reason="the [docs] extra is not installed")
pytest.importorskip("mkdocstrings", reason="the [docs] extra is not installed")


@pytest.mark.slow
def test_the_site_builds_strictly_offline(tmp_path: Path) -> None:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(ROOT / "mkdocs.yml"),
         "--site-dir", str(tmp_path / "site")],
        capture_output=True, text=True, check=False, cwd=ROOT, env=env, timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    pages = {p.relative_to(tmp_path / "site").as_posix() for p in (tmp_path / "site").rglob("index.html")}
    assert "index.html" in pages and "reference/models/index.html" in pages, sorted(pages)
    built = (tmp_path / "site" / "reference" / "models" / "index.html").read_text(encoding="utf-8")
    assert 'id="weaklab.models.DawidSkene"' in built, "the API reference did not render DawidSkene"
    examples = (tmp_path / "site" / "examples" / "index.html").read_text(encoding="utf-8")
    assert "load_youtube_spam" in examples and "--8&lt;" not in examples, "examples/ scripts not included"
    assert "fonts.googleapis" not in (tmp_path / "site" / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("path", DOC_FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_doc_points_outside_the_repository(path: Path) -> None:
    """Every link resolves to a file of the repository; no web links, no files a user's clone lacks."""
    text = path.read_text(encoding="utf-8")
    assert "shared/DESIGN" not in text, f"{path.name} sends readers to the design file outside the repository"
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        assert "://" not in target, f"{path.name} links outside the repository: {target}"
        if target.startswith("#"):
            continue
        resolved = (path.parent / target.split("#", 1)[0]).resolve()
        assert resolved.is_relative_to(ROOT) and resolved.exists(), f"{path.name}: broken or outside link {target}"


def test_every_docs_page_is_in_the_navigation() -> None:
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    listed = set(re.findall(r":\s*(\S+\.md)\s*$", config, flags=re.M))
    pages = {p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")}
    assert pages == listed, f"not in nav: {sorted(pages - listed)}; missing files: {sorted(listed - pages)}"
