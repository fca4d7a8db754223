"""[data].fit_gold: the data file's gold outside the dev split feeds the label model's fit, explicitly and honestly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from weaklab.errors import ValidationError
from weaklab.pipeline import Project, load_config
from weaklab.pipeline.fit_gold import file_gold_lineage
from weaklab.pipeline.loading import fit_gold_rows, load_data, run_gold
from weaklab.store import Store

N_ITEMS, N_DEV = 1200, 300


def _messages(seed: int = 0) -> pd.DataFrame:
    """Messages, 20 % spam: "prize" marks 60 % of spam (3 % of ham), "meeting" 15 % of ham (2 % of spam).

    The two keyword LFs vote about as often for each class, so the votes alone put the class balance near
    50/50 while it is 80/20: the label model's guess on the ~70 % of items nobody votes on is wrong unless gold
    drawn at random tells it the balance. The first N_DEV rows are the dev split; every row holds gold.
    """
    rng = np.random.default_rng(seed)
    spam = rng.random(N_ITEMS) < 0.2
    words = np.array(["alpha", "beta", "gamma", "delta", "omega", "sigma"])
    texts = []
    for is_spam in spam:
        tokens = list(rng.choice(words, size=5))
        if rng.random() < (0.6 if is_spam else 0.03):
            tokens.append("prize")
        if rng.random() < (0.02 if is_spam else 0.15):
            tokens.append("meeting")
        texts.append(" ".join(tokens))
    return pd.DataFrame({"msg_id": [f"m{i:05d}" for i in range(N_ITEMS)], "body": texts,
                         "truth": np.where(spam, "spam", "ham"),
                         "part": np.where(np.arange(N_ITEMS) < N_DEV, "dev", "train")})


def _project(root: Path, fit_gold: object = None, *, frame: pd.DataFrame | None = None,
             label_model: str = "MajorityVote", end_model: str = "none") -> Path:
    """A project with its own column names over :func:`_messages`; ``fit_gold`` None leaves the key out."""
    root.mkdir(parents=True, exist_ok=True)
    (_messages() if frame is None else frame).to_csv(root / "messages.csv", index=False)
    (root / "lfs.py").write_text('from weaklab import keyword_lf\n'
                                 'lfs = [keyword_lf(["prize"], "spam"), keyword_lf(["meeting"], "ham")]\n')
    option = "" if fit_gold is None else f"fit_gold = {fit_gold!r}\n".replace("'", '"')
    (root / "weaklab.toml").write_text(
        '[data]\npath = "messages.csv"\nid_column = "msg_id"\ntext_field = "body"\ngold_column = "truth"\n'
        f'split_column = "part"\ndev_value = "dev"\n{option}\n[labels]\nclasses = ["ham", "spam"]\n\n'
        f'[lfs]\nmodule = "lfs.py"\n\n[label_model]\nname = "{label_model}"\n\n[end_model]\nname = "{end_model}"\n')
    return root


def _soft(project: Project, run) -> np.ndarray:
    with Store(project.store_path, read_only=True) as store:
        return store.load_soft_labels(int(run.metrics["soft_labels_id"])).proba


@pytest.mark.parametrize(("value", "got"), [('"some"', "str 'some'"), ("-1", "int -1"), ("1.5", "float 1.5"),
                                            ("true", "bool True")])
def test_bad_fit_gold_values_name_the_key_and_what_arrived(tmp_path, value, got):
    """fit_gold is "none", "all" or an integer >= 0; anything else names the key, the choices and the value."""
    root = _project(tmp_path)
    text = (root / "weaklab.toml").read_text()
    text = text.replace('dev_value = "dev"\n', f'dev_value = "dev"\nfit_gold = {value}\n')
    (root / "weaklab.toml").write_text(text)
    with pytest.raises(ValidationError, match=r'data\.fit_gold: expected "none", "all" or an integer >= 0 .*got '
                                              + got.replace(".", r"\.")):
        load_config(root)


@pytest.mark.parametrize(("edit", "expected"), [
    (('split_column = "part"\n', ""), "without a split column"),
    (('gold_column = "truth"\n', ""), "without a gold column"),
])
def test_fit_gold_refuses_projects_it_cannot_serve(tmp_path, edit, expected):
    """fit_gold other than "none" needs gold and split columns: the error says which (the Dask engine takes it,
    see test_dask_fit_gold.py)."""
    root = _project(tmp_path, "all")
    (root / "weaklab.toml").write_text((root / "weaklab.toml").read_text().replace(*edit))
    with pytest.raises(ValidationError, match=rf'data\.fit_gold: expected "none" {expected}.*got \'all\''):
        load_config(root)


def test_fifty_random_gold_rows_fix_the_class_balance_the_lfs_get_wrong(tmp_path):
    """fit_gold = 50 feeds 50 gold rows of the train split to the fit; the dev accuracy rises; the run records it."""
    before = Project(_project(tmp_path / "none")).run("fit")
    after = Project(_project(tmp_path / "fifty", 50)).run("fit")
    lm_before, lm_after = before.metrics["label_model"], after.metrics["label_model"]
    assert lm_after["n_dev"] == lm_before["n_dev"] == N_DEV  # scored on the same held-out rows
    assert lm_after["accuracy"] > lm_before["accuracy"] + 0.1
    assert lm_before["n_gold_for_fit"] == lm_before["n_file_gold_for_fit"] == 0
    assert lm_before["n_gold_outside_dev"] == N_ITEMS - N_DEV and lm_before["fit_gold"] == "none"
    assert lm_after["n_gold_for_fit"] == lm_after["n_file_gold_for_fit"] == 50
    assert lm_after["gold_sampling"] == lm_after["file_gold_sampling"] == "random"
    assert lm_after["fit_gold"] == 50 and lm_after["file_gold_splits"] == {"train": 50}
    assert lm_after["fit_gold_random_state"] == 0 and lm_after["n_answers_for_fit"] == 0


def test_none_fits_exactly_as_without_gold_outside_dev(tmp_path):
    """With fit_gold unset or "none", gold outside the dev split changes nothing: same fit inputs, same soft labels."""
    frame = _messages()
    blanked = frame.assign(truth=frame["truth"].where(frame["part"] == "dev", ""))
    runs = [(Project(root), Project(root).run("fit")) for root in (
        _project(tmp_path / "unset", frame=frame), _project(tmp_path / "none", "none", frame=frame),
        _project(tmp_path / "blank", frame=blanked))]
    keys = {run.metrics["label_model_key"] for _, run in runs}
    assert len(keys) == 1
    reference = _soft(*runs[2])
    for project, run in runs[:2]:
        np.testing.assert_array_equal(_soft(project, run), reference)
        assert run.metrics["label_model"]["accuracy"] == runs[2][1].metrics["label_model"]["accuracy"]
    assert runs[2][1].metrics["label_model"]["n_gold_outside_dev"] == 0


def test_dev_gold_never_reaches_the_fit(tmp_path):
    """With fit_gold = "all", flipping every dev gold label changes the dev score but not one input of the fit."""
    frame = _messages()
    flipped = frame.assign(truth=np.where(frame["part"] == "dev", frame["truth"].map({"ham": "spam", "spam": "ham"}),
                                          frame["truth"]))
    honest_project, flipped_project = (Project(_project(tmp_path / name, "all", frame=f))
                                       for name, f in (("honest", frame), ("flipped", flipped)))
    honest, other = honest_project.run("fit"), flipped_project.run("fit")
    assert honest.metrics["label_model_key"] == other.metrics["label_model_key"]
    np.testing.assert_array_equal(_soft(honest_project, honest), _soft(flipped_project, other))
    assert honest.metrics["label_model"]["accuracy"] != other.metrics["label_model"]["accuracy"]
    assert honest.metrics["label_model"]["n_file_gold_for_fit"] == N_ITEMS - N_DEV


def test_the_sample_is_seeded_nested_and_independent_of_row_order(tmp_path):
    """At most N gold rows outside dev are drawn; a larger N draws a superset; reordering rows draws the same items;
    another seed draws others."""
    def drawn(option: object, frame: pd.DataFrame, seed: int = 0) -> set[str]:
        config = load_config(_project(tmp_path / f"p{option}{seed}{len(drawn_sets)}", option, frame=frame))
        data = load_data(config)
        gold, dev = run_gold(config, data)
        rows = fit_gold_rows(config, data, gold, dev, random_state=seed)
        assert not (rows & dev).any()
        drawn_sets.append(rows)
        return set(data["msg_id"][rows])

    drawn_sets: list[np.ndarray] = []
    frame = _messages()
    thirty, sixty = drawn(30, frame), drawn(60, frame)
    assert len(thirty) == 30 and len(sixty) == 60 and thirty < sixty
    assert drawn(30, frame.sample(frac=1.0, random_state=3)) == thirty
    assert drawn(30, frame, seed=1) != thirty
    assert len(drawn(10_000, frame)) == N_ITEMS - N_DEV  # more than there are: all of them
    assert drawn(0, frame) == set()


def test_review_answers_stay_active_beside_random_file_gold(tmp_path):
    """Review-queue answers beside fit_gold rows make the fit's gold 'mixed'; a model that measures its gold (majority
    vote's class balance) uses the random file rows only, so its soft labels equal those of the file rows alone."""
    alone_project = Project(_project(tmp_path / "alone", 50))
    alone = alone_project.run("fit")
    project = Project(_project(tmp_path / "answers", 50))
    first = project.run("fit")
    with project.open_store() as store:
        config = load_config(project.config.file)
        data = load_data(config)
        drawn = fit_gold_rows(config, data, *run_gold(config, data))
        asked = list(data["msg_id"][~drawn & (data["part"] != "dev")][:40])  # a biased pick: all answered "spam"
        store.add_annotations(first.dataset_id, asked, "ana", ["spam"] * len(asked), origin="review",
                              class_names=["ham", "spam"])
    mixed = project.run("fit")
    lm = mixed.metrics["label_model"]
    assert lm["gold_sampling"] == "mixed" and lm["n_answers_for_fit"] == 40 and lm["n_file_gold_for_fit"] == 50
    assert lm["n_gold_for_fit"] == 90
    np.testing.assert_allclose(_soft(project, mixed), _soft(alone_project, alone))
    assert mixed.metrics["label_model_key"] != first.metrics["label_model_key"]


