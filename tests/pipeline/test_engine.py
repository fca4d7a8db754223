"""[engine] of weaklab.toml: parsing, validation errors naming the key, and the client it opens."""

from __future__ import annotations

import doctest
import socket
import sys

import numpy as np
import pytest

from weaklab.errors import MissingDependencyError, ValidationError
from weaklab.pipeline import engine as engine_module
from weaklab.pipeline import init_project, load_config
from weaklab.pipeline.engine import EngineConfig, engine_client


@pytest.fixture()
def project(tmp_path):
    init_project(tmp_path, n_items=40)
    return tmp_path


def _with_engine(root, table):
    config = root / "weaklab.toml"
    config.write_text(config.read_text() + "\n[engine]\n" + table + "\n")
    return load_config(root)


def test_no_engine_table_means_the_local_engine(project):
    """A project without [engine] runs locally, with partitions beside the store by default."""
    engine = load_config(project).engine
    assert engine.kind == "local" and not engine.is_dask and engine.address is None
    assert engine.output == str(load_config(project).store_path.parent / "partitions")


def test_dask_engine_values_are_read(project):
    """kind, scheduler, n_workers, output and partition_rows come through; a relative output is made absolute."""
    engine = _with_engine(project, 'kind = "dask"\nscheduler = "local"\nn_workers = 2\noutput = "parts"\n'
                                   "partition_rows = 5000").engine
    assert engine == EngineConfig(kind="dask", scheduler="local", n_workers=2,
                                  output=str(project.resolve() / "parts"), partition_rows=5000)


def test_the_default_label_model_is_autolabelmodel_on_both_engines_and_a_named_one_is_kept(project):
    """Without [label_model] both engines fit AutoLabelModel(random_state=0); a named model stays the one named."""
    local = load_config(project)
    dask_config = _with_engine(project, 'kind = "dask"')
    for config in (local, dask_config):
        assert (config.label_model_name, config.label_model_params) == ("AutoLabelModel", {"random_state": 0})
    config = project / "weaklab.toml"
    config.write_text(config.read_text() + '\n[label_model]\nname = "MajorityVote"\n')
    assert (load_config(project).label_model_name, load_config(project).label_model_params) == ("MajorityVote", {})


def test_remote_scheduler_and_url_output_are_kept_as_written(tmp_path):
    """A tcp:// scheduler is the address; an fsspec URL output is not resolved against the project."""
    init_project(tmp_path, n_items=40)
    engine = _with_engine(tmp_path, 'kind = "dask"\nscheduler = "tcp://10.0.0.5:8786"\n'
                                    'output = "s3://bucket/weaklab"').engine
    assert engine.address == "tcp://10.0.0.5:8786" and engine.output == "s3://bucket/weaklab"


@pytest.mark.parametrize(("table", "message"), [
    ('kind = "spark"', r"engine.kind: expected one of \['local', 'dask'\], got 'spark'"),
    ('kind = "dask"\nscheduler = "10.0.0.5:8786"', r"engine.scheduler: expected \"local\" or a scheduler address"),
    ('kind = "dask"\nn_workers = 0', r"engine.n_workers: expected an integer >= 1, got 0"),
    ('kind = "dask"\nn_workers = "two"', r"engine.n_workers: expected an integer, got str 'two'"),
    ('n_workers = 2', r"engine.n_workers: expected kind = \"dask\".*got kind = 'local'"),
    ('scheduler = "tcp://h:1"', r"engine.scheduler: expected kind = \"dask\""),
    ('kind = "dask"\nscheduler = "tcp://h:1"\nn_workers = 2', r"engine.n_workers: expected scheduler = \"local\""),
    ('kind = "dask"\npartition_rows = 0', r"engine.partition_rows: expected an integer >= 1"),
    ('kind = "dask"\nworkers = 2', r"engine.workers: expected one of the keys"),
])
def test_bad_engine_values_name_the_file_and_key(project, table, message):
    """Each wrong [engine] value raises a ValidationError naming the file, the key, what was expected and got."""
    with pytest.raises(ValidationError, match=message) as info:
        _with_engine(project, table)
    assert "weaklab.toml" in str(info.value)


def test_local_engine_opens_no_client():
    """The local engine yields no client (nothing is started)."""
    with engine_client(EngineConfig()) as client:
        assert client is None


