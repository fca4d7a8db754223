"""A new user's project whose text column is ``headline`` and whose classes are its own: every command uses them."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from weaklab.cli import main
from weaklab.data import load_youtube_spam

CLASSES = ["legit", "junk"]
CONFIG = """\
[project]
name = "news"

[data]
path = "data/news.csv"
id_column = "story"
text_field = "headline"
gold_column = "verdict"
split_column = "part"

[labels]
classes = ["legit", "junk"]

[lfs]
module = "lfs.py"

[label_model]
name = "MajorityVote"

[end_model]
name = "tfidf_logreg"
"""
LFS = """\
from weaklab import ABSTAIN, keyword_lf, labeling_function, regex_lf

LEGIT, JUNK = 0, 1


@labeling_function(vectorized=True)
def short(df):
    return (df["headline"].str.len() < 20).map({True: LEGIT, False: ABSTAIN}).to_numpy()


lfs = [
    keyword_lf(["subscribe", "my channel", "check out"], JUNK, name="kw_junk"),
    keyword_lf(["song", "love", "music"], LEGIT, name="kw_legit"),
    regex_lf(r"https?://", JUNK, name="re_link"),
    short,
]
"""


def _invoke(*args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), input=input)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A 240-item project (headline, story ids, verdict gold on the dev part), fitted and trained."""
    root = tmp_path_factory.mktemp("news")
    comments = load_youtube_spam().iloc[:240]
    rng = np.random.default_rng(0)
    dev = rng.random(len(comments)) < 0.25
    frame = pd.DataFrame({"story": comments["comment_id"], "headline": comments["text"],
                          "verdict": np.where(dev, np.array(CLASSES)[comments["label"]], ""),
                          "part": np.where(dev, "dev", "train")})
    (root / "data").mkdir()
    frame.to_csv(root / "data" / "news.csv", index=False)
    (root / "weaklab.toml").write_text(CONFIG)
    (root / "lfs.py").write_text(LFS)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        out = _invoke("train", "--json")
    assert out.exit_code == 0, out.output
    return root, frame


@pytest.fixture
def cwd(project, monkeypatch):
    monkeypatch.chdir(project[0])
    return project


def test_templates_read_the_projects_text_field(cwd):
    """keyword_lf/regex_lf built in the project's LF module without field= vote on the headline column."""
    runs = json.loads(_invoke("runs", "--json").stdout)
    story = json.loads(_invoke("explain", str(runs[0]["item_ids"][0]), "--json").stdout)
    assert {v["source"] for v in story["votes"]} <= {"kw_junk", "kw_legit", "re_link", "short"}
    fit = json.loads(_invoke("fit", "--json").stdout)
    coverage = {s["source"]: s["coverage"] for s in fit["sources"]}
    assert coverage["kw_junk"] > 0.05 and coverage["kw_legit"] > 0.05 and coverage["re_link"] > 0.0


def test_lf_reading_a_missing_column_names_the_projects_text_field(cwd, tmp_path):
    """An LF that insists on field='text' gets an error naming the missing column and the text field to use."""
    root, _ = cwd
    original = (root / "lfs.py").read_text()
    try:
        (root / "lfs.py").write_text(original.replace('name="kw_junk")', 'name="kw_junk", field="text")'))
        out = _invoke("apply")
        assert out.exit_code == 1
        assert "'kw_junk'" in out.output and "'text'" in out.output and "text_field" in out.output
        assert "field='headline'" in out.output
    finally:
        (root / "lfs.py").write_text(original)


def test_annotate_export_uses_the_headline_and_own_classes(cwd, tmp_path):
    """annotate export needs no --text-field: tasks carry the headline, the config lists legit/junk."""
    out = _invoke("annotate", "export", "-o", str(tmp_path / "batch.json"), "--limit", "30")
    assert out.exit_code == 0, out.output
    tasks = json.loads((tmp_path / "batch.json").read_text())
    assert set(tasks[0]["data"]) == {"headline", "item_id"} and tasks[0]["data"]["headline"]
    config = (tmp_path / "batch.label_config.xml").read_text()
    assert 'value="$headline"' in config and '"legit"' in config and '"junk"' in config
    choices = {p["result"][0]["value"]["choices"][0] for t in tasks for p in t.get("predictions", [])}
    assert choices <= set(CLASSES)


def test_diff_shows_class_names(cwd):
    """diff prints and returns the project's class names, not class ids."""
    root, _ = cwd
    original = (root / "lfs.py").read_text()
    try:
        (root / "lfs.py").write_text(original.replace('["song", "love", "music"]', '["song"]'))
        assert _invoke("fit").exit_code == 0
        runs = json.loads(_invoke("runs", "--json").stdout)
        a, b = runs[1]["run_id"], runs[0]["run_id"]
        data = json.loads(_invoke("diff", str(a), str(b), "--json").stdout)
        assert data["n_changed"] > 0 and data["class_names"] == CLASSES
        assert {i["class_a"] for i in data["items"]} | {i["class_b"] for i in data["items"]} <= {*CLASSES, None}
        table = _invoke("diff", str(a), str(b)).output
        assert "legit" in table or "junk" in table
    finally:
        (root / "lfs.py").write_text(original)


