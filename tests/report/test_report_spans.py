"""The report of a tagging run has a span section: span F1 per type, span coverage per source, examples."""

from __future__ import annotations

import re

import pytest

from weaklab.demo.tagging import init_tagging_project
from weaklab.pipeline import Project
from weaklab.report import render_report
from weaklab.report.spans import marked_text
from weaklab.store import Store


@pytest.fixture(scope="module")
def tagging_run(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("report_tagging") / "ner"
    init_tagging_project(root, n_items=60)
    result = Project(root).run("fit")
    return root, result


def test_span_section_reports_f1_per_type_coverage_and_examples(tagging_run) -> None:
    """The section's F1 table holds the run's recorded per-type figures; coverage counts each source's spans."""
    root, result = tagging_run
    with Store(root / ".weaklab" / "weaklab.duckdb") as store:
        html = render_report(store, result.run_id)
        sets = store.span_sets(result.run_id)
        spans, _ = store.load_span_set(int(sets[sets["role"] == "sources"]["span_set_id"].iloc[0]))
    section = html[html.index('<section id="spans">'):]
    section = section[:section.index("</section>")]
    f1 = result.metrics["label_model"]["span_f1"]
    for kind in ("Chemical", "Disease", "micro"):
        assert re.search(rf"<td>{kind}</td><td class=\"num\">{f1[kind]['precision']:.3f}</td>", section)
    counts = spans.groupby("source").size()
    for j, name in enumerate(s["name"] for s in sets[sets["role"] == "sources"]["sources"].iloc[0]):
        assert f"<td>{name}</td><td class=\"num\">{int(counts.get(j, 0))}</td>" in section
    assert section.count("<mark") >= 1 and "least certain items" in section
    assert '<section id="label-model">' in html  # the other sections still render


def test_marked_text_escapes_tokens_and_types() -> None:
    """Tokens and types are HTML-escaped; spans become marks in token order."""
    out = marked_text(["<b>", "x&y", "z"], [[0, 1, "A<"], [2, 3, "B"]])
    assert "<b>" not in out and "&lt;b&gt;" in out and "x&amp;y" in out and "A&lt;" in out
    assert out.index("&lt;b&gt;") < out.index("z")


def test_classification_report_has_no_span_section(tmp_path) -> None:
    """A run without span sets has no span section."""
    from weaklab.demo import SpamDemo

    SpamDemo(store=tmp_path / "s.duckdb").run()
    with Store(tmp_path / "s.duckdb") as store:
        assert '<section id="spans">' not in render_report(store, store.latest_run_id())
