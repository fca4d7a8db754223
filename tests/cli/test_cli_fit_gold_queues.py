"""`weaklab annotate` and `weaklab annotate export` with [data].fit_gold: items whose gold fed the run's fit are
held back as gold (counted in what the session says), and without fit_gold the queue is what it was."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from weaklab.cli import main
from weaklab.pipeline import load_config
from weaklab.pipeline.loading import fit_gold_rows, item_ids_of, load_data, run_gold

N_ITEMS, N_FIT = 60, 10


def _invoke(*args: str, input: str | None = None):
    out = CliRunner().invoke(main, list(args), input=input)
    assert out.exit_code == 0, out.output
    return out


def _shown(output: str) -> set[str]:
    return {line.split("item ", 1)[1].split()[0] for line in output.splitlines() if "] item " in line}


@pytest.fixture
def fitted(tmp_path, monkeypatch):
    """`weaklab init --items 60` (every row holds gold), MajorityVote, fitted with the fit_gold value given."""
    def fit(fit_gold: str | None) -> tuple[set[str], set[str], set[str]]:
        monkeypatch.chdir(tmp_path)
        _invoke("init", "--items", str(N_ITEMS))
        config = tmp_path / "weaklab.toml"
        text = config.read_text() + '\n[label_model]\nname = "MajorityVote"\n'
        if fit_gold is not None:
            text = text.replace("# fit_gold = 50 ", f"fit_gold = {fit_gold} ")
        config.write_text(text.replace('name = "tfidf_logreg"', 'name = "none"'))
        _invoke("fit")
        settings = load_config(tmp_path)
        frame = load_data(settings)
        gold, dev = run_gold(settings, frame)
        ids = item_ids_of(settings, frame).astype(str)
        drawn = fit_gold_rows(settings, frame, gold, dev)  # the run's seed: the project's default, 0
        return set(ids.tolist()), set(ids[dev].tolist()), set(ids[drawn].tolist())
    return fit


def test_annotate_and_its_label_studio_batch_leave_out_the_items_whose_gold_fed_the_fit(fitted, tmp_path):
    """With fit_gold = 10, skipping through the whole terminal queue shows every item outside dev and the draw
    once, none of the 10 drawn; the session counts them with the dev items; a Label Studio batch sends none."""
    everything, dev, drawn = fitted(str(N_FIT))
    assert len(drawn) == N_FIT and not drawn & dev
    batch = _invoke("annotate", "export", "-o", str(tmp_path / "tasks.json"))
    sent = {t["data"]["item_id"] for t in json.loads((tmp_path / "tasks.json").read_text())}
    assert sent == everything - dev - drawn and f"{len(dev) + N_FIT} with gold in the data file" in batch.output
    out = _invoke("annotate", "--annotator", "newbie", "--limit", "500", input="s\n" * N_ITEMS)
    assert _shown(out.output) == everything - dev - drawn
    assert f"{len(dev) + N_FIT} items hold gold (column 'label') and are not offered" in " ".join(out.output.split())


def test_without_fit_gold_annotate_offers_every_item_outside_dev(fitted):
    """fit_gold unset: the terminal queue offers every item outside the dev split, as before fit_gold."""
    everything, dev, drawn = fitted(None)
    assert not drawn
    out = _invoke("annotate", "--annotator", "newbie", "--limit", "500", input="s\n" * N_ITEMS)
    assert _shown(out.output) == everything - dev


def test_after_editing_the_data_file_annotate_and_doctor_keep_to_what_the_fit_had(fitted, tmp_path,
                                                                                   fit_gold_file_edit):
    """Deleting and relabelling drawn rows and shuffling the file after `weaklab fit`: `weaklab annotate` still
    offers none of the 10 items whose gold fed the fit (and every other item of the run), and `weaklab doctor`
    names the deleted items and changed labels, exits 0 and lists them under "fit_gold" with --json."""
    everything, dev, drawn = fitted(str(N_FIT))
    edit = fit_gold_file_edit(load_config(tmp_path), drawn, dev)
    out = _invoke("annotate", "--annotator", "newbie", "--limit", "500", input="s\n" * N_ITEMS)
    assert _shown(out.output) == everything - dev - drawn
    text = " ".join(_invoke("doctor").output.split())
    assert "fit gold, changed: run 1" in text and "2 gone from the file" in text and "healthy" in text
    assert edit["flipped"][0] in text
    report = json.loads(_invoke("doctor", "--json").output)
    assert [c["status"] for c in report["fit_gold"]] == ["changed"] and report["healthy"]
    assert set(report["fit_gold"][0]["gone"]) == edit["deleted"]


def test_annotate_says_when_a_runs_fit_gold_is_re_derived(fitted, tmp_path):
    """A run recorded before weaklab kept fit gold by id (its set removed here): `weaklab annotate` still holds the
    10 drawn items back and says, with the option's name intact, that they are re-derived from the data file."""
    from weaklab.store import connection

    everything, dev, drawn = fitted(str(N_FIT))
    with connection(tmp_path / ".weaklab" / "weaklab.duckdb") as con:
        con.execute("DELETE FROM fit_gold_items")
        con.execute("DELETE FROM fit_gold_sets")
    out = _invoke("annotate", "--annotator", "newbie", "--limit", "500", input="s\n" * N_ITEMS)
    assert _shown(out.output) == everything - dev - drawn
    text = " ".join(out.output.split())
    assert f"re-derived from its recorded [data].fit_gold = {N_FIT} and seed 0" in text
