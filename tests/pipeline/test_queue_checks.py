"""Review queues interleave recorded random checks, and their answers then reach the label model weighted."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from weaklab.errors import ValidationError
from weaklab.pipeline import Project, init_project, load_config
from weaklab.pipeline.review import review_batch

N_ITEMS = 300


def _project(tmp_path: Path, extra: str = "") -> tuple[Path, dict[str, str]]:
    init_project(tmp_path, n_items=N_ITEMS)
    if extra:
        config = tmp_path / "weaklab.toml"
        config.write_text(config.read_text().replace("[query]\n", "[query]\n" + extra + "\n"))
    frame = pd.read_csv(tmp_path / "data" / "comments.csv")
    return tmp_path, dict(zip(frame["comment_id"].astype(str), frame["label"]))


def _answer_batches(root: Path, truth: dict[str, str], n_batches: int, limit: int, **kwargs) -> int:
    """Answer ``n_batches`` terminal-queue batches from the gold column (an oracle); the run's id."""
    run = Project(root).run(until="fit")
    for seed in range(n_batches):
        with Project(root).open_store() as store:
            items, _ = review_batch(store, run.run_id, limit=limit, queue="terminal", random_state=seed, **kwargs)
            for item in items:
                store.add_annotation(run.dataset_id, item.item_id, "oracle", truth[str(item.item_id)],
                                     origin="terminal")
    return run.dataset_id


def test_queue_answers_reach_auto_label_model_weighted(tmp_path: Path) -> None:
    """Answers to terminal batches with 1 in 5 random checks (the default) go to AutoLabelModel with gold_weight:
    the run says "weighted", how many checks, and the model's reason names the weighting."""
    root, truth = _project(tmp_path)
    dataset_id = _answer_batches(root, truth, 3, 20)
    with Project(root).open_store(read_only=True) as store:
        slots = store.queue_slots(dataset_id)
    assert len(slots) == 60 and slots["at_random"].sum() == 12 and slots["round_id"].nunique() == 3
    drawn = slots[slots["at_random"]]
    assert (drawn.groupby("round_id")["pool_left"].nunique() == 1).all() and drawn["pool_left"].max() < N_ITEMS
    metrics = Project(root).run(until="fit").metrics["label_model"]
    assert metrics["gold_sampling"] == "weighted"
    assert metrics["gold_weighting"]["n_random_checks"] == 12 and metrics["gold_weighting"]["n_rounds"] == 3
    assert 0 < metrics["gold_weighting"]["effective_n"] <= 60
    assert "gold_weight" in metrics["reason"]


def test_random_share_zero_keeps_queue_answers_active(tmp_path: Path) -> None:
    """``[query].random_share = 0``: no random check is served, and the queue's answers stay "active"."""
    root, truth = _project(tmp_path, "random_share = 0")
    dataset_id = _answer_batches(root, truth, 2, 20)
    with Project(root).open_store(read_only=True) as store:
        assert len(store.queue_slots(dataset_id)) == 40 and not store.queue_slots(dataset_id)["at_random"].any()
    metrics = Project(root).run(until="fit").metrics["label_model"]
    assert metrics["gold_sampling"] == "active" and "gold_weighting" not in metrics


def test_random_checks_are_drawn_from_every_free_item_not_the_top_of_the_ranking(tmp_path: Path) -> None:
    """With every slot a check, a batch's items are spread over the whole ranking, none answered before."""
    root, _ = _project(tmp_path)
    run = Project(root).run(until="fit")
    with Project(root).open_store() as store:
        first, _ = review_batch(store, run.run_id, limit=20, random_share=0.0)
        checks, _ = review_batch(store, run.run_id, limit=20, random_share=1.0, random_state=1)
    top = {str(i.item_id) for i in first}
    assert len({str(i.item_id) for i in checks} - top) >= 10  # the top 20 are 20 of ~240 free items


def test_answers_of_a_store_without_slot_records_stay_active(tmp_path: Path) -> None:
    """A v7 store (before queues recorded slots) with review answers migrates, and its answers stay "active"."""
    root, truth = _project(tmp_path)
    run = Project(root).run(until="fit")
    path = root / ".weaklab" / "weaklab.duckdb"
    con = duckdb.connect(str(path))
    for table, sequence in (("label_set_answers", "seq_label_set_answer"), ("label_sets", "seq_label_set"),
                            ("queue_slots", "seq_queue_round")):  # what versions 10, 9 and 8 added
        con.execute(f"DROP TABLE {table}")
        con.execute(f"DROP SEQUENCE {sequence}")
    con.execute("UPDATE schema_info SET value = '7' WHERE key = 'schema_version'")
    con.close()
    with Project(root).open_store() as store:  # migrates
        for item in run.item_ids[:5]:
            store.add_annotation(run.dataset_id, item, "ann", truth[str(item)], origin="review")
        assert store.queue_slots(run.dataset_id).empty
    metrics = Project(root).run(until="fit").metrics["label_model"]
    assert metrics["gold_sampling"] == "active" and "gold_weighting" not in metrics


