"""Source repair suggestions: label-model accuracy before and after applying ``weaklab suggest``'s repairs.

Suggestions come from the weak-label error detector on the *training* items only (votes, label model, out-of-fold
TF-IDF logistic regression on the weak labels); no gold is looked at until the final measurement. Every suggested
repair is applied (narrow or drop; none is chosen by its effect), the label model is refitted on the repaired
sources, and its accuracy is measured on held-out gold.

* WRENCH youtube, sms, trec and the Hausa news set: the sources are vote columns (no rule text), so repairs are
  drops. Label model ``MatrixCompletion`` fitted on the train votes; accuracy on the covered **test** items and
  test coverage, before and after.
* The bundled spam project (``weaklab init``: 600 YouTube comments, keyword and regex LFs): templates can be
  narrowed. Accuracy on the project's **dev** rows (its only gold), before and after.

Usage::

    /work/main/.venv-bench/bin/python benchmarks/source_repair.py            # full run, rewrites the section
    /work/main/.venv-bench/bin/python benchmarks/source_repair.py --quick    # youtube only; file untouched
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    add_tree_args,
    check_tree,
    command_line,
    machine_info,
    machine_markdown,
    md_table,
    update_markdown,
    write_results,
)

from weaklab.cleaning import find_weak_label_errors, out_of_fold_proba
from weaklab.data import load_wrench
from weaklab.features import tfidf_features
from weaklab.models import MatrixCompletion
from weaklab.pipeline.suggest import apply_repairs, suggest_repairs

NAME = "source_repair"
DATA = Path(os.environ.get("WEAKLAB_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
SETS = ("wrench_youtube", "wrench_sms", "wrench_trec", "ws_hausa_news")


def suggestions(votes: np.ndarray, X: Any, model: Any, names: Any, *, lfs: Any = None, data: Any = None) -> Any:
    """Detector + repairs on the covered rows of ``votes`` (no gold)."""
    covered = np.flatnonzero((votes >= 0).any(axis=1))
    lm = model.predict_proba(votes)[covered]
    oof = out_of_fold_proba(LogisticRegression(C=4.0, max_iter=2000), X[covered], lm.argmax(axis=1), cv=5,
                            n_classes=lm.shape[1], random_state=0)
    found = find_weak_label_errors(votes[covered], lm, oof, confusion=getattr(model, "confusion_", None),
                                   abstain_rate=getattr(model, "abstain_rate_", None), source_names=names)
    rows = None if data is None else data.iloc[covered].reset_index(drop=True)
    return suggest_repairs(votes[covered], model, found, lfs=lfs, data=rows)


def lm_scores(train_votes: np.ndarray, test_votes: np.ndarray, gold: np.ndarray, k: int) -> dict[str, float]:
    model = MatrixCompletion(random_state=0).fit(train_votes, n_classes=k)
    covered = (test_votes >= 0).any(axis=1)
    pred = model.predict_proba(test_votes).argmax(axis=1)
    return {"accuracy": float(np.mean(pred[covered] == gold[covered])), "coverage": float(covered.mean()),
            "accuracy_all": float(np.mean(np.where(covered, pred, -1) == gold))}


def wrench_row(name: str) -> dict[str, Any]:
    train, test = load_wrench(DATA / name, "train"), load_wrench(DATA / name, "test")
    k = train.L.n_classes
    Ltr, Lte = train.L.to_dense().astype(np.int64), test.L.to_dense().astype(np.int64)
    names = list(train.L.source_names)
    model = MatrixCompletion(random_state=0).fit(Ltr, n_classes=k)
    X, _ = tfidf_features(train.items["text"], test.items["text"])
    sugg = suggestions(Ltr, X.tocsr(), model, names)
    drop = [names.index(r.source) for r in sugg.actionable()]
    keep = [j for j in range(len(names)) if j not in drop]
    gold = np.asarray(test.gold)
    before = lm_scores(Ltr, Lte, gold, k)
    after = lm_scores(Ltr[:, keep], Lte[:, keep], gold, k) if keep else before
    return {"dataset": name, "split": "test", "sources": len(names), "flagged": sugg.n_flagged,
            "judged": sugg.n_judged, "repairs": [r.to_dict() for r in sugg.actionable()], "before": before,
            "after": after}


def demo_row() -> dict[str, Any]:
    from weaklab.demo import init_project
    from weaklab.labeling import apply_lfs
    from weaklab.pipeline import load_config
    from weaklab.pipeline.loading import gold_labels, load_data, load_lfs

    with tempfile.TemporaryDirectory() as tmp:
        init_project(tmp)
        config = load_config(tmp)
        data, lfs = load_data(config), load_lfs(config)
    texts = data[config.get("data", "text_field")].astype(str)
    classes = list(config.class_names or [])
    gold = gold_labels(config, data, len(classes))
    dev = (data[config.get("data", "split_column")] == config.get("data", "dev_value")).to_numpy()
    train = ~dev
    L, _ = apply_lfs(lfs, data, progress=False)
    votes = np.asarray(L.to_dense()).astype(np.int64)
    k = len(classes)
    model = MatrixCompletion(random_state=0).fit(votes[train], n_classes=k)
    X, _ = tfidf_features(texts[train], texts[dev])
    sugg = suggestions(votes[train], X.tocsr(), model, list(L.source_names), lfs=lfs,
                       data=data[train].reset_index(drop=True))
    repaired = apply_repairs(lfs, sugg)
    L2, _ = apply_lfs(repaired, data, progress=False)
    votes2 = np.asarray(L2.to_dense()).astype(np.int64)
    before = lm_scores(votes[train], votes[dev], gold[dev], k)
    after = lm_scores(votes2[train], votes2[dev], gold[dev], k)
    return {"dataset": "spam project (weaklab init)", "split": "dev", "sources": len(lfs), "flagged": sugg.n_flagged,
            "judged": sugg.n_judged, "repairs": [r.to_dict() for r in sugg.actionable()], "before": before,
            "after": after}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    add_tree_args(parser)
    args = parser.parse_args(argv)
    if not args.quick:
        check_tree(args.allow_dirty)
    warnings.filterwarnings("ignore")
    info = machine_info()
    results = [wrench_row(n) for n in (SETS[:1] if args.quick else SETS)]
    results.append(demo_row())
    path = write_results(NAME, {"machine": info, "command": command_line(), "results": results}, quick=args.quick)
    body = markdown(results, info)
    if args.quick:
        sys.stdout.write(body + "\n")
    else:
        update_markdown(NAME, body)
    print(f"wrote {path}", file=sys.stderr)
    return 0


def markdown(results: list[dict[str, Any]], info: dict[str, Any]) -> str:
    head = ["data", "gold split", "sources", "flagged / judged (train)", "repairs", "LM acc before", "LM acc after",
            "change", "coverage before", "coverage after", "acc on all items before", "after"]
    rows = []
    for r in results:
        b, a = r["before"], r["after"]
        shown = "; ".join(f"{x['source']}: {x['action']}" + (f" ({x['detail']})" if x["action"] == "narrow" else "")
                          for x in r["repairs"][:6]) + (" ..." if len(r["repairs"]) > 6 else "")
        rows.append([r["dataset"], r["split"], str(r["sources"]), f"{r['flagged']} / {r['judged']}",
                     f"{len(r['repairs'])}: {shown}" if r["repairs"] else "0",
                     f"{b['accuracy']:.3f}", f"{a['accuracy']:.3f}", f"{a['accuracy'] - b['accuracy']:+.3f}",
                     f"{b['coverage']:.3f}", f"{a['coverage']:.3f}", f"{b['accuracy_all']:.3f}",
                     f"{a['accuracy_all']:.3f}"])
    better = sum(r["after"]["accuracy"] > r["before"]["accuracy"] + 1e-9 for r in results)
    worse = sum(r["after"]["accuracy"] < r["before"]["accuracy"] - 1e-9 for r in results)
    return f"""## Source repair suggestions (weaklab suggest): label-model accuracy before and after

Command: `{command_line()}`. {machine_markdown(info, ("weaklab", "scikit-learn", "numpy"))}

Suggestions are computed on the training items without gold (`find_weak_label_errors` on the votes, the label
model and 5-fold out-of-fold TF-IDF logistic regression; harm = errors a source causes net of those it fixes,
by predicting again without its votes). **Every** suggested repair is applied, none is picked by its effect, and
the label model (`MatrixCompletion`) is refitted on the repaired sources. Accuracy is on the covered items of
the gold split (WRENCH test; the spam project's dev rows), coverage the share of those items with a vote;
"acc on all items" counts an uncovered item as wrong (dropping a source trades coverage for accuracy).

Accuracy on covered items rose on {better} of {len(results)} sets and fell on {worse}; on all items (uncovered =
wrong) it rose on {sum(r["after"]["accuracy_all"] > r["before"]["accuracy_all"] + 1e-9 for r in results)}.

{md_table(head, rows)}
"""


if __name__ == "__main__":
    sys.exit(main())