def test_query_does_not_ask_for_items_whose_gold_fed_the_fit(tmp_path):
    """The items a run's fit took gold for are not offered for review next (as answered and dev items)."""
    frame = _messages().iloc[:600]
    frame = frame.assign(truth=frame["truth"].where(np.arange(600) < 450, ""))  # rows 450..599: no gold
    project = Project(_project(tmp_path, "all", frame=frame, end_model="tfidf_logreg"))
    result = project.run("query")
    assert len(result.query) == 20 and set(result.query) <= set(frame["msg_id"].iloc[450:])


def test_tagging_projects_refuse_fit_gold(tmp_path):
    """A tagging project's gold spans only score runs: fit_gold there names the key and says why."""
    from weaklab.demo.tagging import init_tagging_project

    init_tagging_project(tmp_path, n_items=60)
    config = tmp_path / "weaklab.toml"
    config.write_text(config.read_text().replace('dev_value = "dev"\n', 'dev_value = "dev"\nfit_gold = 10\n'))
    with pytest.raises(ValidationError, match=r'data\.fit_gold: expected "none" in a tagging project.*got 10'):
        load_config(tmp_path)


def test_doctor_refits_a_lost_label_model_with_the_gold_rows_the_run_drew(tmp_path, monkeypatch):
    """`weaklab doctor --repair` restores the exact label-model state of a run whose fit had fit_gold rows and a
    review answer (it draws the rows again by the run's recorded option and seed)."""
    from click.testing import CliRunner

    from weaklab.cli import main

    project = Project(_project(tmp_path, 50))
    first = project.run("fit")
    with project.open_store() as store:
        store.add_annotations(first.dataset_id, ["m00301"], "ana", ["spam"], origin="review",
                              class_names=["ham", "spam"])
    run = project.run("fit")
    lm_id = int(run.metrics["label_model_run_id"])
    with Store(project.store_path, read_only=True) as store:
        state = store.load_label_model_state(lm_id)
        files = store.array_files()
    lost = [tmp_path / p for p, used in zip(files["path"], files["used_by"])
            if any(t == "label_model_runs" and record == lm_id for t, record, _ in used)]
    assert len(lost) == 1
    lost[0].unlink()
    monkeypatch.chdir(tmp_path)
    out = CliRunner().invoke(main, ["doctor", "--repair"])
    assert out.exit_code == 0, out.output
    assert f"repaired: label-model state {lm_id}" in out.output
    with Store(project.store_path, read_only=True) as store:
        again = store.load_label_model_state(lm_id)
    assert all(np.array_equal(again["arrays"][k], v) for k, v in state["arrays"].items())


def test_the_recorded_gold_decision_keeps_its_parentheses_whole(tmp_path):
    """The run records the headline of AutoLabelModel's gold decision: cut at its first '; ' outside
    parentheses, never inside an aside (it was cut mid-parenthesis: "... picked B in 3")."""
    config = load_config(_project(tmp_path, "all"))
    reason = ("kept the choice made without gold (MajorityVote): no gain (re-run without each fold, picked B in 3; "
              "C in 2); 4 failed")
    record = file_gold_lineage(config, 5, ["train", "train"], 0, 0, reason)
    assert record["gold_decision"] == ("kept the choice made without gold (MajorityVote): no gain (re-run without "
                                       "each fold, picked B in 3; C in 2)")
