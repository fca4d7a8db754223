"""Crowd answers in a project (``[crowd]`` in weaklab.toml): workers are sources beside or instead of LFs."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from weaklab.cli import main
from weaklab.data import load_youtube_spam
from weaklab.errors import ValidationError
from weaklab.models import MajorityVote
from weaklab.pipeline import Project, load_config

CLASSES = ["HAM", "SPAM"]
BASE = """\
[data]
path = "items.csv"
id_column = "cid"
text_field = "text"
gold_column = "gold"
split_column = "split"

[labels]
classes = ["HAM", "SPAM"]

[end_model]
name = "tfidf_logreg"
"""
CROWD = """
[crowd]
path = "answers.csv"
item_column = "comment"
worker_column = "annotator"
label_column = "answer"
"""
LFS = """\
from weaklab import keyword_lf, regex_lf

lfs = [keyword_lf(["subscribe", "my channel", "check out"], "SPAM", name="kw_spam"),
       regex_lf(r"https?://", "SPAM", name="re_link"), keyword_lf(["song", "love"], "HAM", name="kw_ham")]
"""
N_ITEMS, N_WORKERS, UNANSWERED = 240, 12, 9  # every 9th item gets no answer


def _invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def _answers(items: pd.DataFrame, *, by_id: bool = False, seed: int = 0) -> pd.DataFrame:
    """Three answers per answered item from workers of accuracy 0.55..0.95 (class names, or ids with by_id)."""
    rng = np.random.default_rng(seed)
    accuracy = np.linspace(0.55, 0.95, N_WORKERS)
    rows = []
    for i, (cid, truth) in enumerate(zip(items["cid"], items["truth"])):
        if i % UNANSWERED == 0:
            continue
        for w in rng.choice(N_WORKERS, 3, replace=False):
            label = truth if rng.random() < accuracy[w] else 1 - truth
            rows.append((cid, f"w{w:02d}", label if by_id else CLASSES[label]))
    return pd.DataFrame(rows, columns=["comment", "annotator", "answer"])


def _project(root, *, lfs: bool = False, crowd: str = CROWD, answers: pd.DataFrame | None = None):
    comments = load_youtube_spam().iloc[:N_ITEMS].reset_index(drop=True)
    dev = np.arange(N_ITEMS) % 4 == 0
    items = pd.DataFrame({"cid": comments["comment_id"], "text": comments["text"],
                          "gold": np.where(dev, np.array(CLASSES)[comments["label"]], ""),
                          "split": np.where(dev, "dev", "train"), "truth": comments["label"]})
    items.drop(columns="truth").to_csv(root / "items.csv", index=False)
    (answers if answers is not None else _answers(items)).to_csv(root / "answers.csv", index=False)
    text = BASE + crowd
    if lfs:
        (root / "lfs.py").write_text(LFS)
        text += '\n[lfs]\nmodule = "lfs.py"\n'
    (root / "weaklab.toml").write_text(text)
    return items


def _config_error(root, text: str) -> str:
    (root / "weaklab.toml").write_text(text)
    with pytest.raises(ValidationError) as info:
        load_config(root)
    return str(info.value)


# ---------------------------------------------------------------------------------------------- config
def test_a_project_needs_lfs_or_crowd_answers(tmp_path):
    """Without [lfs] and [crowd] the file is refused naming lfs.module; [crowd] without a path names crowd.path."""
    message = _config_error(tmp_path, BASE)
    assert "lfs.module" in message and "[crowd]" in message
    message = _config_error(tmp_path, BASE + "\n[crowd]\nitem_column = \"comment\"\n")
    assert "crowd.path" in message


@pytest.mark.parametrize("extra, where, expected", [
    ('\n[engine]\nkind = "dask"\n', "crowd", "engine].kind"),
    ('\n[task]\nkind = "tagging"\nentity_types = ["X"]\n', "crowd", "classification"),
    ('duplicates = "keep"\n', "crowd.duplicates", "'split'"),
    ('unknown_items = "skip"\n', "crowd.unknown_items", "'drop'"),
    ('workers = "a"\n', "crowd.workers", "worker_column"),
])
def test_crowd_table_is_validated(tmp_path, extra, where, expected):
    """Bad [crowd] keys and crowd answers on the Dask engine or in a tagging project name the key and the fix."""
    message = _config_error(tmp_path, BASE + CROWD + extra)
    assert f"{where}:" in message and expected in message


# ---------------------------------------------------------------------------------------------- end to end
@pytest.fixture(scope="module")
def crowd_project(tmp_path_factory):
    """A crowd-only project (no [lfs]), trained through the CLI."""
    root = tmp_path_factory.mktemp("crowd")
    items = _project(root)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        out = _invoke("train", "--json")
    assert out.exit_code == 0, out.output
    return root, items, json.loads(out.stdout)


def test_workers_are_the_sources_of_a_crowd_only_project(crowd_project, monkeypatch):
    """fit/train record one source per worker; runs and explain show workers with versions; the matrix is sparse."""
    root, items, trained = crowd_project
    monkeypatch.chdir(root)
    sources = {s["source"] for s in trained["sources"]}
    assert sources == {f"w{w:02d}" for w in range(N_WORKERS)}
    runs = json.loads(_invoke("runs", "--json").stdout)
    assert runs[0]["metrics"]["n_sources"] == N_WORKERS and "end_model" in runs[0]["metrics"]
    answered = str(items["cid"].iloc[1])
    story = json.loads(_invoke("explain", answered, "--json").stdout)
    assert len(story["votes"]) == 3 and all(v["source"].startswith("w") and v["version"] for v in story["votes"])
    lonely = json.loads(_invoke("explain", str(items["cid"].iloc[0]), "--json").stdout)
    assert lonely["votes"] == []  # nobody answered item 0: every worker abstains
    with Project(root).open_store(read_only=True) as store:
        L = store.load_matrix(int(runs[0]["metrics"]["application_id"]))
    assert L.is_sparse and L.nnz == 3 * (N_ITEMS - len(range(0, N_ITEMS, UNANSWERED)))


def test_label_model_beats_or_matches_majority_vote_on_the_dev_gold(crowd_project):
    """The default label model's dev accuracy is at least majority vote's on the same votes and dev items."""
    root, items, trained = crowd_project
    project = Project(root)
    with project.open_store(read_only=True) as store:
        L = store.load_matrix(int(trained["metrics"]["application_id"]))
    dev = (np.arange(N_ITEMS) % 4 == 0) & (L.votes_per_item() > 0)
    mv = MajorityVote().fit(L).predict(L, tie_break="random", random_state=0)
    mv_accuracy = float((mv[dev] == items["truth"].to_numpy()[dev]).mean())
    assert trained["metrics"]["label_model"]["accuracy_covered"] >= mv_accuracy - 1e-9


def test_a_changed_worker_gets_a_new_version_and_the_others_keep_theirs(tmp_path, monkeypatch):
    """Editing one worker's answers changes that worker's version only; an unchanged file reuses the matrix."""
    _project(tmp_path)
    monkeypatch.chdir(tmp_path)
    first = Project(tmp_path).run(until="apply")
    again = Project(tmp_path).run(until="apply")
    assert again.reused["apply"]
    answers = pd.read_csv(tmp_path / "answers.csv")
    flip = answers.index[answers["annotator"] == "w03"][0]
    answers.loc[flip, "answer"] = "HAM" if answers.loc[flip, "answer"] == "SPAM" else "SPAM"
    answers.to_csv(tmp_path / "answers.csv", index=False)
    changed = Project(tmp_path).run(until="apply")
    assert not changed.reused["apply"]
    with Project(tmp_path).open_store(read_only=True) as store:
        runs = store.runs().set_index("run_id")
    before, after = runs.loc[first.run_id, "config"]["sources"], runs.loc[changed.run_id, "config"]["sources"]
    assert [name for name in before if before[name] != after[name]] == ["w03"]


def test_crowd_and_lfs_vote_side_by_side(tmp_path, monkeypatch):
    """With [lfs] and [crowd] the matrix holds the LFs then the workers; the end model reads the LFs' votes only."""
    _project(tmp_path, lfs=True)
    monkeypatch.chdir(tmp_path)
    out = _invoke("train", "--json")
    assert out.exit_code == 0, out.output
    sources = [s["source"] for s in json.loads(out.stdout)["sources"]]
    assert sources[:3] == ["kw_spam", "re_link", "kw_ham"] and len(sources) == 3 + N_WORKERS
    predicted = _invoke("predict", "items.csv", str(tmp_path / "pred.csv"))
    assert predicted.exit_code == 0, predicted.output
    assert len(pd.read_csv(tmp_path / "pred.csv")) == N_ITEMS


