"""A newcomer's own ticket project (ids `ticket_no`, text `ticket_body`, gold `category` on a dev split,
classes billing/bug/other) edited the way people edit: a constant in the LF module, a class renamed."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from weaklab.cli import main

_TOML = '''\
[data]
path = "tickets.csv"
id_column = "ticket_no"
text_field = "ticket_body"
gold_column = "category"
split_column = "split"

[labels]
classes = {classes}
{extra}
[lfs]
module = "lfs.py"

[label_model]
name = "MajorityVote"

[end_model]
name = "none"
'''

_LFS = '''\
from weaklab import ABSTAIN, keyword_lf, labeling_function

BILLING, BUG, OTHER = 0, 1, {other}


@labeling_function()
def question(x):
    return OTHER if x.ticket_body.lower().startswith(("how", "where")) else ABSTAIN


lfs = [keyword_lf(["refund", "invoice"], BILLING, name="kw_billing"),
       keyword_lf(["crash", "error"], BUG, name="kw_bug"), question]
'''

_TEXTS = {"billing": "please refund my invoice", "bug": "the app shows an error", "other": "how do I rename it"}


def _write(root: Path, classes: list[str], *, extra: str = "", other: int = 2) -> None:
    (root / "weaklab.toml").write_text(_TOML.format(classes=json.dumps(classes), extra=extra))
    (root / "lfs.py").write_text(_LFS.format(other=other))


def _project(tmp_path: Path, monkeypatch) -> Path:
    root = tmp_path / "tickets"
    root.mkdir()
    rows = [{"ticket_no": f"T{i:03d}", "ticket_body": f"{_TEXTS[name]} #{i}",
             "category": name if i % 3 == 0 else "", "split": "dev" if i % 3 == 0 else "train"}
            for i, name in enumerate(["billing", "bug", "other"] * 10)]
    pd.DataFrame(rows).to_csv(root / "tickets.csv", index=False)
    _write(root, ["billing", "bug", "other"])
    monkeypatch.chdir(root)
    return root


def _cli(*args: str):
    out = CliRunner().invoke(main, list(args))
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout) if "--json" in args else out.output


def _vote(item: str) -> list[int]:
    return [v["label"] for v in _cli("explain", item, "--json")["votes"]]


def test_editing_a_constant_of_the_lf_module_is_applied_not_reused(tmp_path, monkeypatch):
    root = _project(tmp_path, monkeypatch)
    _cli("fit", "--json")
    assert 2 in _vote("T002")
    _write(root, ["billing", "bug", "other"], other=0)  # the user points the question LF at billing
    second = _cli("fit", "--json")
    assert second["reused"].get("apply") is not True, second["reused"]
    assert 0 in _vote("T002") and 2 not in _vote("T002")


def test_a_class_renamed_with_labels_rename_also_maps_the_gold_column(tmp_path, monkeypatch):
    """The data file still says "billing"; the rename map makes it the gold of "payments"."""
    root = _project(tmp_path, monkeypatch)
    _cli("fit", "--json")
    _write(root, ["payments", "bug", "other"], extra='\n[labels.rename]\nbilling = "payments"\n')
    run = _cli("fit", "--json")
    assert run["metrics"]["label_model"]["n_dev"] == 10
    assert _cli("explain", "T000", "--json")["final_class"] == "payments"


def test_a_gold_name_no_class_has_points_to_labels_rename(tmp_path, monkeypatch):
    root = _project(tmp_path, monkeypatch)
    _write(root, ["payments", "bug", "other"])
    out = CliRunner().invoke(main, ["fit"])
    assert out.exit_code == 1
    line = out.output.strip().splitlines()[-1]
    assert "'billing'" in line and "[labels.rename]" in line and "category" in line, line


def test_diff_across_a_rename_lists_no_item_of_the_renamed_class(tmp_path, monkeypatch):
    root = _project(tmp_path, monkeypatch)
    first = _cli("fit", "--json")["run_id"]
    _write(root, ["payments", "bug", "other"], extra='\n[labels.rename]\nbilling = "payments"\n')
    second = _cli("fit", "--json")["run_id"]
    changed = _cli("diff", str(first), str(second), "--json")
    assert changed["n_changed"] == 0, changed["items"][:3]


def _alerts(run: dict) -> list[dict]:
    return [a for a in _cli("alerts", "--run", str(run["run_id"]), "--json") if a["kind"] == "class_ids_changed"]


def test_a_class_inserted_before_others_warns_that_unchanged_lfs_now_vote_another_class(tmp_path, monkeypatch):
    """id 2 meant 'other' and now means 'feature': the LFs still vote 2, so the run says so, naming them."""
    root = _project(tmp_path, monkeypatch)
    _cli("fit", "--json")
    _write(root, ["billing", "bug", "feature", "other"])
    (alert,) = _alerts(_cli("fit", "--json"))
    assert "id 2 was 'other', now 'feature'" in alert["message"], alert
    assert "question" in alert["message"] and "kw_bug" not in alert["message"], alert
    assert alert["severity"] == "warning"


def test_appending_a_class_or_updating_the_lfs_with_the_list_raises_no_class_alert(tmp_path, monkeypatch):
    root = _project(tmp_path, monkeypatch)
    _cli("fit", "--json")
    _write(root, ["billing", "bug", "other", "feature"])  # appended: no id moves
    assert _alerts(_cli("fit", "--json")) == []
    _write(root, ["billing", "bug", "feature", "other"], other=3)  # inserted, and the LF votes the new id
    assert _alerts(_cli("fit", "--json")) == []  # kw_billing and kw_bug kept their version but vote no moved id


def test_renaming_a_class_is_not_a_moved_id(tmp_path, monkeypatch):
    root = _project(tmp_path, monkeypatch)
    _cli("fit", "--json")
    _write(root, ["payments", "bug", "other"], extra='\n[labels.rename]\nbilling = "payments"\n')
    assert _alerts(_cli("fit", "--json")) == []


def test_the_own_data_example_of_getting_started_runs_as_written(tmp_path, monkeypatch):
    """The weaklab.toml and lfs.py the getting-started page shows fit a ticket table without edits."""
    import re

    page = (Path(__file__).resolve().parents[2] / "docs" / "getting-started.md").read_text(encoding="utf-8")
    (toml,) = [b for b in re.findall(r"```toml\n(.*?)```", page, re.S) if b.startswith("# weaklab.toml")]
    (module,) = [b for b in re.findall(r"```python\n(.*?)```", page, re.S) if b.startswith("# lfs.py")]
    root = tmp_path / "own"
    (root / "data").mkdir(parents=True)
    rows = [{"ticket_no": f"T{i:03d}", "ticket_body": f"{_TEXTS[name]} #{i}", "category": name if i % 3 == 0 else "",
             "split": "dev" if i % 3 == 0 else "train"}
            for i, name in enumerate(["billing", "bug", "other"] * 10)]
    pd.DataFrame(rows).to_csv(root / "data" / "tickets.csv", index=False)
    (root / "weaklab.toml").write_text(toml, encoding="utf-8")
    (root / "lfs.py").write_text(module, encoding="utf-8")
    monkeypatch.chdir(root)
    run = _cli("fit", "--json")
    assert run["metrics"]["label_model"]["n_dev"] == 10
    assert run["metrics"]["label_model"]["accuracy"] >= 0.9, run["metrics"]["label_model"]
    _cli("export", "labels.csv")
    assert set(pd.read_csv(root / "labels.csv")["class"].dropna()) <= {"billing", "bug", "other"}


def test_diff_after_a_class_insert_says_the_class_list_changed(tmp_path, monkeypatch):
    """The items whose votes (id 2) now name 'feature' instead of 'other' are listed with that reason, not as
    'label model changed (same votes)'."""
    root = _project(tmp_path, monkeypatch)
    first = _cli("fit", "--json")["run_id"]
    _write(root, ["billing", "bug", "feature", "other"])
    second = _cli("fit", "--json")["run_id"]
    changed = _cli("diff", str(first), str(second), "--json")["items"]
    moved = [row for row in changed if (row["class_a"], row["class_b"]) == ("other", "feature")]
    assert moved, changed[:3]
    assert all("class id 2 names 'other'" in row["reason"] and "labels.classes changed" in row["reason"]
               for row in moved), moved[0]


_NAMED_LFS = '''\
import numpy as np

from weaklab import ABSTAIN, keyword_lf, labeling_function


@labeling_function()
def question(x):
    return "other" if x.ticket_body.lower().startswith(("how", "where")) else ABSTAIN


@labeling_function(vectorized=True)
def crash(df):
    return np.where(df.ticket_body.str.contains("error"), "bug", None)


lfs = [keyword_lf(["refund", "invoice"], "billing", name="kw_billing"), crash, question]
'''


def test_lfs_voting_class_names_keep_their_meaning_when_a_class_is_inserted(tmp_path, monkeypatch):
    """Votes by name follow the class list: no class_ids_changed alert, and every item keeps its class."""
    root = _project(tmp_path, monkeypatch)
    (root / "lfs.py").write_text(_NAMED_LFS)
    first = _cli("fit", "--json")
    assert first["metrics"]["label_model"]["accuracy"] == 1.0
    before = {item: _cli("explain", item, "--json")["final_class"] for item in ("T000", "T001", "T002")}
    assert before == {"T000": "billing", "T001": "bug", "T002": "other"}
    _write(root, ["feature", "billing", "bug", "question", "other"])
    (root / "lfs.py").write_text(_NAMED_LFS)
    second = _cli("fit", "--json")
    assert _alerts(second) == []
    assert second["metrics"]["label_model"]["accuracy"] == 1.0
    assert {item: _cli("explain", item, "--json")["final_class"] for item in before} == before


def test_an_lf_voting_a_name_that_is_no_class_stops_the_fit_naming_it_the_item_and_the_name(tmp_path, monkeypatch):
    root = _project(tmp_path, monkeypatch)
    (root / "lfs.py").write_text(_NAMED_LFS.replace('"other" if', '"Other" if'))
    out = CliRunner().invoke(main, ["fit"])
    assert out.exit_code == 1
    line = out.output.strip().splitlines()[-1]
    assert "'question'" in line and "'Other'" in line and "'T002'" in line and "'billing', 'bug', 'other'" in line, line
