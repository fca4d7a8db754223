"""The Python tours a newcomer copies first -- the README's and the getting-started page's -- run as
written: their code blocks run in order in one namespace (a block that only states the label-model
contract with a placeholder class, ``SomeLabelModel``, is the one left out)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDER = "SomeLabelModel"


def _blocks(page: Path) -> list[str]:
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.S)
    return [b for b in blocks if PLACEHOLDER not in b]


@pytest.mark.parametrize("page", ["README.md", "docs/getting-started.md"])
def test_the_python_tour_runs_as_written(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    blocks = [b for b in _blocks(ROOT / page) if not b.startswith("# lfs.py")]  # a project file, tested in cli
    assert len(blocks) >= 2, f"{page}: the tour's code blocks were not found"
    namespace: dict[str, object] = {"__name__": "__tour__"}
    for number, block in enumerate(blocks):
        try:
            exec(compile(block, f"{page}[python block {number}]", "exec"), namespace)
        except Exception as exc:  # pragma: no cover - the message is the point
            pytest.fail(f"{page}, python block {number} failed: {type(exc).__name__}: {exc}\n{block}")
