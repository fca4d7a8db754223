"""A run with many alerts of one kind prints a few in full and names the rest, all of them still recorded."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from weaklab.cli import main

CONFIG = """\
[data]
path = "pairs.csv"
id_column = "pair"
text_field = "note"

[labels]
classes = ["different", "same"]

[crowd]
path = "ratings.csv"
item_column = "pair"
worker_column = "rater"
label_column = "said"
"""
N_ITEMS, N_GOOD, N_FLIPPED = 300, 6, 12


def _invoke(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def crowd_project(tmp_path, monkeypatch):
    """Six good raters answer every pair; twelve raters who flip the truth answer 60 pairs each."""
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 2, N_ITEMS)
    names = np.array(["different", "same"])
    rows = []
    for w in range(N_GOOD):
        for i in range(N_ITEMS):
            right = rng.random() < 0.9
            rows.append((f"p{i}", f"good{w}", names[truth[i] if right else 1 - truth[i]]))
    for w in range(N_FLIPPED):
        for i in rng.choice(N_ITEMS, 60, replace=False):
            rows.append((f"p{i}", f"flip{w:02d}", names[1 - truth[i]]))
    pd.DataFrame(rows, columns=["pair", "rater", "said"]).to_csv(tmp_path / "ratings.csv", index=False)
    pd.DataFrame({"pair": [f"p{i}" for i in range(N_ITEMS)],
                  "note": [f"listing pair {i}" for i in range(N_ITEMS)]}).to_csv(tmp_path / "pairs.csv", index=False)
    (tmp_path / "weaklab.toml").write_text(CONFIG)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_fit_names_at_most_five_alerts_of_a_kind_in_full_and_points_at_the_alerts_command(crowd_project):
    fit = _invoke("fit")
    assert fit.exit_code == 0, fit.output
    full = [line for line in fit.output.splitlines()
            if line.startswith("alert below_chance: flip") and "estimated accuracy" in line]
    rest = [line for line in fit.output.splitlines() if line.startswith("alert below_chance:") and "more (" in line]
    assert len(full) == 5
    assert len(rest) == 1 and f"{N_FLIPPED - 5} more" in rest[0] and "weaklab alerts --run 1" in rest[0]
    named = {w for w in (f"flip{i:02d}" for i in range(N_FLIPPED)) if w in "".join(full + rest)}
    assert len(named) == N_FLIPPED  # every flipped rater is named once, in full or in the summary line

    recorded = json.loads(_invoke("alerts", "--run", "1", "--json").output)
    assert {r["source"] for r in recorded if r["kind"] == "below_chance"} >= {f"flip{i:02d}" for i in range(N_FLIPPED)}