def test_dashboard_shows_headlines_class_names_and_whole_numbers(cwd):
    """Review queue and label issues show the item's headline; the runs page prints counts and times plainly."""
    pytest.importorskip("fastapi")
    import re

    from fastapi.testclient import TestClient

    from weaklab.dashboard import create_app
    from weaklab.store import Store

    root, frame = cwd
    store_path = root / ".weaklab" / "weaklab.duckdb"
    with Store(store_path) as store:
        run = store.latest_run_id()
        ids = frame["story"].to_numpy(dtype=object)[:3]
        store.add_label_issues(run, ids, method="confident_learning", given=np.array([0, 0, 1]),
                               suggested=np.array([1, 1, 0]), score=np.array([0.1, 0.2, 0.3]))
    headlines = dict(zip(frame["story"], frame["headline"]))
    with TestClient(create_app(store_path, annotator_default="ann"), base_url="http://127.0.0.1") as client:
        review = client.get("/review").text
        assert "no text recorded" not in review
        shown = re.search(r'data-item="([^"]+)"', review)
        issues = client.get("/issues").text
        runs = client.get("/runs").text
    assert any(_html(headlines[i])[:40] in issues for i in ids)
    assert "junk" in issues and "legit" in issues
    assert shown is not None
    assert f'<blockquote id="item-text">{_html(headlines[shown.group(1)])}</blockquote>' in review
    assert re.search(r"n_train = \d[\d,]*<", runs) and not re.search(r"n_train = [\d,]+\.\d", runs)
    assert not re.search(r"\d{2}:\d{2}:\d{2}\.\d", runs)


def _html(text: str) -> str:
    from markupsafe import escape  # what the dashboard's templates escape with

    return str(escape(text))


def test_terminal_annotate_answers_skips_undoes_and_quits(cwd):
    """`weaklab annotate` shows the headline, votes and soft label; 1..k answer, s skips, u undoes, q quits."""
    from weaklab.store import Store

    root, frame = cwd
    headlines = dict(zip(frame["story"], frame["headline"]))
    store_path = root / ".weaklab" / "weaklab.duckdb"
    with Store(store_path, read_only=True) as store:
        before = len(store.annotations(1))
    # answer junk, skip, undo the skip, answer legit, answer junk then undo it, quit
    out = _invoke("annotate", "--annotator", "tester", "--limit", "5", input="2\ns\nu\n1\n2\nu\nq\n")
    assert out.exit_code == 0, out.output
    shown = [line.split("item ", 1)[1].split()[0] for line in out.output.splitlines() if "] item " in line]
    first, second = shown[0], shown[1]
    assert headlines[first][:30] in out.output and "soft label:" in out.output and "votes:" in out.output
    assert "1 legit" in out.output and "2 junk" in out.output
    assert "Saved 2 answer(s) as tester" in out.output
    with Store(store_path, read_only=True) as store:
        mine = store.annotations(1, annotator="tester")
    assert len(mine) == 2 and len(mine) == len(store_after(store_path)) - before
    assert dict(zip(mine["item_id"].astype(str), mine["label"])) == {first: 1, second: 0}
    assert set(mine["origin"]) == {"terminal"}
    again = _invoke("annotate", "--annotator", "tester", "--limit", "3", input="")  # EOF ends the session
    assert again.exit_code == 0 and "Saved 0 answer(s)" in again.output
    assert f"item {first} " not in again.output and f"item {second} " not in again.output  # answered: not asked again


