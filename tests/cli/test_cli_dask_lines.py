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


def test_the_fit_sample_lines_tell_lost_random_gold_from_ranked_answers_outside_the_sample():
    """Random gold beyond max_fit_items did not reach the fit (a warning naming the cap); answers to a review queue
    outside the sample are said apart, as changing nothing (AutoLabelModel does not use ranked answers)."""
    seen = {"sampled": True, "n_sample": 247, "n_items": 600, "n_sample_voted": 200, "n_voted": 472,
            "max_fit_items": 200, "seed": 0, "n_gold": 330, "n_gold_in_sample": 205, "n_random_gold": 300,
            "n_random_gold_in_sample": 203}
    text = rendered({"engine": {"kind": "dask"}, "label_model": {"fit_sample": seen}})
    assert ("97 of the 300 items of gold drawn at random did not reach the fit: more than max_fit_items = 200 of "
            "them") in text
    assert ("28 answer(s) to a review queue fall outside the sample; AutoLabelModel does not use ranked answers in a "
            "sample or in memory, so its fit is the same either way") in text
    seen.update(n_random_gold=0, n_random_gold_in_sample=0, n_gold=30, n_gold_in_sample=3)
    text = rendered({"engine": {"kind": "dask"}, "label_model": {"fit_sample": seen}})
    assert "did not reach" not in text and "27 answer(s) to a review queue fall outside the sample" in text
