"""Multi-label label models and end models, on synthetic votes with known truth and on sets derived from text sets.

Part ``synthetic``: ``make_multilabel_matrix`` (8 sources, 6 labels, 5,000 items; labels correlated in
blocks of 2 with latent correlation 0 or 0.8; coverage 5-30 % or 20-60 %), 3 seeds per setting.

Part ``derived``: no real multi-label weak-supervision set ships offline inside a PyPI package, so one
is derived from each multi-class WRENCH-format text set with at least 5 classes (TREC, Hausa news):
an item joins 1, 2 or 3 texts (probabilities 0.4 / 0.35 / 0.25) of *different* classes drawn from one
split; its labels are those classes. Source ``j`` votes *present* for every class it voted on any part,
and *absent* for every other class only when it voted on every part (it then stated each part's
class); otherwise it abstains on that label. Label models are scored on the items built from the train
split (the usual transductive protocol); end models (one logistic regression per label on TF-IDF of the
joined texts) are trained on those items with the label model's soft labels and scored on items built
the same way from the test split, beside the same end model trained on the true label sets (an upper
reference, not a baseline). The end model is the one a multi-label project trains (``weaklab train``):
``MultiLabelSoftClassifier(LogisticRegression, calibration="cross_fit")`` on the project's TF-IDF
(``weaklab.pipeline.training.fitted_text_features`` with ``END_MODEL_DEFAULTS``: word 1-2-grams,
sublinear tf, ``C`` 4), fitted on the train and test items' texts as a project fits it on all its items;
the project default's soft labels also train it without the calibration, to show what that adds.

Models: one-vs-rest ``AutoLabelModel`` (a project's default), one-vs-rest majority vote (the baseline),
one-vs-rest Dawid-Skene, ``MultiLabelDawidSkene`` with independent labels and with the learned label-set
prior. All with fixed defaults; nothing tuned.

Usage::

    .venv/bin/python benchmarks/multilabel.py            # rewrites the multilabel section of BENCHMARKS.md
    .venv/bin/python benchmarks/multilabel.py --quick    # small; BENCHMARKS.md untouched
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import add_tree_args, check_tree, command_line, machine_info, machine_markdown, md_table, publish

from weaklab import MultiLabelDawidSkene, MultiLabelMatrix, OneVsRestLabelModel
from weaklab.data import load_wrench
from weaklab.endmodel import MultiLabelSoftClassifier
from weaklab.evaluation import hamming_loss, label_calibration_errors, macro_f1, micro_f1
from weaklab.models import AutoLabelModel, DawidSkene, MajorityVote
from weaklab.pipeline.training import END_MODEL_DEFAULTS, fitted_text_features
from weaklab.synthetic import make_multilabel_matrix

DATA = Path(os.environ.get("WEAKLAB_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
DERIVED_SETS = ("wrench_trec", "ws_hausa_news")
PARTS_P = (0.4, 0.35, 0.25)
DEFAULT_MODEL = "one-vs-rest AutoLabelModel (project default)"


def models() -> dict[str, Any]:
    return {
        DEFAULT_MODEL: OneVsRestLabelModel(AutoLabelModel(random_state=0)),
        "one-vs-rest majority vote": OneVsRestLabelModel(MajorityVote()),
        "one-vs-rest Dawid-Skene": OneVsRestLabelModel(DawidSkene(random_state=0)),
        "MultiLabelDawidSkene, independent": MultiLabelDawidSkene(cooccurrence="independent"),
        "MultiLabelDawidSkene, label-set prior": MultiLabelDawidSkene(cooccurrence="full"),
    }


def end_model(calibration: str = "cross_fit") -> MultiLabelSoftClassifier:
    """The end model of a multi-label project (``weaklab train``), or it without the calibration."""
    estimator = LogisticRegression(C=float(END_MODEL_DEFAULTS["C"]), max_iter=int(END_MODEL_DEFAULTS["max_iter"]),
                                   random_state=0)
    return MultiLabelSoftClassifier(estimator, calibration=calibration, random_state=0)


def scores(y: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    pred = (proba >= 0.5).astype(np.int8)
    return {"micro_f1": micro_f1(y, pred), "macro_f1": macro_f1(y, pred), "hamming": hamming_loss(y, pred),
            "ece": float(label_calibration_errors(proba, y).mean())}


# ------------------------------------------------------------------------------------ synthetic


def run_synthetic(n_items: int, seeds: int) -> list[dict[str, Any]]:
    rows = []
    for corr in (0.0, 0.8):
        for cov in ((0.05, 0.3), (0.2, 0.6)):
            for seed in range(seeds):
                data = make_multilabel_matrix(n_items, 8, 6, correlation=corr, coverage=cov, random_state=seed)
                for name, model in models().items():
                    t0 = time.perf_counter()
                    proba = model.fit(data.L).predict_proba(data.L)
                    rows.append({"correlation": corr, "coverage": list(cov), "seed": seed, "model": name,
                                 "seconds": time.perf_counter() - t0, **scores(data.y, proba)})
    return rows


# -------------------------------------------------------------------------------------- derived


def derive(texts: list[str], gold: np.ndarray, votes: np.ndarray, k: int, n_items: int,
           rng: np.random.Generator) -> tuple[list[str], np.ndarray, MultiLabelMatrix]:
    """Join 1-3 texts of different classes into items; translate the single-label votes (see the module doc)."""
    by_class = [np.flatnonzero(gold == c) for c in range(k)]
    usable = [c for c in range(k) if by_class[c].size]
    m = votes.shape[1]
    out_text, out_y = [], np.zeros((n_items, k), dtype=np.int8)
    dense = np.full((n_items, m, k), -1, dtype=np.int8)
    for i in range(n_items):
        size = min(int(rng.choice(3, p=PARTS_P)) + 1, len(usable))
        classes = rng.choice(usable, size, replace=False)
        parts = np.array([rng.choice(by_class[c]) for c in classes])
        out_text.append(" ".join(texts[p] for p in parts))
        out_y[i, classes] = 1
        part_votes = votes[parts]  # (size, m)
        for j in range(m):
            voted = part_votes[:, j][part_votes[:, j] >= 0]
            if voted.size == size:
                dense[i, j, :] = 0
            dense[i, j, np.unique(voted)] = 1
    return out_text, out_y, MultiLabelMatrix(dense)


def run_derived(n_train: int, n_test: int, seeds: int) -> list[dict[str, Any]]:
    rows = []
    for name in DERIVED_SETS:
        train = load_wrench(DATA / name, "train", drop_labeled=True)
        test = load_wrench(DATA / name, "test")
        k = train.L.n_classes
        votes_tr = train.L.to_dense()
        one_class = int(sum(np.unique(votes_tr[:, j][votes_tr[:, j] >= 0]).size == 1 for j in range(votes_tr.shape[1])))
        for seed in range(seeds):
            rng = np.random.default_rng(seed)
            tr = derive(train.items["text"].tolist(), np.asarray(train.gold), train.L.to_dense(), k, n_train, rng)
            te = derive(test.items["text"].tolist(), np.asarray(test.gold), test.L.to_dense(), k, n_test, rng)
            _, X = fitted_text_features(pd.Series(tr[0] + te[0]), END_MODEL_DEFAULTS)
            X_tr, X_te = X[:n_train], X[n_train:]
            dense = tr[2].to_dense()
            coverage = float(np.mean(np.any(dense >= 0, axis=1).any(axis=1)))
            present = (dense == 1).sum(axis=1)  # (n, K) present votes per item and label
            precision = (present * tr[1]).sum(axis=0) / np.maximum(present.sum(axis=0), 1)
            rows.append({"set": name, "seed": seed, "stage": "votes", "present_precision": precision.tolist(),
                         "absent_votes": int((dense == 0).sum()),
                         "one_class_sources": one_class, "sources": int(votes_tr.shape[1]),
                         "present_votes": int((dense == 1).sum())})
            ref = end_model().fit(X_tr, tr[1])
            rows.append({"set": name, "seed": seed, "model": "end model on the true label sets (reference)",
                         "stage": "end", **scores(te[1], ref.predict_proba(X_te))})
            for model_name, model in models().items():
                t0 = time.perf_counter()
                proba = model.fit(tr[2]).predict_proba(tr[2])
                lm_seconds = time.perf_counter() - t0
                rows.append({"set": name, "seed": seed, "model": model_name, "stage": "label", "coverage": coverage,
                             "seconds": lm_seconds, **scores(tr[1], proba)})
                end = end_model().fit(X_tr, proba)
                rows.append({"set": name, "seed": seed, "model": model_name, "stage": "end",
                             **scores(te[1], end.predict_proba(X_te))})
                if model_name == DEFAULT_MODEL:
                    plain = end_model("none").fit(X_tr, proba)
                    rows.append({"set": name, "seed": seed, "model": f"{model_name}, end model without calibration",
                                 "stage": "end", **scores(te[1], plain.predict_proba(X_te))})
            print(f"{name} seed {seed} done", flush=True)
    return rows


# ------------------------------------------------------------------------------------ reporting


def mean_rows(rows: list[dict[str, Any]], keys: tuple[str, ...]) -> list[dict[str, Any]]:
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(tuple(str(r.get(k)) for k in keys), []).append(r)
    out = []
    for key, rs in groups.items():
        entry = dict(zip(keys, key))
        for metric in ("micro_f1", "macro_f1", "hamming", "ece"):
            entry[metric] = float(np.mean([r[metric] for r in rs]))
        entry["n"] = len(rs)
        out.append(entry)
    return out


def fmt(e: dict[str, Any]) -> list[str]:
    return [f"{e['micro_f1']:.3f}", f"{e['macro_f1']:.3f}", f"{e['hamming']:.3f}", f"{e['ece']:.3f}"]


def _verdict(a: float, b: float) -> str:
    return "beats" if a > b else "ties" if a == b else "LOSES TO"


def reading(der: list[dict[str, Any]]) -> str:
    """What the derived-set tables say, generated from the run's numbers."""
    lines = []
    for name in DERIVED_SETS:
        lab = {e["model"]: e for e in mean_rows([r for r in der if r["stage"] == "label" and r["set"] == name],
                                               ("model",))}
        end = {e["model"]: e for e in mean_rows([r for r in der if r["stage"] == "end" and r["set"] == name],
                                               ("model",))}
        votes = [r for r in der if r["stage"] == "votes" and r["set"] == name]
        prec = np.mean([r["present_precision"] for r in votes], axis=0)
        share = np.mean([r["absent_votes"] / (r["absent_votes"] + r["present_votes"]) for r in votes])
        best = max(lab.values(), key=lambda e: e["micro_f1"])
        mv = lab["one-vs-rest majority vote"]["micro_f1"]
        ds = lab["one-vs-rest Dawid-Skene"]["micro_f1"]
        auto = lab[DEFAULT_MODEL]["micro_f1"]
        shared = lab["MultiLabelDawidSkene, label-set prior"]["micro_f1"]
        cal = end[DEFAULT_MODEL]["micro_f1"]
        plain = end[f"{DEFAULT_MODEL}, end model without calibration"]["micro_f1"]
        lines.append(
            f"- {name}: {votes[0]['one_class_sources']} of {votes[0]['sources']} sources vote one class only; "
            f"best label model by micro F1 is {best['model']} ({best['micro_f1']:.3f}); the project default "
            f"{_verdict(auto, mv)} one-vs-rest majority vote ({auto:.3f} vs {mv:.3f}) and {_verdict(auto, ds)} "
            f"one-vs-rest Dawid-Skene ({ds:.3f}); MultiLabelDawidSkene with the label-set prior "
            f"{_verdict(shared, mv)} one-vs-rest majority vote ({shared:.3f}). The project's end model on the "
            f"default's soft labels scores {cal:.3f} on the test items ({plain:.3f} without the calibration). "
            f"Precision of the present votes per label: {', '.join(f'{p:.2f}' for p in prec)}; absent votes "
            f"are {100 * share:.0f} % of all votes.")
    return "\n".join([
        "Reading the derived sets. Most WRENCH LFs behind them are one-class rules (counts below): such a rule "
        "only ever votes its class, so in the derived items a source votes present on one label and absent "
        "(when it voted on every part) on the others. A specificity shared across labels is then learned mostly "
        "from those absent votes, which are nearly always right, and makes every present vote look strong, "
        "including those of labels whose present votes are mostly wrong. Abstention, which carries the "
        "information for one-class rules, is not modelled. Per set (generated from this run's numbers):",
        *lines,
    ])


