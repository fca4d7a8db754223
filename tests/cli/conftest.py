"""Fixtures of the CLI tests."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from weaklab.cli import main

RECIPE_LABELS = ("vegan", "spicy", "quick")
_RECIPE_WORDS = {"vegan": ("tofu", "lentils", "chickpeas"), "spicy": ("chili", "jalapeno", "harissa"),
         "quick": ("minutes", "easy", "fast")}


def recipes(n: int, seed: int) -> pd.DataFrame:
    """Recipes with their own column names: recipe_no, description, tags ('-' none, empty: no gold)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        present = [label for label in RECIPE_LABELS if rng.random() < 0.4]
        words = [str(rng.choice(_RECIPE_WORDS[label])) for label in present for _ in range(2)]
        words += [str(w) for w in rng.choice(["pan", "oven", "salt", "water", "bowl", "stir"], size=4)]
        rng.shuffle(words)
        rows.append({"recipe_no": f"r{i:03d}", "description": " ".join(words),
                     "tags": ("|".join(present) or "-") if i % 3 == 0 else ""})
    return pd.DataFrame(rows)


def write_recipe_project(root, n: int = 150, seed: int = 0) -> None:
    """A multilabel project written as a new user would: own labels, columns and LFs, no split column."""
    (root / "data").mkdir(parents=True)
    recipes(n, seed).to_csv(root / "data" / "recipes.csv", index=False)
    (root / "weaklab.toml").write_text(textwrap.dedent("""
        [project]
        name = "recipes"
        [task]
        kind = "multilabel"
        [labels]
        classes = ["vegan", "spicy", "quick"]
        [data]
        path = "data/recipes.csv"
        id_column = "recipe_no"
        text_field = "description"
        gold_column = "tags"
        [lfs]
        module = "rules.py"
        attribute = "lfs"
        [label_model]
        name = "OneVsRestLabelModel"
        params = { base = "MajorityVote", base_params = {} }
        """))
    (root / "rules.py").write_text(textwrap.dedent("""
        import numpy as np

        from weaklab.labeling import keyword_lf, labeling_function


        def present_or_absent(label, words):
            pattern = r"\\b(?:" + "|".join(words) + r")\\b"

            @labeling_function(name=f"has_{label}", resources={"pattern": pattern}, vectorized=True,
                               fields="description")
            def lf(df, pattern):
                return np.where(df["description"].str.contains(pattern, regex=True), 1, 0)

            return (label, lf)


        lfs = [present_or_absent("vegan", ["tofu", "lentils"]),
               present_or_absent("spicy", ["chili", "harissa"]),
               present_or_absent("quick", ["minutes", "easy"]),
               keyword_lf(["chickpeas"], "vegan", field="description", name="kw_vegan2"),
               keyword_lf(["jalapeno"], "spicy", field="description", name="kw_spicy2"),
               ("quick", keyword_lf(["oven"], 0, field="description", name="not_quick"))]
        """))


@pytest.fixture()
def spam_project(tmp_path, monkeypatch):
    """A fresh `weaklab init --items 200` project (the bundled spam comments) as the working folder."""
    monkeypatch.chdir(tmp_path)
    out = CliRunner().invoke(main, ["init", "--items", "200"])
    assert out.exit_code == 0, out.output
    return tmp_path