def test_unreachable_scheduler_names_the_key_and_address(monkeypatch):
    """A scheduler address nobody listens on fails with engine.scheduler and the address, not a raw OSError."""
    pytest.importorskip("distributed")
    monkeypatch.setattr(engine_module, "CONNECT_TIMEOUT", 1.0)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    with pytest.raises(ValidationError, match=rf"engine.scheduler: expected a Dask scheduler.*{address}"):
        with engine_client(EngineConfig(kind="dask", scheduler=address)):
            pass


def test_dask_engine_without_distributed_says_how_to_install(monkeypatch):
    """kind = "dask" without the extra raises MissingDependencyError naming weaklab[dask]."""
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(MissingDependencyError, match=r"weaklab\[dask\]"):
        with engine_client(EngineConfig(kind="dask")):
            pass


def test_local_cluster_has_the_configured_workers_and_is_closed_after():
    """scheduler = "local" starts n_workers worker processes for the block and stops them after."""
    pytest.importorskip("distributed")
    with engine_client(EngineConfig(kind="dask", n_workers=1)) as client:
        assert len(client.scheduler_info()["workers"]) == 1
        assert client.submit(sum, [1, 2, 3]).result() == 6
    assert client.status == "closed"


def test_engine_module_examples_run():
    """The docstring examples of weaklab.pipeline.engine and its worker plugin hold (those not skipped)."""
    result = doctest.testmod(engine_module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted >= 4
    plugin = pytest.importorskip("weaklab.pipeline.dask_plugin")
    result = doctest.testmod(plugin)
    assert result.failed == 0 and result.attempted == 3


@pytest.fixture(scope="module")
def cluster():
    """One LocalCluster of worker processes (which cannot import the project's lfs.py unless it is shipped)."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as running:
        yield running


def _proba(store, run_id, kind="soft_labels"):
    soft = store.open_partitioned(run_id, kind)
    return np.concatenate([soft.read_partition(i).proba for i in range(soft.n_partitions)])


def test_a_dask_project_keeps_votes_partitioned_and_equals_the_local_run(cluster, tmp_path_factory):
    """[engine] kind = "dask" at a scheduler address: partitioned votes and soft labels equal the local run's, both
    labelled by the default AutoLabelModel (on Dask fitted on a sample holding every item, fewer than its cap)."""
    from weaklab.pipeline import Project

    root = tmp_path_factory.mktemp("dask_project")
    init_project(root, n_items=240)
    local = Project(root).run("fit")
    with Project(root).open_store(read_only=True) as store:
        local_L = store.load_matrix(local.metrics["application_id"])
        local_proba = store.load_soft_labels(local.metrics["soft_labels_id"]).proba
        local_story = store.explain(local_L.item_ids[100])
    _with_engine(root, f'kind = "dask"\nscheduler = "{cluster.scheduler_address}"\npartition_rows = 60')
    other = tmp_path_factory.mktemp("other") / "weaklab.duckdb"
    on_dask = Project(root, store_path=other).run("issues")
    assert on_dask.steps == ["apply", "analyse", "fit", "train", "issues"] and not on_dask.reused["apply"]
    end = on_dask.metrics["end_model"]
    assert end["name"] == "partitioned_tfidf_sgd" and end["n_dev"] > 0 and 0 < end["n_train"] < 240
    with Project(root, store_path=other).open_store(read_only=True) as store:
        plm = store.open_partitioned(on_dask.run_id, "votes")
        parts = [plm.read_partition(i) for i in range(plm.n_partitions)]
        proba = _proba(store, on_dask.run_id)
        story = store.explain(str(local_L.item_ids[100]))
    assert plm.n_partitions > 1, "the test data should span several partitions"
    assert np.array_equal(np.concatenate([p.to_dense() for p in parts]), local_L.to_dense())
    assert list(np.concatenate([p.item_ids for p in parts])) == list(local_L.item_ids)
    np.testing.assert_allclose(proba, local_proba, atol=1e-6)
    assert [(v["source"], v["label"]) for v in story["votes"]] == [(v["source"], v["label"])
                                                                   for v in local_story["votes"]]
    np.testing.assert_allclose(story["posterior"]["proba"], local_story["posterior"]["proba"], atol=1e-6)
    assert story["partition"] == 100 // 60 or story["row"] == 100
    fitted = on_dask.metrics["label_model"]
    assert fitted["class"] == local.metrics["label_model"]["class"] == "AutoLabelModel"
    assert fitted["fit_sample"]["n_sample"] == 240 and not fitted["fit_sample"]["sampled"]
    assert fitted["fit_sample"]["seed"] == 0
    assert 0 < on_dask.metrics["n_label_issues"] <= 200 and on_dask.issues is not None
    top = on_dask.issues.iloc[0]
    with Project(root, store_path=other).open_store(read_only=True) as store:
        flagged = store.explain(str(top["item_id"]), run_id=on_dask.run_id)
    assert [issue["rank"] for issue in flagged["label_issues"]] == [int(top["rank"])]
    _dashboard_shows_the_item(other, on_dask.run_id, str(local_L.item_ids[100]))
    _lineage_and_dev_measures_are_the_local_ones(root, local, other, on_dask)
    again = Project(root, store_path=other).run("fit")
    assert again.reused["apply"] and again.metrics["votes_root"] == on_dask.metrics["votes_root"]


def _lineage_and_dev_measures_are_the_local_ones(root, local, other, on_dask):
    """The store holds the same lineage for both runs: the sources and their versions, each source's statistics
    (coverage, overlaps, conflicts, accuracy on the dev gold, the label model's estimate and share of the evidence),
    the label model's class,
    parameters and dev measures (accuracy, macro F1, ECE, coverage, accuracy on covered items), and the items
    that hold gold (which no review queue offers)."""
    from weaklab.pipeline import Project
    from weaklab.pipeline.review import gold_items

    stats = ["coverage", "overlaps", "conflicts", "emp_accuracy", "est_accuracy", "weight_share"]
    measures = ["n_dev", "accuracy", "macro_f1", "ece", "coverage_dev", "accuracy_covered", "coverage",
                "n_gold_for_fit", "class"]
    found = []
    for store_path, run in ((None, local), (other, on_dask)):
        with Project(root, store_path=store_path).open_store(read_only=True) as store:
            names = sorted(store.partitioned(run.run_id)["votes"]["manifest"]["source_names"]) if store_path \
                else sorted(store.load_matrix(run.metrics["application_id"]).source_names)
            history = {n: store.source_history(n).iloc[-1] for n in names}
            model = store.run_records(run.run_id)["label_model_runs"].iloc[-1]
            found.append({"versions": {n: history[n]["version"] for n in names},
                          "stats": {n: [float(history[n][c]) for c in stats] for n in names},
                          "model": (model["class"], model["params"]),
                          "measures": {k: model["metrics"].get(k) for k in measures},
                          "gold": gold_items(store, run.dataset_id)})
    local_found, dask_found = found
    assert dask_found["versions"] == local_found["versions"] and dask_found["model"] == local_found["model"]
    for name, values in local_found["stats"].items():
        np.testing.assert_allclose(dask_found["stats"][name], values, atol=1e-9, err_msg=name)
    assert dask_found["measures"]["n_dev"] == local_found["measures"]["n_dev"] > 0
    assert dask_found["measures"] == pytest.approx(local_found["measures"], abs=1e-9)
    assert dask_found["gold"] == local_found["gold"] and len(local_found["gold"]) == local.metrics["n_dev"]


def _dashboard_shows_the_item(store_path, run_id, item_id):
    """The dashboard's runs, sources, item and label-model pages of a distributed run answer (the item from its
    partition)."""
    try:
        from fastapi.testclient import TestClient

        from weaklab.dashboard.app import create_app
    except ImportError:  # the [web] extra is not installed
        return
    with TestClient(create_app(store_path), base_url="http://127.0.0.1") as web:
        for url in ("/runs", "/sources", f"/items/{item_id}?run={run_id}"):
            page = web.get(url)
            assert page.status_code == 200, (url, page.text[:300])
        assert item_id in web.get(f"/items/{item_id}?run={run_id}").text
        model = web.get(f"/label-model?run={run_id}")  # from the recorded model state, no matrix needed
        assert model.status_code == 200 and "Learned accuracy per source" in model.text


def _calibration_is_measured_on_the_dev_rows(root, run, dev_proba, dev_gold):
    """The Dask end model's calibration, measured as on the local engine on the gathered dev rows (all of them
    while they are fewer than the sample bound): recorded with the end model and reported in the run's metrics."""
    import json

    from weaklab.evaluation import expected_calibration_error
    from weaklab.pipeline import Project

    end = run.metrics["end_model"]
    assert end["n_sample"] == end["n_dev"] == len(dev_gold) >= 20
    assert 0 <= end["ece_after"] <= 1 and 0 <= end["ece_before"] <= 1 and end["n_fit"] + end["n_eval"] == len(dev_gold)
    with Project(root).open_store(read_only=True) as store:
        recorded = store.run_records(run.run_id)["end_model_runs"].iloc[-1]["calibration"]
    recorded = json.loads(recorded) if isinstance(recorded, str) else recorded
    assert recorded["ece_after"] == end["ece_after"] and len(recorded["bins"]) == 10
    assert recorded["ece"] == pytest.approx(expected_calibration_error(dev_proba, dev_gold, n_bins=10))
    assert end["ece"] == pytest.approx(recorded["ece"])