def test_a_worker_named_like_an_lf_needs_a_prefix(tmp_path, monkeypatch):
    """A worker id equal to an LF's name is refused naming source_prefix; with the prefix both are sources."""
    items = _project(tmp_path, lfs=True)
    answers = _answers(items)
    answers.loc[answers["annotator"] == "w00", "annotator"] = "re_link"
    answers.to_csv(tmp_path / "answers.csv", index=False)
    with pytest.raises(ValidationError, match="source_prefix"):
        Project(tmp_path).run(until="apply")
    (tmp_path / "weaklab.toml").write_text(BASE + CROWD + 'source_prefix = "worker:"\n[lfs]\nmodule = "lfs.py"\n')
    result = Project(tmp_path).run(until="apply")
    assert result.metrics["n_sources"] == 3 + N_WORKERS


# ---------------------------------------------------------------------------------------------- answers
def _matrix(root):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return Project(root).recompute_matrix()[0]


def test_answers_as_names_ids_and_renamed_names_are_the_same_votes(tmp_path):
    """Class names, class ids and an old name mapped by [labels.rename] give the same votes."""
    items = _project(tmp_path)
    by_name = _matrix(tmp_path).to_dense()
    _answers(items, by_id=True).to_csv(tmp_path / "answers.csv", index=False)
    assert np.array_equal(_matrix(tmp_path).to_dense(), by_name)
    renamed = _answers(items).replace({"answer": {"SPAM": "junk"}})
    renamed.to_csv(tmp_path / "answers.csv", index=False)
    (tmp_path / "weaklab.toml").write_text(BASE + '\n[labels.rename]\njunk = "SPAM"\n' + CROWD)
    assert np.array_equal(_matrix(tmp_path).to_dense(), by_name)