def test_terminal_annotate_records_skips_as_the_store_does(cwd):
    """A skip in `weaklab annotate` is stored as every skip is (no label, status 'skipped', origin 'terminal'):
    not gold, not offered again; an undone skip is not stored."""
    from weaklab.store import Store

    root, _ = cwd
    _no_random_checks(root / "weaklab.toml")  # the queue in review order only: which item comes next is known
    store_path = root / ".weaklab" / "weaklab.duckdb"
    # skip, answer legit, skip, skip then undo that skip, quit
    out = _invoke("annotate", "--annotator", "skipper", "--limit", "5", input="s\n1\ns\ns\nu\nq\n")
    assert out.exit_code == 0, out.output
    shown = [line.split("item ", 1)[1].split()[0] for line in out.output.splitlines() if "] item " in line]
    assert len(shown) == 6 and shown[3] == shown[5]  # undoing the skip of the 4th item shows it again
    assert "Saved 1 answer(s) as skipper (2 skipped)." in out.output
    with Store(store_path, read_only=True) as store:
        mine = store.annotations(1, annotator="skipper")
        labels = store.human_labels(1)
    labels.index = labels["item_id"].astype(str)
    recorded = dict(zip(mine["item_id"].astype(str), mine["status"]))
    assert recorded == {shown[0]: "skipped", shown[1]: "answered", shown[2]: "skipped"}
    assert set(mine["origin"]) == {"terminal"} and mine.loc[mine["status"] == "skipped", "label"].isna().all()
    assert labels.loc[shown[0], "status"] == "skipped" and labels.loc[shown[1], "class_name"] == "legit"
    again = _invoke("annotate", "--annotator", "someone", "--limit", "3", input="")
    offered = [line.split("item ", 1)[1].split()[0] for line in again.output.splitlines() if "] item " in line]
    assert offered[0] == shown[3] and not {shown[0], shown[1], shown[2]} & set(offered)  # not offered again


def _no_random_checks(config) -> None:
    text = config.read_text()
    config.write_text(text.replace("[query]\n", "[query]\nrandom_share = 0\n") if "[query]\n" in text
                      else text + "\n[query]\nrandom_share = 0\n")


def store_after(store_path):
    from weaklab.store import Store

    with Store(store_path, read_only=True) as store:
        return store.annotations(1)


def test_annotate_export_gives_uncovered_items_no_prefilled_label(cwd, tmp_path):
    """Items no source voted on are exported without a pre-annotation (no made-up argmax of a prior)."""
    from weaklab.store import Store

    root, _ = cwd
    out = _invoke("annotate", "export", "-o", str(tmp_path / "all.json"))
    assert out.exit_code == 0, out.output
    tasks = {t["data"]["item_id"]: t for t in json.loads((tmp_path / "all.json").read_text())}
    with Store(root / ".weaklab" / "weaklab.duckdb", read_only=True) as store:
        run = store.latest_run_id()
        stories = {i: store.explain(i, run) for i in tasks}
    uncovered = {i for i, story in stories.items() if not story["votes"]}
    tied = {i for i, story in stories.items() if np.sum(np.isclose(story["posterior"]["proba"],
                                                                    max(story["posterior"]["proba"]))) > 1}
    assert uncovered and all("predictions" not in tasks[i] for i in uncovered | tied)
    assert all("predictions" in t for i, t in tasks.items() if i not in uncovered | tied)
    assert len(tasks) - len(uncovered | tied) > 10


def test_report_shows_the_headlines_of_label_issues(cwd, tmp_path):
    """The HTML report's label-issues table carries each item's headline and the project's class names."""
    import re

    from weaklab.store import Store

    root, frame = cwd
    plain = frame[frame["headline"].str.fullmatch(r"[A-Za-z0-9 ]{12,80}")]
    ids = plain["story"].to_numpy(dtype=object)[:2]
    with Store(root / ".weaklab" / "weaklab.duckdb") as store:
        run = store.latest_run_id()
        store.add_label_issues(run, ids, method="confident_learning", given=np.array([0, 1]),
                               suggested=np.array([1, 0]), score=np.array([0.05, 0.06]))
    out = _invoke("report", "--run", str(run), "-o", str(tmp_path / "r.html"))
    assert out.exit_code == 0, out.output
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    section = html[html.index('id="label-issues"'):]
    for headline in plain["headline"].iloc[:2]:
        assert headline in section
    assert re.search(r"legit \(0\)", section) and re.search(r"junk \(1\)", section)


@pytest.mark.skipif(not hasattr(__import__("signal"), "SIGHUP"), reason="POSIX signals")
@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP"])
def test_terminal_annotate_saves_its_answers_when_the_process_is_stopped(cwd, signame, annotate_process):
    """`kill` (SIGTERM) or a closed terminal (SIGHUP) ends `weaklab annotate` with the answers given so far saved."""
    import signal

    from weaklab.store import Store

    root, _ = cwd
    annotator = f"stopped-{signame.lower()}"
    start, answer = annotate_process
    child = start(root, annotator, 5)
    try:
        shown = answer(child, ("2", "1"))  # two answers, then the third item waits for its answer
        child.send_signal(getattr(signal, signame))
        out, err = child.communicate(timeout=60)
    finally:
        child.kill()
    assert child.returncode == 128 + getattr(signal, signame), err
    assert f"Stopped ({signame})" in out and f"Saved 2 answer(s) as {annotator}" in out
    with Store(root / ".weaklab" / "weaklab.duckdb", read_only=True) as store:
        mine = store.annotations(1, annotator=annotator)
    assert dict(zip(mine["item_id"].astype(str), mine["label"])) == {shown[0]: 1, shown[1]: 0}
