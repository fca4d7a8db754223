"""The run report: one offline HTML file with every recorded part of a run, escaped, and honest about gaps."""

from __future__ import annotations

from html.parser import HTMLParser

import numpy as np
import pytest

from weaklab import SoftLabels
from weaklab.errors import ValidationError
from weaklab.models import DawidSkene
from weaklab.report import write_report
from weaklab.store import Store
from weaklab.synthetic import make_label_matrix

EVIL = '<script>alert("x")</script>'
SECTIONS = ("run", "sources", "label-model", "end-model", "calibration", "slices", "label-issues", "alerts")


class _Page(HTMLParser):
    """Collects tags, attributes, section ids and the text of each section."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: dict[str, list[str]] = {}
        self._section = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "section":
            self._section = attrs.get("id")
            self.text[self._section] = []

    def handle_data(self, data):
        if self._section is not None:
            self.text[self._section].append(data)

    def section(self, name):
        return " ".join(" ".join(self.text[name]).split())


def _parse(path):
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


@pytest.fixture
def store(tmp_path):
    """A fresh store in a temporary folder."""
    with Store(tmp_path / ".weaklab" / "weaklab.duckdb") as st:
        yield st


@pytest.fixture
def full_run(store):
    """A run that recorded every part: matrix, stats, label model, soft labels, end model, issues, alerts."""
    truth = make_label_matrix(300, 4, coverage=0.6, accuracy=0.8, random_state=0)
    ids = np.array([f"c{i:03d}" for i in range(300)], dtype=object)
    names = ["lf_keyword", "lf_regex", EVIL, "lf_model"]
    L = truth.L.replace(item_ids=ids, source_names=names, source_versions=["v1", "v1", "v2", "v1"],
                        class_names=["HAM", "SPAM & <co>"])
    ds = store.add_dataset("spam <comments>", item_ids=ids)
    run = store.start_run(ds, {"label_model": "DawidSkene", "note": EVIL})
    app = store.add_application(ds, L, run_id=run)
    model = DawidSkene(random_state=0).fit(L)
    store.add_label_model_run(run, model.to_state(), application_id=app, metrics={"accuracy": 0.81})
    store.add_soft_labels(ds, SoftLabels(model.predict_proba(L), item_ids=ids, class_names=L.class_names), run_id=run)
    store.add_source_stats(run, {"lf_keyword": {"est_accuracy": 0.91, "emp_accuracy": 0.88}})
    bins = [{"confidence": c, "accuracy": c - 0.05, "count": 10} for c in (0.55, 0.65, 0.75, 0.85, 0.95)]
    store.add_end_model_run(run, "tfidf_logreg", params={"C": 4.0}, metrics={
        "accuracy": 0.9, "f1": 0.88, "slices": {"short texts": {"accuracy": 0.7, "n": 40}, EVIL: {"accuracy": 0.5}}},
        calibration={"bins": bins, "ece": 0.05, "ece_before": 0.06, "ece_after": 0.02})
    store.add_label_issues(run, ids[:30], method="confident_learning", given=0, suggested=1,
                           score=np.linspace(0, 1, 30))
    store.add_alert(run, "coverage_drop", f"{EVIL} coverage fell", source=EVIL, value=0.1)
    store.finish_run(run, metrics={"accuracy": 0.83})
    return run


def test_full_report_has_every_section_and_charts(store, full_run, tmp_path):
    """A run that recorded everything gets every section filled, with inline SVG charts."""
    out = write_report(store, full_run, tmp_path / "reports" / "run.html")
    assert out.exists()
    page = _parse(out)
    assert [a.get("id") for t, a in page.tags if t == "section"] == list(SECTIONS)
    for name in SECTIONS:
        assert "not recorded for this run" not in page.section(name).lower(), name
    assert sum(1 for t, _ in page.tags if t == "svg") >= 3  # sources, class balance, reliability
    assert "lf_keyword v1 0.9" in page.section("sources") or "0.910" in page.section("sources")
    assert "DawidSkene" in page.section("label-model")
    assert "0.020" in page.section("calibration") and "0.060" in page.section("calibration")
    assert "short texts" in page.section("slices")
    assert "Top 25 of 30" in page.section("label-issues")
    assert "coverage_drop" in page.section("alerts")


def test_report_is_offline(store, full_run, tmp_path):
    """The page loads nothing: no scripts, no external src/href, no stylesheet links."""
    out = write_report(store, full_run, tmp_path / "run.html")
    html = out.read_text(encoding="utf-8")
    page = _parse(out)
    assert not [t for t, _ in page.tags if t in ("script", "link", "img", "iframe", "object")]
    for _, attrs in page.tags:
        for key in ("src", "href"):
            assert not (attrs.get(key) or "").startswith(("http", "//")), attrs
    assert 'src="http' not in html and 'href="http' not in html and "@import" not in html


def test_user_text_is_escaped(store, full_run, tmp_path):
    """Source names, messages, slice names and config values with markup are shown as text, never as tags."""
    out = write_report(store, full_run, tmp_path / "run.html")
    html = out.read_text(encoding="utf-8")
    assert "<script" not in html
    assert "&lt;script&gt;" in html
    page = _parse(out)
    assert EVIL in page.section("alerts") and EVIL in page.section("sources") and EVIL in page.section("slices")
    assert "SPAM & <co>" in page.section("label-model")


def test_sparse_run_says_what_is_missing(store, tmp_path):
    """A run with only a label matrix reports its sources and says the other parts were not recorded."""
    truth = make_label_matrix(50, 3, coverage=0.5, accuracy=0.8, random_state=1)
    ds = store.add_dataset("tiny", n_items=50)
    run = store.start_run(ds)
    store.add_application(ds, truth.L, run_id=run)
    page = _parse(write_report(store, run, tmp_path / "tiny.html"))
    assert "coverage" in page.section("sources")
    for name in ("label-model", "end-model", "calibration", "slices", "label-issues"):
        assert "Not recorded for this run." in page.section(name), name
    assert "No alerts" in page.section("alerts")


def test_empty_run_and_unknown_run(store, tmp_path):
    """A run with no records still renders; an unknown run id raises ValidationError."""
    ds = store.add_dataset("empty", n_items=3)
    run = store.start_run(ds)
    page = _parse(write_report(store, run, tmp_path / "empty.html"))
    assert "Not recorded for this run." in page.section("sources")
    with pytest.raises(ValidationError, match="run_id"):
        write_report(store, run + 99, tmp_path / "nope.html")
    assert not (tmp_path / "nope.html").exists()


def test_label_model_reliability_from_human_answers(store, tmp_path):
    """Without end-model calibration, the label model's reliability is measured against human answers."""
    truth = make_label_matrix(120, 4, coverage=0.7, accuracy=0.8, random_state=2)
    ds = store.add_dataset("answered", n_items=120)
    run = store.start_run(ds)
    store.add_application(ds, truth.L, run_id=run)
    store.add_soft_labels(ds, SoftLabels(DawidSkene(random_state=0).fit(truth.L).predict_proba(truth.L)), run_id=run)
    store.add_annotations(ds, np.arange(40), "ann", truth.y[:40], origin="label_studio")
    page = _parse(write_report(store, run, tmp_path / "answered.html"))
    calibration = page.section("calibration")
    assert "label model vs human answers" in calibration and "40" in calibration
    assert "empirical accuracy" in page.section("sources")


