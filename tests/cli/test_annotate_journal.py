"""Every answer given in `weaklab annotate` is on disk the moment it is given: a process killed with SIGKILL
keeps all of them (in its journal beside the store), and the next session or `weaklab fit` stores them, once,
with the class names they were given as."""

from __future__ import annotations

import signal
from datetime import datetime

import pandas as pd
import pytest
from click.testing import CliRunner

from weaklab.cli import main
from weaklab.pipeline.answer_journal import AnswerJournal, journal_folder, read_journal, recover_journals
from weaklab.store import Store

N_ITEMS = 40

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")


@pytest.fixture
def project(tmp_path, monkeypatch, msgs_project_writer):
    """40 messages (own column names, gold in ``truth`` on every fourth), fitted; the working folder."""
    msgs_project_writer(tmp_path, N_ITEMS, 4)
    monkeypatch.chdir(tmp_path)
    out = CliRunner().invoke(main, ["fit"])
    assert out.exit_code == 0, out.output
    return tmp_path


def _kill_after(annotate_process, root, answers, annotator):
    """Drive a real `python -m weaklab annotate`, give ``answers`` (keys), then SIGKILL it; the items shown."""
    start, answer = annotate_process
    child = start(root, annotator, 30)
    try:
        shown = answer(child, answers)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
    finally:
        child.kill()
    assert child.returncode == -signal.SIGKILL
    return shown


def _mine(root, annotator):
    with Store(root / ".weaklab" / "weaklab.duckdb", read_only=True) as store:
        return store.annotations(1, annotator=annotator)


def test_sigkill_keeps_every_answer_and_the_next_session_stores_them_once(project, annotate_process):
    """Killed with SIGKILL after 3 answers, 1 undone answer and a skip (fewer than a save's 10), the session's
    journal holds all of them; the next `weaklab annotate` stores them (by class name) and removes the journal;
    nothing is stored twice."""
    shown = _kill_after(annotate_process, project, ["2", "1", "2", "u", "s", "1"], "killed")
    assert len(_mine(project, "killed")) == 0  # nothing reached the store: no save ran
    journals = list(journal_folder(project / ".weaklab" / "weaklab.duckdb").iterdir())
    assert len(journals) == 1
    # item 3's answer was undone (item 3 shows again), then item 3 was skipped and item 4 answered fine
    assert shown[4] == shown[2] and shown[5] == shown[3]
    expected = {shown[0]: "junk", shown[1]: "fine", shown[2]: None, shown[3]: "fine"}
    out = CliRunner().invoke(main, ["annotate", "--annotator", "next", "--limit", "3"], input="q\n")
    assert out.exit_code == 0, out.output
    assert "Saved 4 answer(s) and skip(s) of an earlier session" in " ".join(out.output.split())
    mine = _mine(project, "killed")
    got = {str(i): (None if pd.isna(c) else c) for i, c in zip(mine["item_id"], mine["class_name"])}
    assert got == expected and set(mine["origin"]) == {"terminal"}
    assert not list(journal_folder(project / ".weaklab" / "weaklab.duckdb").iterdir())
    again = CliRunner().invoke(main, ["annotate", "--annotator", "next", "--limit", "3"], input="q\n")
    assert "earlier session" not in again.output and len(_mine(project, "killed")) == 4
    for key in expected:
        assert f"item {key} " not in out.output  # answered (or skipped) items are not offered again


def test_a_journal_written_twice_stores_each_answer_once(project):
    """A crash between the store's commit and the emptying of the journal replays it: each answer is stored once."""
    path = project / ".weaklab" / "weaklab.duckdb"
    journal = AnswerJournal(path, run_id=1, dataset_id=1, annotator="twice", class_names=["fine", "junk"])
    journal.record("m001", 1, datetime(2026, 1, 2, 3, 4, 5, 678901))
    journal.record("m002", None, datetime(2026, 1, 2, 3, 4, 6))
    entries = read_journal(journal.path)
    with Store(path) as store:
        journal.save(store)
    journal.close()
    with Store(path) as store:  # the same lines once more, as a recovery after that crash would
        from weaklab.pipeline.answer_journal import write_entries

        write_entries(store, entries)
    mine = _mine(project, "twice")
    assert sorted(mine["item_id"].astype(str)) == ["m001", "m002"]
    assert mine.loc[mine["item_id"] == "m001", "class_name"].item() == "junk"


def test_a_running_sessions_journal_is_not_recovered_by_another(project):
    """While a session runs its journal is locked: recovery leaves it alone, and takes it once the session is gone."""
    path = project / ".weaklab" / "weaklab.duckdb"
    journal = AnswerJournal(path, run_id=1, dataset_id=1, annotator="live", class_names=["fine", "junk"])
    journal.record("m005", 0, datetime(2026, 1, 2))
    assert recover_journals(path) == 0 and journal.path.exists() and len(_mine(project, "live")) == 0
    journal.close(remove=False)  # the session ends without its save (as a crash would)
    assert recover_journals(path) == 1 and not journal.path.exists()
    assert _mine(project, "live")["class_name"].tolist() == ["fine"]