def markdown(syn: list[dict[str, Any]], der: list[dict[str, Any]], info: dict[str, Any], settings: dict[str, Any],
             seconds: float) -> str:
    metric_cols = ["micro F1", "macro F1", "Hamming loss", "mean per-label ECE"]
    syn_rows = [[e["correlation"], e["coverage"], e["model"], *fmt(e)] for e in
                mean_rows(syn, ("correlation", "coverage", "model"))]
    der_lab = [[e["set"], e["model"], *fmt(e)] for e in mean_rows([r for r in der if r["stage"] == "label"],
                                                                     ("set", "model"))]
    der_end = [[e["set"], e["model"], *fmt(e)] for e in mean_rows([r for r in der if r["stage"] == "end"],
                                                                     ("set", "model"))]
    return "\n\n".join([
        "## Multi-label tasks (issue 16, part 2)",
        f"Command: `{command_line()}`. {machine_markdown(info, ['weaklab', 'numpy', 'scipy', 'scikit-learn'])} "
        f"The run took {seconds:.0f} s.",
        (f"**Synthetic** (`make_multilabel_matrix`, {settings['n_synthetic']} items, 8 sources, 6 labels, "
         f"{settings['seeds']} seeds; scored against the planted labels; means over seeds). Correlation is the "
         "latent correlation of the labels inside blocks of 2."),
        md_table(["correlation", "coverage", "model", *metric_cols], syn_rows, align="lll" + "r" * 4),
        (f"**Derived from text sets** (see the script's docstring and docs/guide/multi-label.md: 1-3 texts of "
         f"different classes joined into one item; {settings['n_train']} train items and {settings['n_test']} "
         f"test items per seed, {settings['seeds']} seeds). Label models, on the train items:"),
        md_table(["set", "model", *metric_cols], der_lab, align="ll" + "r" * 4),
        ("End model as a project trains it (one logistic regression per label on the project's TF-IDF, "
         "calibration=\"cross_fit\") trained on each label model's soft labels, scored on the test items:"),
        md_table(["set", "trained on", *metric_cols], der_end, align="ll" + "r" * 4),
        reading(der),
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small run; BENCHMARKS.md untouched")
    parser.add_argument("--seeds", type=int, default=3)
    add_tree_args(parser)
    args = parser.parse_args(argv)
    if not args.quick:
        check_tree(args.allow_dirty)
    info, t0 = machine_info(), time.perf_counter()
    settings = {"seeds": 1 if args.quick else args.seeds, "n_synthetic": 500 if args.quick else 5000,
                "n_train": 300 if args.quick else 3000, "n_test": 200 if args.quick else 1000}
    syn = run_synthetic(settings["n_synthetic"], settings["seeds"])
    der = run_derived(settings["n_train"], settings["n_test"], settings["seeds"])
    body = markdown(syn, der, info, settings, time.perf_counter() - t0)
    publish("multilabel", {"machine": info, "command": command_line(), "settings": settings, "synthetic": syn,
                           "derived": der}, body, quick=args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
