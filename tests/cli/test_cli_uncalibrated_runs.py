"""`weaklab export` and `weaklab predict` call a run's end-model probabilities calibrated only when the run applied
a calibrator: a run trained before weaklab calibrated end models (raw probabilities stored under role
"end_model", no calibrator in the state, no "applied" lineage) or one with too few dev items with gold gives its
raw probabilities, called raw, with the reason."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from click.testing import CliRunner

from weaklab.cli import main
from weaklab.pipeline import Project
from weaklab.pipeline.calibrated import with_calibrator


def _old_style_copy(root: Path, run: int) -> tuple[int, np.ndarray]:
    """Record run ``run`` again as weaklab recorded runs before calibration: its raw end-model probabilities
    under role "end_model", the end model's state without a calibrator, the calibration record without its
    "applied" lineage. Returns the new run's id and those probabilities."""
    with Project(root).open_store() as store:
        records = store.run_records(run)
        dataset = int(store.run(run)["dataset_id"])
        softs = records["soft_labels"].set_index("role")["soft_labels_id"]
        model = records["end_model_runs"].iloc[-1]
        old = store.start_run(dataset, config=store.run(run)["config"])
        store.add_application(dataset, store.load_matrix(int(records["applications"]["application_id"].iloc[-1])),
                              run_id=old)
        store.add_soft_labels(dataset, store.load_soft_labels(int(softs["label_model"])), run_id=old)
        raw = store.load_soft_labels(int(softs["end_model_raw"]))
        store.add_soft_labels(dataset, raw, run_id=old, role="end_model", dtype="float64")
        state = with_calibrator(store.load_end_model_state(int(model["end_model_run_id"])), None)
        calibration = {k: v for k, v in model["calibration"].items() if k != "applied"}
        store.add_end_model_run(old, str(model["name"]), params=model["params"], metrics=model["metrics"],
                                calibration=calibration, state=state)
        store.finish_run(old)
    return old, np.asarray(raw.proba)


def _cli(root: Path, *args: str):
    out = CliRunner().invoke(main, [*args, "--store", str(root / ".weaklab" / "weaklab.duckdb")])
    assert out.exit_code == 0, out.output
    return " ".join(out.output.split())


def test_export_and_predict_call_an_old_runs_end_model_probabilities_raw(tmp_path, msgs_project_writer):
    root = tmp_path / "p"
    msgs_project_writer(root, 120, 2)
    run = Project(root).run(until="train").run_id
    old, raw = _old_style_copy(root, run)
    for flag in ([], ["--raw"]):
        said = _cli(root, "export", str(tmp_path / "x.csv"), "--run", str(old), "--no-text", *flag)
        table = pd.read_csv(tmp_path / "x.csv")
        assert np.allclose(table[["end_p_fine", "end_p_junk"]].to_numpy(), raw, atol=1e-6)
        assert "end model probabilities raw" in said and "probabilities calibrated" not in said
    said = _cli(root, "export", str(tmp_path / "x.csv"), "--run", str(old), "--no-text")
    assert f"not calibrated: run {old} stored no calibrator" in said
    new = tmp_path / "new.csv"
    pd.DataFrame({"msg_no": ["n1", "n2"], "message_body": ["subscribe to my channel", "love this song"]}).to_csv(
        new, index=False)
    said = _cli(root, "predict", str(new), str(tmp_path / "p.csv"), "--run", str(old))
    assert f"raw probabilities, not calibrated: run {old} stored no calibrator" in said
    said = _cli(root, "predict", str(new), str(tmp_path / "p.csv"), "--run", str(run))
    assert "calibrated probabilities" in said and "not calibrated" not in said


def test_a_run_with_too_few_dev_gold_items_exports_raw_probabilities_and_says_why(tmp_path, msgs_project_writer):
    msgs_project_writer(tmp_path, 60, 10)  # 6 dev items with gold: too few to fit a calibrator
    run = Project(tmp_path).run(until="train").run_id
    said = _cli(tmp_path, "export", str(tmp_path / "x.csv"), "--run", str(run), "--no-text")
    assert "end model probabilities raw, not calibrated" in said and "got 6" in said