def test_answers_before_the_first_check_count_once(tmp_path: Path) -> None:
    """Old answers (no slot) followed by checked batches: weighted, and each old answer weighs what a check's
    round says (counted once, not dropped)."""
    root, truth = _project(tmp_path)
    run = Project(root).run(until="fit")
    with Project(root).open_store() as store:
        for item in run.item_ids[:4]:
            store.add_annotation(run.dataset_id, item, "ann", truth[str(item)], origin="review")
    _answer_batches(root, truth, 1, 10, random_share=0.5)
    metrics = Project(root).run(until="fit").metrics["label_model"]
    assert metrics["gold_sampling"] == "weighted"
    assert metrics["gold_weighting"]["n_random_checks"] == 5
    assert metrics["gold_weighting"]["n_weighted"] == 4 + 5  # the old answers and the checks; the picks weigh 0


@pytest.mark.parametrize("value, expected", [(1.5, "a number in [0, 1]"), (-0.1, "a number in [0, 1]"),
                                             ('"often"', "a number")])
def test_random_share_is_validated(tmp_path: Path, value: object, expected: str) -> None:
    """A share outside [0, 1] or not a number is refused, naming the key, what was expected and what came."""
    root, _ = _project(tmp_path, f"random_share = {value}")
    with pytest.raises(ValidationError, match=r"query\.random_share: expected " + expected.replace("[", r"\[")):
        load_config(root)


def test_random_share_default_and_off(tmp_path: Path) -> None:
    """Unset, the project's share is 0.2; 0 is accepted (it turns the checks off)."""
    from weaklab.pipeline.queue_checks import DEFAULT_RANDOM_SHARE, queue_random_share

    root, _ = _project(tmp_path)
    run = Project(root).run(until="apply")
    with Project(root).open_store(read_only=True) as store:
        assert queue_random_share(store, run.dataset_id) == DEFAULT_RANDOM_SHARE == 0.2
    config = root / "weaklab.toml"
    config.write_text(config.read_text().replace("[query]\n", "[query]\nrandom_share = 0\n"))
    with Project(root).open_store(read_only=True) as store:
        assert queue_random_share(store, run.dataset_id) == 0.0
    assert np.isclose(load_config(root).get("query", "random_share"), 0.0)


def test_label_studio_batches_record_their_random_checks_without_telling_the_tasks(tmp_path: Path) -> None:
    """A Label Studio batch of 10 with share 0.5 holds 5 random checks, recorded with the free-item count; the task
    file says nothing of them."""
    from weaklab.interop.labelstudio import export_label_studio

    root, _ = _project(tmp_path)
    run = Project(root).run(until="fit")
    with Project(root).open_store() as store:
        export_label_studio(store, run.run_id, root / "tasks.json", limit=10, random_share=0.5, random_state=0)
        slots = store.queue_slots(run.dataset_id)
    assert len(slots) == 10 and slots["at_random"].sum() == 5 and set(slots["queue"]) == {"label_studio"}
    assert slots["pool_left"].iloc[0] > 10 and "random" not in (root / "tasks.json").read_text().lower()


def test_an_answer_changed_after_a_check_still_counts_from_when_it_was_first_given(tmp_path: Path) -> None:
    """An item answered before a round of checks left the pool then: re-answering it later (a newer current answer)
    does not make it count as answered after the round (it keeps its weight)."""
    root, truth = _project(tmp_path)
    run = Project(root).run(until="fit")
    early = run.item_ids[0]
    with Project(root).open_store() as store:
        store.add_annotation(run.dataset_id, early, "ann", "HAM", origin="review")
    _answer_batches(root, truth, 1, 4, random_share=1.0)
    with Project(root).open_store() as store:
        store.add_annotation(run.dataset_id, early, "ann", "SPAM", origin="review")  # supersedes the first answer
    weighting = Project(root).run(until="fit").metrics["label_model"]["gold_weighting"]
    assert weighting["n_random_checks"] == 4 and weighting["n_weighted"] == 5


