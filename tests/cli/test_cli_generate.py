"""`weaklab generate` end to end on a project whose text column is `headline`: write, load, fit."""

from __future__ import annotations

import json

import pandas as pd
from click.testing import CliRunner

from weaklab.cli import main
from weaklab.labeling import apply_lfs
from weaklab.pipeline import load_config
from weaklab.pipeline.loading import load_lfs

WORDS = {"politics": ["election", "senate", "minister"], "sports": ["match", "league", "goal"],
         "tech": ["software", "chip", "startup"]}
CLASSES = ["politics", "sports", "tech"]


def _invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def _stories(root, n_items: int) -> pd.DataFrame:
    """The news project's data scheme with more items: one class word per headline."""
    rows = [{"story_id": f"s{i:03d}", "headline": f"story {i}: the {WORDS[CLASSES[i % 3]][(i // 3) % 3]} of the day",
             "truth": CLASSES[i % 3]} for i in range(n_items)]
    frame = pd.DataFrame(rows)
    frame.to_csv(root / "stories.csv", index=False)
    return frame


def test_generate_writes_an_editable_module_that_fit_uses(news_project, monkeypatch):
    root = news_project
    stories = _stories(root, 120)
    stories.head(60)[["story_id", "truth"]].rename(columns={"story_id": "id", "truth": "label"}).to_csv(
        root / "gold.csv", index=False)
    monkeypatch.chdir(root)

    out = _invoke("generate", "--gold", "gold.csv", "--max-lfs", "6", "--kinds", "keyword,regex,threshold", "--json")
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    assert result["n_gold"] == 60 and 3 <= len(result["lfs"]) <= 6
    source = (root / "lfs_generated.py").read_text(encoding="utf-8")
    assert "field='headline'" in source and "# votes politics: precision" in source
    names = [lf["name"] for lf in result["lfs"]]
    assert all(f"name={n!r}" in source for n in names)
    # the planted class words are found, each voting its own class
    kw = {w: c for c, words in WORDS.items() for w in words}
    voted = {lf["name"].removeprefix("gen_kw_"): lf["label"] for lf in result["lfs"] if lf["kind"] == "keyword"}
    assert voted and all(CLASSES[label] == kw[word] for word, label in voted.items())

    lfs = load_lfs(load_config(root))  # the project's own LFs, then the generated ones (same fingerprints)
    assert [lf.name for lf in lfs][:4] == ["kw_politics", "kw_sports", "kw_tech", "slow_when_asked"]
    assert [lf.name for lf in lfs][4:] == names

    fit = _invoke("fit", "--json")
    assert fit.exit_code == 0, fit.output
    assert set(names) <= set(json.dumps(json.loads(fit.stdout)).split('"'))

    again = _invoke("generate", "--gold", "gold.csv", "--kinds", "keyword")
    assert again.exit_code == 1 and "--force" in again.output
    edited = source.replace(f"name={names[0]!r}", "name='kw_politics'")
    (root / "lfs_generated.py").write_text(edited, encoding="utf-8")
    clash = _invoke("fit")
    assert clash.exit_code == 1 and "lfs_generated.py" in clash.output and "kw_politics" in clash.output


def test_generate_reports_bad_gold_files(news_project, monkeypatch):
    root = news_project
    monkeypatch.chdir(root)
    (root / "gold.csv").write_text("id,label\ns000,politics\nnope,sports\n", encoding="utf-8")
    out = _invoke("generate", "--gold", "gold.csv")
    assert out.exit_code == 1 and "row 3" in out.output and "'nope'" in out.output
    (root / "gold.csv").write_text("id,label\ns000,weather\n", encoding="utf-8")
    out = _invoke("generate", "--gold", "gold.csv")
    assert out.exit_code == 1 and "'weather'" in out.output and "politics" in out.output
    (root / "gold.csv").write_text("story,cls\ns000,politics\n", encoding="utf-8")
    out = _invoke("generate", "--gold", "gold.csv")
    assert out.exit_code == 1 and "'id'" in out.output and "'label'" in out.output and "'cls'" in out.output
    (root / "gold.csv").write_text("id,label\ns000,politics\ns001,sports\n", encoding="utf-8")
    out = _invoke("generate", "--gold", "gold.csv", "--kinds", "keyword")
    assert out.exit_code == 1 and "at least 10" in out.output
    assert not (root / "lfs_generated.py").exists()


def test_a_gold_file_with_the_projects_own_column_names_is_read(news_project, monkeypatch):
    """A newcomer exports gold with their own headers (the id column and the gold column of weaklab.toml)."""
    root = news_project
    stories = _stories(root, 120)
    config = root / "weaklab.toml"
    config.write_text(config.read_text().replace('text_field = "headline"', 'text_field = "headline"\n'
                                                 'gold_column = "truth"'))
    stories.head(60)[["story_id", "truth"]].to_csv(root / "gold.csv", index=False)
    monkeypatch.chdir(root)
    out = _invoke("generate", "--gold", "gold.csv", "--max-lfs", "4", "--kinds", "keyword")
    assert out.exit_code == 0, out.output
    assert "politics" in out.output  # the table names classes, not ids
    (root / "gold.csv").write_text("who,what\ns000,politics\n")
    bad = _invoke("generate", "--gold", "gold.csv", "--force")
    assert bad.exit_code == 1
    assert "'id' or 'story_id'" in bad.output and "'label' or 'truth'" in bad.output and "who" in bad.output


def test_generated_lfs_vote_class_names_so_editing_the_class_list_keeps_their_meaning(news_project, news_classes,
                                                                                      monkeypatch):
    """The module votes the project's class names, not ids: after the classes are reordered and one inserted,
    every generated keyword LF still votes the class of its planted word."""
    root = news_project
    stories = _stories(root, 120)
    stories.head(60)[["story_id", "truth"]].rename(columns={"story_id": "id", "truth": "label"}).to_csv(
        root / "gold.csv", index=False)
    monkeypatch.chdir(root)
    out = _invoke("generate", "--gold", "gold.csv", "--max-lfs", "6", "--kinds", "keyword")
    assert out.exit_code == 0, out.output
    source = (root / "lfs_generated.py").read_text(encoding="utf-8")
    calls = [line for line in source.splitlines() if line.strip().startswith("keyword_lf(")]
    assert calls and all(any(f"], {c!r}, field=" in line for c in CLASSES) for line in calls)
    edited = ["weather", "tech", "politics", "sports"]
    news_classes(root, edited)
    generated = [lf for lf in load_lfs(load_config(root)) if lf.name.startswith("gen_kw_")]
    L, _ = apply_lfs(generated, stories, class_names=edited, progress=False)
    kw = {w: c for c, words in WORDS.items() for w in words}
    for j, lf in enumerate(generated):
        voted = {edited[v] for v in L.to_dense()[:, j] if v >= 0}
        assert voted == {kw[lf.name.removeprefix("gen_kw_")]}