def _calibrated_beside_raw(applied, proba, n_dev):
    """The stored end-model probabilities are the raw ones (kept at ``raw_root``) through the calibrator fitted on
    the gathered dev rows: same predicted classes, other probabilities, lineage naming the split."""
    from weaklab import PartitionedSoftLabels

    assert applied["applied"] and applied["n_fit"] == n_dev and applied["fitted_on"].startswith("dev")
    soft = PartitionedSoftLabels.open(applied["raw_root"])
    raw = np.concatenate([soft.read_partition(i).proba for i in range(soft.n_partitions)])
    assert raw.shape == proba.shape and (raw.argmax(axis=1) == proba.argmax(axis=1)).all()
    assert not np.allclose(raw, proba, atol=1e-3)
    return raw


def test_the_query_step_on_dask_picks_the_most_uncertain_items_not_answered_nor_held_out(cluster, tmp_path_factory):
    """weaklab query on the Dask engine ranks the end model's raw probabilities (trained out of core, as the local
    engine ranks its end model's) partition by partition: it equals ranking every item's entropy at once (ties in
    data order) without the dev split's gold rows, and an answered item leaves the list."""
    import pandas as pd

    from weaklab.active import uncertainty
    from weaklab.pipeline import Project

    root = tmp_path_factory.mktemp("dask_query")
    init_project(root, n_items=240)
    _with_engine(root, f'kind = "dask"\nscheduler = "{cluster.scheduler_address}"\npartition_rows = 60')
    first = Project(root).run("query")
    assert first.steps[-1] == "query" and len(first.query) == 20
    data = pd.read_csv(root / "data" / "comments.csv", keep_default_na=False, na_values=[""])
    with Project(root).open_store(read_only=True) as store:
        proba = _proba(store, first.run_id, "end_model")
    held_out = (data["split"] == "dev").to_numpy() & data["label"].notna().to_numpy()
    assert held_out.any()
    gold = data["label"].map({"HAM": 0, "SPAM": 1}).to_numpy()[held_out]  # the end model's dev metrics, reduced
    # over partitions
    assert first.metrics["end_model"]["n_dev"] == held_out.sum()
    assert first.metrics["end_model"]["accuracy"] == pytest.approx((proba[held_out].argmax(axis=1) == gold).mean())
    raw = _calibrated_beside_raw(first.metrics["end_model"]["applied"], proba, int(held_out.sum()))
    _calibration_is_measured_on_the_dev_rows(root, first, raw[held_out], gold)

    def expected(excluded):  # the raw probabilities: a calibrator's steps would tie items
        scores = uncertainty(raw, measure="entropy")
        order = [i for i in np.lexsort((np.arange(len(scores)), -scores)) if not excluded[i]]
        return data["comment_id"].to_numpy()[order[:20]].tolist()

    assert first.query == expected(held_out)
    with Project(root).open_store() as store:
        store.add_annotation(first.dataset_id, first.query[0], "ann", 1, class_names=["HAM", "SPAM"])
    again = Project(root).run("query")
    answered = data["comment_id"].to_numpy() == first.query[0]
    with Project(root).open_store(read_only=True) as store:
        proba = _proba(store, again.run_id, "end_model")
    raw = _calibrated_beside_raw(again.metrics["end_model"]["applied"], proba, int(held_out.sum()))
    assert again.query == expected(held_out | answered) and first.query[0] not in again.query
