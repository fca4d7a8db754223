"""`weaklab predict` and `weaklab export` on a run of the Dask engine give what the run recorded for its items."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from weaklab import PartitionedSoftLabels
from weaklab.cli import main
from weaklab.pipeline import Project

from .conftest import renamed_project

pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def trained(dask_cluster, tmp_path_factory):
    """A project with its own column names, trained on the Dask engine (3 partitions of 80 rows)."""
    root = renamed_project(tmp_path_factory.mktemp("dask_predict"), scheduler=dask_cluster.scheduler_address,
                           partition_rows=80)
    opened = []
    real_open = PartitionedSoftLabels.open.__func__

    def recorded_open(cls, root, **kwargs):
        opened.append(str(root))
        return real_open(cls, root, **kwargs)

    with pytest.MonkeyPatch.context() as patch:  # which soft labels the client opens from their folders
        patch.setattr(PartitionedSoftLabels, "open", classmethod(recorded_open))
        run = Project(root).run("query")
    data = pd.read_csv(root / "data" / "messages.csv", keep_default_na=False, na_values=[""])
    return root, run, data, opened


def _recorded(root, run_id, kind):
    with Project(root).open_store(read_only=True) as store:
        soft = store.open_partitioned(run_id, kind)
        return np.concatenate([soft.read_partition(i).proba for i in range(soft.n_partitions)])


def _invoke(root, monkeypatch, *args):
    monkeypatch.chdir(root)
    return CliRunner().invoke(main, list(args))


def test_predict_rebuilds_the_dask_end_model_and_gives_its_raw_probabilities(trained, monkeypatch):
    """The run records its out-of-core end model's state: `weaklab predict --raw` on the project's own items writes
    the end model's own probabilities the run wrote for them, under the project's id column and class names."""
    root, run, data, _ = trained
    data.iloc[:50][["msg_key", "body"]].to_csv(root / "new.csv", index=False)
    out = _invoke(root, monkeypatch, "predict", "new.csv", "out.csv", "--raw")
    assert out.exit_code == 0, out.output
    assert "raw probabilities" in out.output and "partitioned_tfidf_sgd" in out.output
    written = pd.read_csv(root / "out.csv")
    assert list(written.columns) == ["msg_key", "label", "class", "p_fine", "p_junk"]
    assert written["msg_key"].tolist() == data["msg_key"].iloc[:50].tolist()
    raw = _recorded(root, run.run_id, "end_model_raw")[:50]
    np.testing.assert_allclose(written[["p_fine", "p_junk"]].to_numpy(), raw, atol=1e-9)
    assert written["class"].tolist() == [["fine", "junk"][i] for i in raw.argmax(axis=1)]


def test_predict_gives_the_calibrated_probabilities_the_dask_run_stored(trained, monkeypatch):
    """The run records its calibrator (fitted on the dev rows) in the end model's state and its raw probabilities
    beside the calibrated ones (kinds end_model / end_model_raw, as a local run's roles): `weaklab predict` gives the
    calibrated ones by default -- those the run stored for its items, other than the raw ones, same classes."""
    root, run, data, _ = trained
    data.iloc[:60][["msg_key", "body"]].to_csv(root / "new.csv", index=False)
    out = _invoke(root, monkeypatch, "predict", "new.csv", "calibrated.csv")
    assert out.exit_code == 0, out.output
    assert "calibrated probabilities" in out.output
    written = pd.read_csv(root / "calibrated.csv")[["p_fine", "p_junk"]].to_numpy()
    calibrated, raw = _recorded(root, run.run_id, "end_model")[:60], _recorded(root, run.run_id, "end_model_raw")[:60]
    np.testing.assert_allclose(written, calibrated, atol=1e-9)
    assert not np.allclose(calibrated, raw, atol=1e-3) and (calibrated.argmax(axis=1) == raw.argmax(axis=1)).all()
    with Project(root).open_store(read_only=True) as store:
        state = store.load_end_model_state(int(store.run_records(run.run_id)["end_model_runs"]["end_model_run_id"]
                                               .iloc[-1]))
    assert state["calibrator"]["class"] == "GroupedCalibration" and run.metrics["end_model"]["applied"]["applied"]


def test_the_train_step_hands_its_raw_probabilities_to_the_query_step_without_opening_them_again(trained):
    """The query step ranks the end model's raw probabilities: the train step passes the object it wrote, so no
    step of the run reads their folder's manifest back (the raw folder is recorded as kind end_model_raw)."""
    root, run, _, opened = trained
    with Project(root).open_store(read_only=True) as store:
        raw_root = store.partitioned(run.run_id)["end_model_raw"]["root"]
    assert raw_root == run.metrics["end_model"]["applied"]["raw_root"] and len(run.query) == 20
    assert raw_root not in opened, opened


def _votes_per_item(root, run_id):
    with Project(root).open_store(read_only=True) as store:
        votes = store.open_partitioned(run_id, "votes")
        return np.concatenate([votes.read_partition(i).votes_per_item() for i in range(votes.n_partitions)])


def test_export_of_a_dask_run_writes_every_item_a_partition_at_a_time(trained, monkeypatch):
    """`weaklab export` on a Dask run writes what the run recorded, item by item in data order, under the project's
    own id column and class names: the texts from the data file, the label model's class and probabilities (the
    end model's class on items no source voted on), the votes counted, the end model's calibrated probabilities; a
    correction of the run wins over both models."""
    root, run, data, _ = trained
    row = int(np.flatnonzero(_votes_per_item(root, run.run_id) > 0)[-1])  # a voted item: --labelled-only keeps it
    with Project(root).open_store() as store:
        soft = np.concatenate([p.proba for p in (store.open_partitioned(run.run_id, "soft_labels").read_partition(i)
                                                 for i in range(3))])
        store.add_corrections(run.run_id, [data["msg_key"].iloc[row]], [1 - int(soft[row].argmax())], who="tester")
    out = _invoke(root, monkeypatch, "export", "labels.csv")
    assert out.exit_code == 0, out.output
    assert f"Wrote 240 item(s) of run {run.run_id}" in out.output and "calibrated" in out.output
    written = pd.read_csv(root / "labels.csv", keep_default_na=False, na_values=[""])
    assert list(written.columns) == ["msg_key", "body", "label", "class", "label_from", "n_votes", "p_fine",
                                     "p_junk", "end_p_fine", "end_p_junk"]
    assert written["msg_key"].tolist() == data["msg_key"].tolist()
    assert written["body"].tolist() == data["body"].tolist()
    np.testing.assert_allclose(written[["p_fine", "p_junk"]].to_numpy(), soft, atol=1e-9)
    unvoted = _votes_per_item(root, run.run_id) == 0
    assert 0 < unvoted.sum() < len(unvoted)
    expected = np.where(unvoted, _recorded(root, run.run_id, "end_model").argmax(axis=1), soft.argmax(axis=1))
    expected[row] = 1 - expected[row]
    assert written["label"].tolist() == expected.tolist()
    assert written["class"].tolist() == [["fine", "junk"][i] for i in expected]
    origin = np.where(unvoted, "end_model", "label_model").astype(object)
    origin[row] = "correction"
    assert written["label_from"].tolist() == origin.tolist()
    with Project(root).open_store(read_only=True) as store:
        story = store.explain(data["msg_key"].iloc[int(np.flatnonzero(unvoted)[0])], run.run_id)
    assert story["final_from"] == "end_model" and story["final_label"] == expected[np.flatnonzero(unvoted)[0]]
    assert story["end_model_posterior"]["label"] == story["final_label"]
    assert written["n_votes"].tolist() == _votes_per_item(root, run.run_id).tolist()
    np.testing.assert_allclose(written[["end_p_fine", "end_p_junk"]].to_numpy(),
                               _recorded(root, run.run_id, "end_model"), atol=1e-9)


@pytest.mark.parametrize("name", ["labels.parquet", "labels.jsonl", "labels.tsv"])
def test_export_of_a_dask_run_in_every_format_with_labelled_only(trained, monkeypatch, name):
    """Every export format reads back the same table; --labelled-only keeps exactly the items some source voted on,
    --raw gives the end model's own probabilities and --no-text leaves the data file unread."""
    root, run, data, _ = trained
    out = _invoke(root, monkeypatch, "export", name, "--labelled-only", "--raw", "--no-text")
    assert out.exit_code == 0, out.output
    assert "raw" in out.output
    path = root / name
    written = (pd.read_parquet(path) if name.endswith(".parquet") else pd.read_json(path, lines=True)
               if name.endswith(".jsonl") else pd.read_csv(path, sep="\t"))
    voted = _votes_per_item(root, run.run_id) > 0
    assert 0 < voted.sum() < len(voted)
    assert written["msg_key"].tolist() == data["msg_key"][voted].tolist() and "body" not in written.columns
    np.testing.assert_allclose(written[["end_p_fine", "end_p_junk"]].to_numpy(),
                               _recorded(root, run.run_id, "end_model_raw")[voted], atol=1e-9)


def test_export_of_a_dask_run_stops_whole_when_the_data_file_changed(trained, monkeypatch, tmp_path):
    """A data file edited since the run cannot give the texts the run labelled: the export stops with one clear line
    (and the --no-text way out) and leaves no file, not a half-written one."""
    root = trained[0]
    path = root / "data" / "messages.csv"
    before = path.read_bytes()
    try:
        frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
        frame.iloc[:200].to_csv(path, index=False)
        out = _invoke(root, monkeypatch, "export", "cut.csv")
    finally:
        path.write_bytes(before)
    assert out.exit_code == 1, out.output
    assert "--no-text" in out.output and "Traceback" not in out.output
    assert not (root / "cut.csv").exists() and not list(root.glob(".cut.csv*"))
