"""A new user's project (``msg_no``, ``message_body``, gold in ``truth`` on the ``dev`` part): the review queues
of `weaklab annotate` and the Label Studio export never offer an item that holds gold, unless asked to."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from weaklab.cli import main

EXTRA_TOML = """
[label_model]
name = "MajorityVote"
"""
LFS = """\
from weaklab import keyword_lf, regex_lf

FINE, JUNK = 0, 1
lfs = [keyword_lf(["subscribe", "my channel", "check out"], JUNK, name="kw_junk"),
       keyword_lf(["song", "love", "music"], FINE, name="kw_fine"),
       regex_lf(r"https?://", JUNK, name="re_link")]
"""
N_ITEMS = 60


def _invoke(*args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), input=input)


def _shown(output: str) -> list[str]:
    return [line.split("item ", 1)[1].split()[0] for line in output.splitlines() if "] item " in line]


@pytest.fixture
def project(tmp_path, monkeypatch, msgs_project_writer):
    """60 messages, a third of them dev items with gold in ``truth``; fitted."""
    gold = msgs_project_writer(tmp_path, N_ITEMS, 3, extra_toml=EXTRA_TOML, lfs=LFS)
    monkeypatch.chdir(tmp_path)
    out = _invoke("fit")
    assert out.exit_code == 0, out.output
    return tmp_path, gold


def test_annotate_offers_no_gold_item_and_says_how_many_it_leaves_out(project):
    """Skipping through the whole terminal queue shows every item without gold once and none with gold; the
    session says how many items hold gold (naming the column) and how to offer them."""
    _, gold = project
    out = _invoke("annotate", "--annotator", "newbie", "--limit", "500", input="s\n" * N_ITEMS)
    assert out.exit_code == 0, out.output
    shown = _shown(out.output)
    assert len(shown) == N_ITEMS - len(gold) and not set(shown) & gold
    assert f"{len(gold)} items hold gold (column 'truth') and are not offered" in " ".join(out.output.split())
    assert "--include-gold" in out.output
    rest = _invoke("annotate", "--annotator", "newbie", input="")
    assert "Nothing to review in run 1: every item has a human answer or holds gold." in " ".join(rest.output.split())


def test_annotate_include_gold_offers_the_gold_items_to_recheck(project):
    """--include-gold offers the items that hold gold too, and says so."""
    _, gold = project
    out = _invoke("annotate", "--annotator", "checker", "--limit", "500", "--include-gold", input="s\n" * N_ITEMS)
    assert out.exit_code == 0, out.output
    shown = _shown(out.output)
    assert len(shown) == N_ITEMS and set(shown) >= gold
    assert "are offered too (--include-gold)" in out.output and "not offered" not in out.output


def test_label_studio_export_leaves_gold_out_unless_include_gold(project, tmp_path):
    """The Label Studio batch leaves the gold items out (counted) and --include-gold sends them too."""
    _, gold = project
    out = _invoke("annotate", "export", "-o", str(tmp_path / "a.json"))
    assert out.exit_code == 0, out.output
    sent = {t["data"]["item_id"] for t in json.loads((tmp_path / "a.json").read_text())}
    assert not sent & gold and f"{len(gold)} with gold in the data file" in out.output
    out = _invoke("annotate", "export", "-o", str(tmp_path / "b.json"), "--include-pending", "--include-gold")
    assert out.exit_code == 0, out.output
    sent = {t["data"]["item_id"] for t in json.loads((tmp_path / "b.json").read_text())}
    assert sent >= gold and len(sent) == N_ITEMS


def test_answers_given_in_annotate_reach_the_fit_weighted_by_its_random_checks(project):
    """`weaklab annotate` offers the least confident items first but 1 in 5 slots (the default share) drawn at
    random, recorded in the store: the next fit takes its answers weighted (an unbiased sample of the pool), not
    as an active (biased) sample that the label model must leave out."""
    out = _invoke("annotate", "--annotator", "newbie", "--limit", "5", input="1\n2\n1\n2\n1\n")
    assert out.exit_code == 0, out.output
    fitted = _invoke("fit", "--json")
    assert fitted.exit_code == 0, fitted.output
    runs = json.loads(_invoke("runs", "--json").output)
    label_model = runs[0]["metrics"]["label_model"]
    assert label_model["n_gold_for_fit"] == 5
    assert label_model["gold_sampling"] == "weighted" and label_model["gold_weighting"]["n_random_checks"] == 1