def test_an_unknown_answer_names_the_file_column_value_and_row(tmp_path):
    """An answer that is neither a class name nor an id is an error naming the file, column, value and row."""
    items = _project(tmp_path)
    answers = _answers(items)
    answers.loc[5, "answer"] = "spam!"
    answers.to_csv(tmp_path / "answers.csv", index=False)
    with pytest.raises(ValidationError) as info:
        _matrix(tmp_path)
    message = str(info.value)
    assert "answers.csv" in message and "'answer'" in message and "'spam!'" in message and "row 5" in message


def test_answers_about_unknown_items_are_an_error_or_dropped_with_a_warning(tmp_path):
    """By default unknown item ids stop the run naming the file, column and examples; drop counts and warns."""
    items = _project(tmp_path)
    answers = _answers(items)
    extra = pd.DataFrame({"comment": ["ghost-1", "ghost-2"], "annotator": ["w01", "w02"], "answer": ["HAM", "SPAM"]})
    pd.concat([answers, extra]).to_csv(tmp_path / "answers.csv", index=False)
    with pytest.raises(ValidationError) as info:
        _matrix(tmp_path)
    message = str(info.value)
    assert "answers.csv" in message and "'comment'" in message and "'ghost-1'" in message and "2 of" in message
    (tmp_path / "weaklab.toml").write_text(BASE + CROWD + 'unknown_items = "drop"\n')
    with pytest.warns(UserWarning, match="2 of"):
        L = Project(tmp_path).recompute_matrix()[0]
    assert L.nnz == len(answers)


def test_numeric_item_ids_match_across_files(tmp_path):
    """Without an id column the items are row numbers; answers naming them as text ("007") match them."""
    items = _project(tmp_path)
    answers = _answers(items)
    position = {cid: i for i, cid in enumerate(items["cid"])}
    answers["comment"] = [f"{position[c]:03d}" for c in answers["comment"]]
    answers.to_csv(tmp_path / "answers.csv", index=False)
    (tmp_path / "weaklab.toml").write_text(BASE.replace('id_column = "cid"\n', "") + CROWD)
    L = _matrix(tmp_path)
    assert L.nnz == len(answers) and L.votes_per_item()[0] == 0 and L.votes_per_item()[1] == 3


def test_repeated_answers_follow_duplicates(tmp_path):
    """A worker answering an item twice is an error by default; duplicates = "split" makes a source "w#2"."""
    items = _project(tmp_path)
    answers = _answers(items)
    pd.concat([answers, answers.iloc[:1]]).to_csv(tmp_path / "answers.csv", index=False)
    with pytest.raises(ValidationError, match="duplicates"):
        _matrix(tmp_path)
    (tmp_path / "weaklab.toml").write_text(BASE + CROWD + 'duplicates = "split"\n')
    L = _matrix(tmp_path)
    assert f"{answers['annotator'].iloc[0]}#2" in L.source_names and L.nnz == len(answers) + 1


def test_init_crowd_example_fits_with_workers_as_sources(tmp_path, monkeypatch):
    """`weaklab init --example crowd` makes a project whose fit sees only workers and beats majority vote's floor."""
    out = _invoke("init", str(tmp_path / "c"), "--example", "crowd", "--items", "200")
    assert out.exit_code == 0, out.output
    monkeypatch.chdir(tmp_path / "c")
    fit = _invoke("fit", "--json")
    assert fit.exit_code == 0, fit.output
    result = json.loads(fit.stdout)
    assert all(s["source"].startswith("worker") for s in result["sources"]) and len(result["sources"]) >= 20
    project = Project(tmp_path / "c")
    with project.open_store(read_only=True) as store:
        L = store.load_matrix(int(result["metrics"]["application_id"]))
    items = pd.read_csv(tmp_path / "c" / "data" / "comments.csv")
    dev = (items["split"] == "dev").to_numpy() & (L.votes_per_item() > 0)
    truth = (items["label"] == "SPAM").to_numpy().astype(int)
    mv = MajorityVote().fit(L).predict(L, tie_break="random", random_state=0)
    assert result["metrics"]["label_model"]["accuracy_covered"] >= float((mv[dev] == truth[dev]).mean()) - 1e-9


def test_generated_lfs_vote_beside_the_workers_of_a_crowd_only_project(tmp_path):
    """A crowd-only project loads the LFs `weaklab generate` wrote (lfs_generated.py) beside its workers."""
    _project(tmp_path)
    (tmp_path / "lfs_generated.py").write_text(LFS)
    result = Project(tmp_path).run(until="apply")
    assert result.metrics["n_sources"] == 3 + N_WORKERS