def test_answers_keep_their_class_when_the_class_list_changes_before_recovery(project):
    """Answers journalled under ["fine", "junk"] and recovered by a `weaklab fit` after the classes were
    reordered keep their class names: the gold they give is the class the person chose."""
    journal = AnswerJournal(project / ".weaklab" / "weaklab.duckdb", run_id=1, dataset_id=1, annotator="reorder",
                            class_names=["fine", "junk"])
    shown = ["m001", "m002"]
    journal.record(shown[0], 1, datetime(2026, 1, 2))
    journal.record(shown[1], 0, datetime(2026, 1, 2))
    journal.close(remove=False)  # the session ends without its save (as after SIGKILL, tested above)
    config = project / "weaklab.toml"
    config.write_text(config.read_text().replace('classes = ["fine", "junk"]', 'classes = ["junk", "fine"]'))
    lfs = (project / "lfs.py").read_text().replace("], 1, name", "], JUNK, name").replace("], 0, name", "], FINE, name")
    (project / "lfs.py").write_text("JUNK, FINE = 0, 1\n" + lfs.replace('https?://", 1', 'https?://", JUNK'))
    out = CliRunner().invoke(main, ["fit"])
    assert out.exit_code == 0, out.output
    mine = _mine(project, "reorder")
    assert dict(zip(mine["item_id"].astype(str), mine["class_name"])) == {shown[0]: "junk", shown[1]: "fine"}
    with Store(project / ".weaklab" / "weaklab.duckdb", read_only=True) as store:
        labels = store.human_labels(1)
    labels.index = labels["item_id"].astype(str)
    assert labels.loc[shown[0], "class_name"] == "junk" and labels.loc[shown[1], "class_name"] == "fine"


def test_a_journal_this_store_cannot_take_is_set_aside_and_never_blocks_a_run(project, caplog):
    """A journal whose dataset is not in the store (a store made anew) is kept as .rejected with a warning;
    `weaklab fit` runs; a torn line is skipped, the rest of its journal is stored."""
    path = project / ".weaklab" / "weaklab.duckdb"
    stray = AnswerJournal(path, run_id=7, dataset_id=99, annotator="stray", class_names=["fine", "junk"])
    stray.record("m001", 1, datetime(2026, 1, 2))
    stray.close(remove=False)
    torn = AnswerJournal(path, run_id=1, dataset_id=1, annotator="torn", class_names=["fine", "junk"])
    torn.record("m002", 0, datetime(2026, 1, 2))
    torn.close(remove=False)
    with open(torn.path, "a", encoding="utf-8") as handle:
        handle.write('{"session": "x", "op": "answer", "run_id": 1, "dataset_')  # cut by a power loss
    out = CliRunner().invoke(main, ["fit"])
    assert out.exit_code == 0, out.output
    assert not stray.path.exists() and stray.path.with_name(stray.path.name + ".rejected").exists()
    assert "were not stored" in caplog.text and "is not JSON" in caplog.text
    assert _mine(project, "torn")["class_name"].tolist() == ["fine"] and not torn.path.exists()


def test_serve_stores_a_killed_sessions_journal_before_it_starts(project, monkeypatch):
    """`weaklab serve` stores the answers a stopped session journalled (as `annotate` and `fit` do), with their
    annotator, class name and origin, and removes the journal, before the dashboard starts."""
    uvicorn = pytest.importorskip("uvicorn")
    pytest.importorskip("fastapi")
    started = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: started.append(app))
    journal = AnswerJournal(project / ".weaklab" / "weaklab.duckdb", run_id=1, dataset_id=1, annotator="gone",
                            class_names=["fine", "junk"])
    journal.record("m003", 1, datetime(2026, 1, 2))
    journal.record("m005", None, datetime(2026, 1, 2, 0, 1))
    journal.close(remove=False)  # the session ends without its save (as after SIGKILL, tested above)
    out = CliRunner().invoke(main, ["serve", "--port", "0"])
    assert out.exit_code == 0, out.output
    assert len(started) == 1 and "Saved 2 answer(s) and skip(s)" in " ".join(out.output.split())
    mine = _mine(project, "gone")
    got = {str(i): (None if pd.isna(c) else c) for i, c in zip(mine["item_id"], mine["class_name"])}
    assert got == {"m003": "junk", "m005": None} and set(mine["origin"]) == {"terminal"}
    assert not journal.path.exists()
