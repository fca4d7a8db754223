"""A multi-label run's final labels: the label model's where a source voted on the label, the end model's elsewhere."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest

from weaklab.demo.multilabel import MULTILABEL_LABELS, init_multilabel_project
from weaklab.pipeline import Project
from weaklab.pipeline.multilabel import FINAL_RULE, multilabel_final_labels
from weaklab.store import Store

NAMES = list(MULTILABEL_LABELS)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory):
    """The example with 'health' voted only present by a keyword LF, so most items have no vote on it."""
    root = tmp_path_factory.mktemp("final_cells") / "topics"
    init_multilabel_project(root, n_items=240)
    lfs = root / "lfs.py"
    text = lfs.read_text()
    pair = '    words_or_absent("health", ["vaccine", "hospital", "doctor", "patients", "virus"]),\n'
    assert pair in text
    present_only = '    keyword_lf(["vaccine", "hospital", "doctor"], "health", name="kw_health"),\n'
    lfs.write_text(text.replace(pair, present_only))
    return root, Project(root).run("train")


@dataclass
class Recorded:
    label_model: np.ndarray
    end_model: np.ndarray
    final: np.ndarray
    unvoted: np.ndarray  # (n, K): no source voted on the item's label
    producer: str
    export: pd.DataFrame
    stories: dict[int, dict[str, Any]]  # row -> explain's story (a row with a health vote, one without)


def _recorded(root, run_id: int) -> Recorded:
    with Store(root / ".weaklab" / "weaklab.duckdb") as store:
        sets = store.label_sets(run_id)
        ids = {role: int(i) for role, i in zip(sets["role"], sets["label_set_id"])}
        present, absent = store.load_multilabel_votes(ids["votes"]).vote_counts()
        unvoted = (present + absent) == 0
        export = multilabel_final_labels(store, run_id)
        rows = (int(np.flatnonzero(~unvoted[:, 3])[0]), int(np.flatnonzero(unvoted[:, 3])[0]))
        return Recorded(*(store.load_label_proba(ids[role]) for role in ("label_model", "end_model", "final")),
                        unvoted=unvoted, producer=str(sets.loc[sets["role"] == "final", "producer"].iloc[0]),
                        export=export, stories={r: store.explain(export["item_id"].iloc[r], run_id) for r in rows})


def test_the_final_set_takes_each_cell_from_the_label_model_where_voted_and_the_end_model_elsewhere(trained):
    """The run records a "final" set and, with the end model's metrics, how many cells of each label it gave."""
    root, result = trained
    rec = _recorded(root, result.run_id)
    unvoted = rec.unvoted
    assert unvoted[:, 3].mean() > 0.5 and not unvoted[:, :3].any()  # health: only a present-voting keyword LF
    np.testing.assert_allclose(rec.final[unvoted], rec.end_model[unvoted], atol=1e-6)
    np.testing.assert_allclose(rec.final[~unvoted], rec.label_model[~unvoted], atol=1e-6)
    assert rec.producer == FINAL_RULE
    recorded = result.metrics["end_model"]["final"]
    assert recorded["n_cells_end_model"] == int(unvoted.sum()) and recorded["n_cells"] == unvoted.size
    assert recorded["per_label_end_model"] == dict(zip(NAMES, unvoted.sum(axis=0).tolist()))
    assert 0.0 <= recorded["dev"]["micro_f1"] <= 1.0


def test_export_and_explain_give_the_final_labels_and_what_produced_each_cell(trained):
    """export's labels are the final set's at 0.5, with the producers per item; explain says it per label."""
    root, result = trained
    rec = _recorded(root, result.run_id)
    frame, final, health_unvoted = rec.export, rec.final, rec.unvoted[:, 3]
    expected = ["|".join(n for n, h in zip(NAMES, row) if h) or "-" for row in (final >= 0.5).tolist()]
    assert frame["labels"].tolist() == expected
    assert frame["label_from"].tolist() == np.where(health_unvoted, "label_model+end_model", "label_model").tolist()
    assert frame["end_model_labels"].tolist() == np.where(health_unvoted, "health", "-").tolist()
    for row, story in rec.stories.items():
        assert story["final_labels"] == [n for n, p in zip(NAMES, final[row]) if p >= 0.5]
        assert story["final_cells"]["health"] == ("end_model" if health_unvoted[row] else "label_model")
        assert story["final_from"] == ("label_model+end_model" if health_unvoted[row] else "label_model")
