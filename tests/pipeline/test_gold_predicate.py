"""The review queues decide which items hold gold with the run's own reading of the gold column: class names,
[labels.rename] renames, class ids, blanks and -1 give the same items as the run's dev gold, and a cell the run
refuses (an unknown class name, an id out of range) stops the queue with the run's own message."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from weaklab.errors import ValidationError
from weaklab.pipeline import Project
from weaklab.pipeline.review import gold_items

N_ITEMS = 30


def _rewrite_truth(root: Path, cells: dict[int, str]) -> pd.DataFrame:
    """Put ``cells`` (row -> text) into the gold column ``truth``; every row is a dev row."""
    path = root / "data" / "msgs.csv"
    frame = pd.read_csv(path, keep_default_na=False, dtype=str)
    frame["part"] = "dev"
    for row, value in cells.items():
        frame.loc[row, "truth"] = value
    frame.to_csv(path, index=False)
    return frame


def _held(root: Path, dataset_id: int) -> set[str]:
    with Project(root).open_store(read_only=True) as store:
        return set(gold_items(store, dataset_id).ids)


def test_renamed_names_ids_blanks_and_minus_one_hold_back_the_runs_dev_gold(tmp_path, msgs_project_writer):
    """Old class names mapped by [labels.rename], a class named like a missing value ("N/A"), class ids,
    blanks, a space and -1: the queue holds back exactly the items the run counts as dev gold."""
    msgs_project_writer(tmp_path, N_ITEMS, 2, extra_toml='\n[labels.rename]\njunk = "spam"\n')
    toml = tmp_path / "weaklab.toml"
    toml.write_text(toml.read_text().replace('classes = ["fine", "junk"]', 'classes = ["fine", "spam", "N/A"]'))
    cells = {0: "junk", 1: "spam", 2: "N/A", 3: "2", 4: "", 5: "-1", 6: " ", 7: "0", 8: "fine", 9: "1.0"}
    frame = _rewrite_truth(tmp_path, {**{r: "" for r in range(N_ITEMS)}, **cells})
    result = Project(tmp_path).run(until="analyse")
    expected = {frame.loc[r, "msg_no"] for r in (0, 1, 2, 3, 7, 8, 9)}
    assert result.metrics["n_dev"] == len(expected)
    assert _held(tmp_path, result.dataset_id) == expected


def test_a_gold_cell_the_run_refuses_stops_the_queue_with_the_runs_message(tmp_path, msgs_project_writer):
    """An unknown class name (a typo) or a class id out of range: the run raises, and so does the queue,
    with the same message (never silently holding the item back as gold)."""
    msgs_project_writer(tmp_path, N_ITEMS, 2)
    result = Project(tmp_path).run(until="apply")
    for bad in ("jnuk", "7"):
        _rewrite_truth(tmp_path, {3: bad})
        with pytest.raises(ValidationError) as by_run:
            Project(tmp_path).run(until="apply")
        with pytest.raises(ValidationError) as by_queue:
            _held(tmp_path, result.dataset_id)
        assert repr(bad) in str(by_run.value)
        assert str(by_queue.value) == str(by_run.value)


def test_after_the_gold_is_mended_the_queue_follows_the_file(tmp_path, msgs_project_writer):
    """Fixing the refused cell (to a renamed class's old name) makes the queue hold the item back again."""
    msgs_project_writer(tmp_path, N_ITEMS, 2, extra_toml='\n[labels.rename]\nspam = "junk"\n')
    result = Project(tmp_path).run(until="apply")
    frame = _rewrite_truth(tmp_path, {3: "spam"})
    held = _held(tmp_path, result.dataset_id)
    truth = frame["truth"].to_numpy()
    assert held == set(frame.loc[np.isin(truth, ["fine", "junk", "spam"]), "msg_no"])
    assert frame.loc[3, "msg_no"] in held


def test_a_generate_gold_file_is_read_as_the_run_reads_the_gold_column(tmp_path, msgs_project_writer):
    """`weaklab generate --gold FILE`: an old class name mapped by [labels.rename], an id, a blank and -1 read as
    in the data file's gold column; a name the run refuses gets the run's message."""
    from weaklab.pipeline import load_config
    from weaklab.pipeline.generate import read_gold_file

    msgs_project_writer(tmp_path, N_ITEMS, 2, extra_toml='\n[labels.rename]\nspam = "junk"\n')
    config = load_config(tmp_path)
    ids = np.array([f"m{i:03d}" for i in range(N_ITEMS)], dtype=object)
    path = tmp_path / "gold.csv"
    path.write_text("msg_no,truth\nm000,spam\nm001,0\nm002,\nm003,-1\nm004,junk\n")
    gold = read_gold_file(path, config, ids, 2)
    assert gold[:6].tolist() == [1, 0, -1, -1, 1, -1]
    path.write_text("msg_no,truth\nm000,spma\n")
    with pytest.raises(ValidationError, match=r"row 2: expected class ids 0\.\.1 or names \['fine', 'junk'\]"):
        read_gold_file(path, config, ids, 2)


def test_without_its_project_file_the_queue_reads_gold_with_what_the_run_recorded(tmp_path, msgs_project_writer):
    """A project file moved away: the dataset's recorded columns and the newest run's class names and renames
    decide, so a renamed class and a class named "N/A" still count as gold."""
    msgs_project_writer(tmp_path, N_ITEMS, 2, extra_toml='\n[labels.rename]\njunk = "spam"\n')
    toml = tmp_path / "weaklab.toml"
    toml.write_text(toml.read_text().replace('classes = ["fine", "junk"]', 'classes = ["fine", "spam", "N/A"]'))
    frame = _rewrite_truth(tmp_path, {**{r: "" for r in range(N_ITEMS)}, 0: "junk", 1: "N/A", 2: "-1", 3: "fine"})
    result = Project(tmp_path).run(until="apply")
    toml.rename(tmp_path / "moved.toml")
    with pytest.raises(ValidationError):
        Project(tmp_path)  # the project is gone for a run too
    from weaklab.store import Store

    with Store(tmp_path / ".weaklab" / "weaklab.duckdb", read_only=True) as store:
        held = set(gold_items(store, result.dataset_id).ids)
    assert held == {frame.loc[r, "msg_no"] for r in (0, 1, 3)}