def test_an_image_run_report_embeds_sample_pictures(image_project, tmp_path):
    """An image project's report has a sample-images section per class, pictures embedded as data: URIs."""
    from weaklab.pipeline import Project

    result = Project(image_project).run("fit")
    with Store(image_project / ".weaklab" / "weaklab.duckdb") as store:
        path = write_report(store, result.run_id, tmp_path / "report.html")
    parser = _Page()
    parser.feed(path.read_text())
    images = [attrs for tag, attrs in parser.tags if tag == "img"]
    assert images and all(a["src"].startswith("data:image/png;base64,") for a in images)
    samples = "".join(parser.text["samples"])
    assert "horizontal" in samples and "vertical" in samples
    assert "No class activation maps" in samples and not [a for a in images if "cam" in a.get("class", "")]


def test_an_image_run_with_the_cnn_shows_class_activation_maps(cnn_image_project, tmp_path):
    """With the image end model the first sample pictures of each class come with their CAM overlay (the PNG
    the dashboard serves for that item's row)."""
    import base64

    from weaklab.pipeline import Project
    from weaklab.pipeline.images import CamLookup, ImageLookup
    from weaklab.report.writer import CAMS_PER_CLASS

    result = Project(cnn_image_project).run("train")
    with Store(cnn_image_project / ".weaklab" / "weaklab.duckdb") as store:
        path = write_report(store, result.run_id, tmp_path / "report.html")
        parser = _Page()
        parser.feed(path.read_text())
        cams = [a for tag, a in parser.tags if tag == "img" and "cam" in a.get("class", "")]
        assert 0 < len(cams) <= CAMS_PER_CLASS * 2  # two classes in the bars project
        item = cams[0]["alt"].rsplit(" ", 1)[-1]
        row = store.explain(item, result.run_id)["row"]
        images = ImageLookup(store, int(store.explain(item, result.run_id)["dataset"]["dataset_id"]))
        expected = CamLookup(store, result.run_id, images).overlay(item, row).read_bytes()
        assert base64.b64decode(cams[0]["src"].split(",", 1)[1]) == expected
    assert "class activation map" in "".join(parser.text["samples"])
