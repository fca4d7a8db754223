"""What `weaklab fit` prints about a run on the Dask engine, as the terminal shows it (rich markup rendered)."""

from __future__ import annotations

from rich.console import Console

from weaklab.cli.render import engine_lines


def rendered(metrics: dict) -> str:
    console = Console(record=True, width=400)
    for line in engine_lines(metrics):
        console.print(line)
    return console.export_text()


def test_the_skipped_end_model_line_keeps_the_engine_table_name():
    """A skipped end model says which [engine] setting trains it (rich read "[engine]" as markup and dropped it)."""
    text = rendered({"engine": {"kind": "dask"}, "end_model": {"skipped": "cnn is not trained on the dask engine"}})
    assert 'weaklab train with [engine] kind = "local" trains it' in text


def test_the_label_model_line_says_what_autolabelmodel_was_fitted_on():
    """All items under the cap, or a random sample of N of M items with the cap and the seed."""
    seen = {"sampled": False, "n_sample": 600, "n_items": 600, "n_sample_voted": 472, "n_voted": 472,
            "max_fit_items": 500_000, "seed": 0}
    text = rendered({"engine": {"kind": "dask"}, "label_model": {"fit_sample": seen}})
    assert "chosen and fitted on all 600 items (fewer than max_fit_items = 500,000 with a vote)" in text
    seen.update(sampled=True, n_sample=247, n_sample_voted=200, max_fit_items=200)
    text = rendered({"engine": {"kind": "dask"}, "label_model": {"fit_sample": seen}})
    assert ("random sample of 247 of the 600 items (200 of the 472 with a vote; max_fit_items = 200 in "
            "label_model.params, seed 0)") in text
    assert rendered({"engine": {"kind": "local"}, "label_model": {"fit_sample": seen}}) == ""
