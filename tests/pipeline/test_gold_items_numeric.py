"""The review queues hold back exactly the items the run counts as gold, also when the gold column holds class ids
with blanks (read as floats: -1 becomes -1.0, which means unknown, not gold)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from weaklab.pipeline import Project, init_project
from weaklab.pipeline.review import gold_items


def test_numeric_gold_with_blanks_and_minus_one_holds_back_only_known_gold(tmp_path):
    root = tmp_path / "p"
    init_project(root, n_items=60)
    path = root / "data" / "comments.csv"
    data = pd.read_csv(path)
    ids = data["label"].map({"HAM": 0, "SPAM": 1})
    ids[np.arange(len(data)) % 3 == 1] = -1          # unknown, written as -1
    ids[np.arange(len(data)) % 3 == 2] = np.nan      # unknown, written as a blank
    data["label"] = ids
    data.to_csv(path, index=False)
    result = Project(root).run(until="apply")
    written = pd.read_csv(path)
    known = written["label"].fillna(-1).to_numpy() >= 0
    if "split" in written.columns:
        known = known & (written["split"].astype(str).to_numpy() == "dev")
    expected = {str(v) for v in written.loc[known, "comment_id"]}
    assert expected  # some dev rows keep their gold id
    with Project(root).open_store(read_only=True) as store:
        held = gold_items(store, result.dataset_id)
    assert set(held.ids) == expected
