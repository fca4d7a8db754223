"""Two tagging runs diff by their final spans (store, CLI, dashboard); the terminal queue points to span review."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from weaklab.cli import main
from weaklab.errors import ValidationError
from weaklab.store import Store

DROPPED = "suffix_chemical"


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated tagging example fitted twice: run 1 with every span LF, run 2 without one of them."""
    from weaklab.demo.tagging import init_tagging_project
    from weaklab.pipeline import Project

    root = tmp_path_factory.mktemp("tag_diff") / "ner"
    init_tagging_project(root, n_items=60)
    Project(root).run("fit")
    lfs = root / "lfs.py"
    kept = [line for line in lfs.read_text().splitlines(keepends=True) if f'name="{DROPPED}"' not in line]
    assert len(kept) < len(lfs.read_text().splitlines()), "the example no longer has the dropped LF"
    lfs.write_text("".join(kept))
    Project(root).run("fit")
    return root


@pytest.fixture
def project(two_runs: Path, tmp_path: Path) -> Path:
    target = tmp_path / "ner"
    shutil.copytree(two_runs, target)
    return target


def _store_path(project: Path) -> Path:
    return project / ".weaklab" / "weaklab.duckdb"


def _invoke(project: Path, *args: str):
    return CliRunner().invoke(main, [*args, "--store", str(_store_path(project))], catch_exceptions=False)


def test_diff_spans_lists_the_items_whose_spans_changed_and_why(project: Path) -> None:
    """Every changed item lost or gained spans because the dropped LF's spans changed on it; an item a person
    answered has the same final spans in both runs; a run diffed with itself changes nothing."""
    with Store(_store_path(project)) as store:
        runs = sorted(int(r) for r in store.runs()["run_id"])
        assert len(runs) == 2
        frame = store.diff_spans(*runs)
        assert len(frame) > 0 and store.diff_spans(runs[1], runs[1]).empty
        for row in frame.itertuples():
            assert row.spans_a != row.spans_b and (row.added or row.removed)
            assert sorted(map(tuple, row.spans_b)) == sorted(
                {*map(tuple, row.spans_a), *map(tuple, row.added)} - set(map(tuple, row.removed)))
            assert row.sources_changed == [DROPPED] and DROPPED in row.reason
            assert (row.from_a, row.from_b) == ("label_model", "label_model")
        item = frame["item_id"].iloc[0]
        store.add_span_answer(store.run(runs[1])["dataset_id"], item, "ada", frame["spans_a"].iloc[0])
        after = store.diff_spans(*runs)
        assert item not in set(after["item_id"]) and len(after) == len(frame) - 1
        with pytest.raises(ValidationError, match="run_id"):
            store.diff_spans(runs[0], 10_000)


def test_cli_and_dashboard_show_the_span_diff(project: Path) -> None:
    """`weaklab diff` of two tagging runs lists spans with their words; the dashboard's /diff page does too."""
    from fastapi.testclient import TestClient

    from weaklab.dashboard import create_app

    as_json = json.loads(_invoke(project, "diff", "1", "2", "--json").output)
    assert as_json["kind"] == "tagging" and as_json["n_changed"] == len(as_json["items"]) > 0
    first = as_json["items"][0]
    shown = _invoke(project, "diff", "1", "2", "--limit", "3").output
    assert "changed spans between run 1 and run 2" in shown and str(first["item_id"]) in shown
    s, e, t = (first["removed"] or first["added"])[0]
    assert " ".join(first["tokens"][s:e]) in shown
    with TestClient(create_app(_store_path(project)), base_url="http://127.0.0.1") as client:
        page = client.get("/diff?a=1&b=2")
    assert page.status_code == 200
    assert f"{as_json['n_changed']} items changed their final spans" in page.text
    assert f'href="/items/{first["item_id"]}?run=2"' in page.text
    assert f'<span class="{"removed" if first["removed"] else "added"}">{" ".join(first["tokens"][s:e])} ({t})' \
        in page.text


def test_terminal_queue_of_a_tagging_run_points_to_the_span_review(project: Path) -> None:
    """`weaklab annotate` on a tagging run says where spans are reviewed instead of failing on soft labels."""
    out = CliRunner().invoke(main, ["annotate", "--annotator", "ada", "--store", str(_store_path(project))])
    assert out.exit_code != 0
    assert "tagging run" in out.output and "weaklab serve" in out.output and "annotate export" in out.output
