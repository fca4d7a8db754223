"""A run stores its end model's probabilities through the calibrator fitted on the dev gold (the raw ones beside
them, with the calibrator's lineage), and that calibrator lowers the ECE on items it never saw."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from weaklab.cli import main
from weaklab.endmodel import GroupedCalibration
from weaklab.evaluation import expected_calibration_error
from weaklab.pipeline import Project, init_project
from weaklab.pipeline.calibrated import MIN_APPLIED_ITEMS, apply_calibrator_state, fit_end_calibrator, needs_groups
from weaklab.pipeline.predict import predict_items


def _overconfident(n: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores of a model right ~70 % of the time that says ~99 %; half the items have no vote."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    logits = 1.0 * np.eye(k)[y] + rng.normal(size=(n, k))
    proba = np.exp(6 * logits) / np.exp(6 * logits).sum(axis=1, keepdims=True)
    return proba, y, rng.random(n) < 0.5


@pytest.mark.parametrize("k", [2, 5])
def test_the_applied_calibrator_lowers_the_ece_on_held_out_items_and_keeps_every_class(k):
    proba, y, covered = _overconfident(3000, k, seed=k)
    dev = np.arange(3000) < 600  # the calibrator sees only these labels
    out = fit_end_calibrator(proba, np.where(dev, y, -1), covered, random_state=0)
    held = ~dev
    raw_ece = expected_calibration_error(proba[held], y[held])
    new_ece = expected_calibration_error(out.proba[held], y[held])
    assert raw_ece > 0.1 and new_ece < raw_ece / 3, (raw_ece, new_ece)
    assert (out.proba.argmax(axis=1) == proba.argmax(axis=1)).all()
    assert np.allclose(out.proba.sum(axis=1), 1.0)
    assert out.lineage["applied"] and out.lineage["fitted_on"] == "dev" and out.lineage["n_fit"] == 600


def test_with_too_few_gold_items_nothing_is_applied_and_the_lineage_says_why():
    proba, y, covered = _overconfident(200, 3, seed=1)
    gold = np.full(200, -1)
    gold[: MIN_APPLIED_ITEMS - 1] = y[: MIN_APPLIED_ITEMS - 1]
    out = fit_end_calibrator(proba, gold, covered)
    assert out.state is None and not out.lineage["applied"] and str(MIN_APPLIED_ITEMS) in out.lineage["note"]
    assert np.array_equal(out.proba, proba)


def test_a_saved_grouped_calibrator_survives_json_and_transforms_as_the_fitted_one():
    proba, y, covered = _overconfident(1200, 4, seed=3)
    for method in ("temperature", "isotonic", "auto"):
        fitted = GroupedCalibration(method=method, random_state=0).fit(proba, y, groups=covered)
        state = fitted.to_state()
        again = json.loads(json.dumps({k: v for k, v in state.items() if k != "arrays"}))
        restored = GroupedCalibration.from_state({**again, "arrays": state["arrays"]})
        assert np.allclose(restored.transform(proba, groups=covered), fitted.transform(proba, groups=covered),
                           atol=1e-12), method


def test_weaklab_save_state_takes_a_grouped_calibrator_state_and_the_earlier_layout_still_loads(tmp_path):
    """GroupedCalibration.to_state has the common layout (schema_version, attributes): weaklab.save_state writes it
    as it is and load_state + from_state give a calibrator that transforms as the fitted one; a state in the
    layout earlier runs stored (version 1, n_classes and groups at the top) still loads."""
    from weaklab import load_state, save_state

    proba, y, covered = _overconfident(900, 3, seed=4)
    fitted = GroupedCalibration(random_state=0).fit(proba, y, groups=covered)
    state = fitted.to_state()
    assert state["schema_version"] >= 1 and state["attributes"]["n_classes_"] == 3
    restored = GroupedCalibration.from_state(load_state(save_state(state, tmp_path / "calibrator")))
    expected = fitted.transform(proba, groups=covered)
    np.testing.assert_allclose(restored.transform(proba, groups=covered), expected, atol=1e-12)
    earlier = {"class": "GroupedCalibration", "version": 1, "n_classes": 3, "params": state["params"],
               "groups": state["attributes"]["groups"], "arrays": state["arrays"]}
    np.testing.assert_allclose(GroupedCalibration.from_state(earlier).transform(proba, groups=covered), expected,
                               atol=1e-12)
    assert needs_groups({"calibrator": earlier}) == needs_groups({"calibrator": state})


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("calibrated") / "p"
    init_project(root, n_items=200)
    config = root / "weaklab.toml"
    config.write_text(config.read_text() + '\n[label_model]\nname = "MajorityVote"\n')
    run = Project(root).run(until="train").run_id
    return root, run


def _records(root, run):
    with Project(root).open_store(read_only=True) as store:
        records = store.run_records(run)
        softs = records["soft_labels"]
        proba = {role: store.load_soft_labels(int(softs.loc[softs["role"] == role, "soft_labels_id"].iloc[-1])).proba
                 for role in ("end_model", "end_model_raw")}
        model = records["end_model_runs"].iloc[-1]
        state = store.load_end_model_state(int(model["end_model_run_id"]))
    return proba, model["calibration"], state


def test_a_run_stores_calibrated_and_raw_end_model_probabilities_with_the_calibrators_lineage(trained):
    root, run = trained
    proba, calibration, state = _records(root, run)
    applied = calibration["applied"]
    assert applied["applied"] and applied["calibrator"] == "GroupedCalibration" and applied["fitted_on"] == "dev"
    assert applied["n_fit"] >= MIN_APPLIED_ITEMS and set(applied["methods"]) >= {"None"}
    assert state["calibrator"]["class"] == "GroupedCalibration"
    assert not np.allclose(proba["end_model"], proba["end_model_raw"], atol=1e-3)
    assert (proba["end_model"].argmax(axis=1) == proba["end_model_raw"].argmax(axis=1)).all()


def test_export_gives_the_calibrated_end_model_probabilities_and_raw_on_request(trained, tmp_path):
    root, run = trained
    proba, _, _ = _records(root, run)
    store = str(root / ".weaklab" / "weaklab.duckdb")
    for flag, role in (([], "end_model"), (["--raw"], "end_model_raw")):
        out = CliRunner().invoke(main, ["export", str(tmp_path / "x.csv"), "--run", str(run), "--no-text",
                                        "--store", store, *flag])
        assert out.exit_code == 0, out.output
        table = pd.read_csv(tmp_path / "x.csv")
        assert np.allclose(table[["end_p_HAM", "end_p_SPAM"]].to_numpy(), proba[role], atol=1e-9), role
        assert ("raw" if flag else "calibrated") in out.output
    assert not np.allclose(proba["end_model"], proba["end_model_raw"], atol=1e-3)


def test_the_saved_calibrator_reproduces_the_stored_calibrated_probabilities(trained):
    root, run = trained
    proba, _, _ = _records(root, run)
    data = pd.read_csv(root / "data" / "comments.csv")
    with Project(root).open_store(read_only=True) as s:
        calibrated = predict_items(s, run, data)[["p_HAM", "p_SPAM"]].to_numpy()
        raw = predict_items(s, run, data, calibrated=False)[["p_HAM", "p_SPAM"]].to_numpy()
    assert np.allclose(calibrated, proba["end_model"], atol=1e-9)
    assert np.allclose(raw, proba["end_model_raw"], atol=1e-9)
    assert np.array_equal(apply_calibrator_state({}, raw, None), raw)  # a state without a calibrator: as given


def test_the_report_and_the_dashboard_show_one_reliability_diagram_per_slice(trained):
    root, run = trained
    from weaklab.report.writer import render_report

    with Project(root).open_store(read_only=True) as store:
        calibration = store.run_records(run)["end_model_runs"].iloc[-1]["calibration"]
        html = render_report(store, run)
    slices = calibration["slices"]
    assert set(slices) <= {"with a vote", "without a vote"} and slices, slices
    assert sum(s["n"] for s in slices.values()) == calibration["n_eval"]  # the held-out half, split by coverage
    for name, measured in slices.items():
        assert 0 <= measured["ece_after"] <= 1 and sum(b["count"] for b in measured["bins_before"]) == measured["n"]
        assert f"Reliability diagram: {name}" in html
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from weaklab.dashboard import create_app

    with TestClient(create_app(root / ".weaklab" / "weaklab.duckdb"), base_url="http://127.0.0.1") as web:
        page = web.get(f"/health?run={run}")
    assert page.status_code == 200
    assert page.text.count('class="slice-reliability"') == len(slices)


def test_predict_after_an_lf_edit_falls_back_to_the_pooled_calibrator_with_a_warning(tmp_path):
    """The text end model does not read votes: editing an LF must not stop `predict`; only the calibrator's
    covered/uncovered groups need the run's LFs, so every item goes through the pooled calibrator, with a warning."""
    root = tmp_path / "p"
    init_project(root, n_items=600)
    config = root / "weaklab.toml"
    config.write_text(config.read_text() + '\n[label_model]\nname = "MajorityVote"\n')
    run = Project(root).run(until="train").run_id
    _, _, state = _records(root, run)
    assert needs_groups(state)  # the path under test: a calibrator that tells voted items from the others
    lfs = root / "lfs.py"
    lfs.write_text(lfs.read_text().replace("len(letters) < 12", "len(letters) < 13"))
    data = pd.read_csv(root / "data" / "comments.csv").head(50)
    with Project(root).open_store(read_only=True) as store:
        raw = predict_items(store, run, data, calibrated=False)[["p_HAM", "p_SPAM"]].to_numpy()
        with pytest.warns(UserWarning, match=r"shouting.*calibrator fitted on all dev gold.*--raw"):
            predicted = predict_items(store, run, data)
    assert np.allclose(predicted[["p_HAM", "p_SPAM"]].to_numpy(), apply_calibrator_state(state, raw, None))
    assert (predicted["label"].to_numpy() == raw.argmax(axis=1)).all()