@pytest.mark.parametrize("n", [-1, -2, 2.5, True])
def test_slot_counts_are_validated(n: object) -> None:
    """A negative, fractional or bool number of slots is an error naming n: n_random_checks(-1, 0.2) gave -1 checks
    (or 0) and interleave_checks(..., -2, ...) numpy's 'negative dimensions' error."""
    from weaklab.pipeline.queue_checks import interleave_checks, n_random_checks

    for seed in range(5):
        with pytest.raises(ValidationError, match=r"^n: expected an integer >= 0"):
            n_random_checks(n, 0.2, random_state=seed)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"^n: expected an integer >= 0"):
        interleave_checks(list("abc"), list("abc"), n, 0.5, random_state=0)  # type: ignore[arg-type]


def test_terminal_batches_are_seeded_from_the_store(tmp_path: Path) -> None:
    """Without random_state a terminal batch's checks are seeded from the store: a copy of the store draws the same
    batch, and a recorded batch moves the seed on (the next batch draws other checks)."""
    import shutil

    root, _ = _project(tmp_path / "project")
    run = Project(root).run(until="fit")
    folder = root / ".weaklab"
    shutil.copytree(folder, tmp_path / "copy")
    batches = []
    for path in (folder / "weaklab.duckdb", tmp_path / "copy" / "weaklab.duckdb", folder / "weaklab.duckdb"):
        from weaklab.store import Store

        with Store(path) as store:
            review_batch(store, run.run_id, limit=20, random_share=0.5, queue="terminal")
            slots = store.queue_slots(run.dataset_id)
        batches.append(slots[slots["round_id"] == slots["round_id"].max()][["item_id", "at_random"]]
                       .astype(str).values.tolist())
    assert batches[0] == batches[1] and batches[2] != batches[0]


@pytest.mark.parametrize("value, expected", [("-1", "an integer >= 0"), ("1.5", "an integer")])
def test_queue_random_state_is_validated(tmp_path: Path, value: str, expected: str) -> None:
    """``[query].random_state`` must be an integer >= 0, named in the error with what came."""
    root, _ = _project(tmp_path, f"random_state = {value}")
    with pytest.raises(ValidationError, match=r"query\.random_state: expected " + expected):
        load_config(root)


def test_skipped_checks_are_counted_and_the_rounds_answered_checks_stand_for_them(tmp_path: Path) -> None:
    """A terminal batch of 10 with 5 checks, 2 of them skipped: the fit counts 3 answered checks and 2 skipped (rate
    0.4) and says so in its answers line; the 3 answered checks of the round stand together for all the items free
    at its draw, as the 5 would have, each for a third of them."""
    from weaklab.pipeline.fit_gold import answers_fit_lines
    from weaklab.pipeline.queue_checks import answer_gold_weights

    root, truth = _project(tmp_path, "random_share = 0.5")
    run = Project(root).run(until="fit")
    with Project(root).open_store() as store:
        items, _ = review_batch(store, run.run_id, limit=10, queue="terminal")
        slots = store.queue_slots(run.dataset_id)
        checks = slots.loc[slots["at_random"], "item_id"].astype(str).tolist()
        skipped = set(checks[:2])
        for item in items:
            label = None if str(item.item_id) in skipped else truth[str(item.item_id)]
            store.add_annotation(run.dataset_id, item.item_id, "oracle", label, origin="terminal")
    assert len(checks) == 5
    metrics = Project(root).run(until="fit").metrics["label_model"]
    weighting = metrics["gold_weighting"]
    assert (weighting["n_random_checks"], weighting["n_skipped_checks"], weighting["check_skip_rate"]) == (3, 2, 0.4)
    assert "2 random check(s) skipped (40% of those answered or skipped)" in answers_fit_lines(metrics)[0]
    frame = pd.read_csv(root / "data" / "comments.csv")
    ids = frame["comment_id"].to_numpy()
    names = load_config(root).class_names
    gold = np.full(len(ids), -1)
    for row, item in enumerate(ids.astype(str)):
        if item in truth and item in {str(i.item_id) for i in items} - skipped:
            gold[row] = names.index(truth[item])
    with Project(root).open_store(read_only=True) as store:
        found = answer_gold_weights(store, run.dataset_id, ids, gold, np.zeros(len(ids), dtype=bool), len(ids))
    answered_checks = np.isin(ids.astype(str), list(set(checks) - skipped))
    w = found.weights[answered_checks]
    assert np.allclose(w, w[0]) and np.isclose(w.sum(), slots["pool_left"].max())
