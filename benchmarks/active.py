"""Active learning on the WRENCH text sets: test score after 50, 100, 200, 500 answers per strategy.

Setting (``../shared/data``): ``wrench_youtube``, ``wrench_sms``, ``wrench_trec`` (WRENCH's 4,965-item
train: the 68 appended gold items are dropped) and ``ws_hausa_news``. The pool is the train split; the
oracle answers with the train split's gold labels; the score is on the test split (accuracy; F1 of the
spam class for SMS, as in WRENCH).

Every run starts from the label model's labels (no answers, round 0) and then asks up to 50, 100, 200
and 500 answers, with one more checkpoint at 10 % of the train set (the target's "within 10 %" is read
there, not extrapolated). Each round (:func:`weaklab.active.simulate`, the library's loop with its
defaults):

* label model: ``AutoLabelModel(candidates=[MajorityVote, WeightedMajorityVote, DawidSkene], min_gold=20,
  cv=3)`` fitted on the train votes. Gold: with the ``random`` strategy every answer
  (``gold_sampling="random"``); with another strategy :meth:`ActiveLoop.representative_gold` (the
  answers to the loop's random draws, and with ``sampling="stochastic"`` importance-resampled strategy
  answers), since the strategy's own picks are a biased sample (issue 10, part 4);
* end model: ``SoftLabelClassifier`` over logistic regression (``SGDClassifier(loss="log_loss")``: the
  same model fitted by SGD, ~40x faster than lbfgs on this machine) on TF-IDF of the train texts, trained
  on the label model's soft labels with answered items replaced by their answer; a weak label weighs
  what ``ActiveLoop``'s default ``weak_weight`` gives (the section states it), an answer
  ``ANSWER_WEIGHT``; items no source voted on and nobody answered are left out;
* the strategy picks the next items from the end model's probabilities on the pool (and the label
  model's soft labels, the votes or the TF-IDF features, as it needs).

"Gold-trained" is the same end model trained on every train gold label. Numbers are means over 3 seeds
(seeds change the strategies' randomness, tie-breaking and the end model's SGD). AULC is the area under
the learning curve from 0 to 500 answers (trapezoids over the checkpoints) divided by 500. Nothing is
tuned on test labels: every strategy runs with its library defaults, ``ANSWER_WEIGHT`` was fixed
before the first run, and the loop's defaults were chosen on development runs scored on the *valid*
split (``--split valid --loop NAME=VALUE ...``; those runs never write BENCHMARKS.md).

Run from the repository root in the benchmark environment::

    .venv-bench/bin/python benchmarks/active.py           # all sets, writes BENCHMARKS.md
    .venv-bench/bin/python benchmarks/active.py --quick   # youtube, 1 seed, 2 strategies; prints only
"""

from __future__ import annotations

import argparse
import functools
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


def load(key: str, split: str = "test") -> dict[str, Any]:
    from weaklab.data import load_wrench
    from weaklab.features import tfidf_features

    splits = load_wrench(DATA / SETS[key], split=None, drop_labeled=True)
    tr, te = splits["train"], splits[split]
    X, X_test = tfidf_features(tr.items["text"], te.items["text"])
    return {"L": tr.L, "y": np.asarray(tr.gold), "X": X, "X_test": X_test, "y_test": np.asarray(te.gold)}


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


def run_one(data: dict[str, Any], metric: str, strategy: str, seed: int,
            loop_params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    from weaklab.active import ActiveLoop, simulate

    budgets = np.diff(checkpoints(data["L"].n_items)).tolist()
    loop = ActiveLoop(strategy, budget_per_round=budgets[0], answer_weight=ANSWER_WEIGHT, random_state=seed,
                      **(loop_params or {}))
    y = data["y"]
    curve = simulate(loop, data["L"], data["X"], lambda items: y[items], label_model=label_model(seed),
                     end_model=end_model(seed), rounds=budgets, X_test=data["X_test"],
                     y_test=data["y_test"], metric=lambda yt, p: score(metric, yt, p), y_pool=y)
    return curve.to_dict("records")


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
    from weaklab.active import MIN_CV_ANSWERS, WEAK_WEIGHT_GRID

    warm, explore = loop.warm_start, loop.explore
    if loop.sampling == "top":
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
              "answers, every answer alike with `sampling=\"top\"`, one-standard-error rule toward the \"auto\" "
              f"weight; \"auto\" below {MIN_CV_ANSWERS} answers)",
    }.get(str(loop.weak_weight), f"weak labels weighted {loop.weak_weight}")
    return gold, weak


def markdown(summary: dict[str, Any], info: dict[str, Any], seeds: tuple[int, ...], load_end: str = "") -> str:
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
        "checkpoint at 10 % of the train set. Label model: AutoLabelModel over MajorityVote / "
        "WeightedMajorityVote / DawidSkene (min_gold=20, cv=3) with, as gold, every answer for `random` and "
        f"{gold_text} for the other strategies: their own picks are a biased sample. End model: logistic "
        "regression (SGD, log loss) on TF-IDF through SoftLabelClassifier; answered items trained on their answer "
        f"(weight {ANSWER_WEIGHT:g}), {weak_text}. Library defaults throughout. Means over "
        f"{len(seeds)} seeds; AULC = area under the learning curve over "
        "0-500 answers / 500; Δ = AULC minus random's. \"Gold reached\" = fewest answers (among the "
        "checkpoints) at which the mean score reaches the end model trained on *all* train gold labels.",
        "",
    ]
    verdict = []
    for key, res in summary.items():
        per = res["strategies"]
        rand = per.get("random", {}).get("aulc")
        lines += [f"**{key}** (train {res['n_train']} items; 10 % = {res['n_train'] // 10}; gold-trained "
                  f"{res['gold_trained'] * 100:.1f})", ""]
        rows = []
        for strat, v in sorted(per.items(), key=lambda kv: -kv[1]["aulc"]):
            cells = [strat + (" (default)" if strat == DEFAULT else "")]
            cells += [f"{s * 100:.1f}" for s in v["score_mean"]]
            cells += [f"{v['aulc'] * 100:.1f}", "-" if rand is None or strat == "random"
                      else f"{(v['aulc'] - rand) * 100:+.1f}",
                      "no" if v["reaches_gold_at"] is None else str(v["reaches_gold_at"]),
                      f"{v['label_model_accuracy_mean'][-1] * 100:.1f}", C.fmt_seconds(v["seconds_mean"])]
            rows.append(cells)
        header = ["strategy", *[f"@{c}" for c in checkpoints(res["n_train"])], "AULC", "Δ vs random", "gold reached",
                  "LM acc @500", "time/run"]
        lines += [C.md_table(header, rows), ""]
        d = per.get(DEFAULT)
        if d is not None and rand is not None:
            beats = d["aulc"] > rand
            reach = d["reaches_gold_at"]
            within = reach is not None and reach <= res["n_train"] // 10
            verdict.append((key, beats, within, d["aulc"] - rand, reach))
    if verdict:
        n_beat = sum(v[1] for v in verdict)
        n_reach = sum(v[2] for v in verdict)
        lines += [
            f"**Targets.** Default strategy ({DEFAULT}) beats random (AULC) on {n_beat} of {len(verdict)} sets "
            f"(target: at least 3): " + ", ".join(f"{k} {d * 100:+.1f}" for k, _, _, d, _ in verdict) + ". "
            f"It reaches the gold-trained score with ≤ 10 % of the train set answered on {n_reach} of "
            f"{len(verdict)} sets (target: at least 2): "
            + ", ".join(f"{k} {'at ' + str(r) if r is not None else 'not within 500'}" for k, _, _, _, r in verdict)
            + ".",
        ]
    return "\n".join(lines)


@functools.cache
def _cached_load(key: str, split: str) -> dict[str, Any]:
    return load(key, split)


def _task(task: tuple[str, str, str, int, dict[str, Any]]) -> list[dict[str, Any]]:
    """One learning curve (run in a worker process; the data are loaded once per process)."""
    warnings.simplefilter("ignore", RuntimeWarning)
    warnings.simplefilter("ignore", UserWarning)
    key, split, strategy, seed, loop_params = task
    return run_one(_cached_load(key, split), METRIC.get(key, "accuracy"), strategy, seed, loop_params)


def _loop_param(text: str) -> tuple[str, Any]:
    name, _, value = text.partition("=")
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
    parser.add_argument("--split", choices=["test", "valid"], default="test",
                        help="split scored (valid: for development choices; never written to BENCHMARKS.md)")
    parser.add_argument("--loop", nargs="*", default=[], metavar="NAME=VALUE",
                        help="ActiveLoop parameters other than the library defaults (development runs)")
    C.add_tree_args(parser)
    args = parser.parse_args(argv)
    loop_params = dict(_loop_param(p) for p in args.loop)
    writes = not args.quick and args.sets is None and args.strategies is None and args.split == "test"
    writes = writes and not loop_params
    if writes:  # this run writes BENCHMARKS.md
        C.check_tree(args.allow_dirty)
    warnings.simplefilter("ignore", RuntimeWarning)  # DawidSkene convergence notes inside AutoLabelModel
    warnings.simplefilter("ignore", UserWarning)  # AutoLabelModel's "close call" notes, every round
    info = C.machine_info(VERSIONS)
    keys = args.sets or (["youtube"] if args.quick else list(SETS))
    strategies = tuple(args.strategies or (("random", DEFAULT) if args.quick else STRATEGIES))
    seeds = SEEDS[:1] if args.quick else SEEDS
    rows: list[dict[str, Any]] = []
    gold: dict[str, float] = {}
    n_train: dict[str, int] = {}
    t0 = time.perf_counter()
    for key in keys:
        data = _cached_load(key, args.split)
        gold[key] = gold_trained(data, METRIC.get(key, "accuracy"), seeds)
        n_train[key] = int(data["L"].n_items)
        print(f"{key}: gold-trained {gold[key]:.3f}", flush=True)
    tasks = [(key, args.split, strat, seed, loop_params) for key in keys for strat in strategies for seed in seeds]
    with ProcessPoolExecutor(max_workers=args.jobs, mp_context=mp.get_context("fork")) as pool:
        for (key, _, strat, seed, _), curve in zip(tasks, pool.map(_task, tasks), strict=True):
            rows.append({"dataset": key, "strategy": strat, "seed": seed, "curve": curve})
            print(f"  {key:8s} {strat:20s} seed {seed}: " + " ".join(f"{c['score']:.3f}" for c in curve)
                  + f"  ({curve[-1]['seconds']:.1f} s; total {time.perf_counter() - t0:.0f} s)", flush=True)
    summary = summarise(rows, gold, n_train)
    payload = {"command": C.command_line(), "machine": info, "split": args.split, "loop_params": loop_params,
               "checkpoints": {k: checkpoints(n) for k, n in n_train.items()}, "seeds": seeds,
               "answer_weight": ANSWER_WEIGHT, "summary": summary, "runs": rows}
    path = C.write_results(NAME, payload, quick=not writes)
    load_end = f" Load average at end {os.getloadavg()[0]:.2f}; wall time {time.perf_counter() - t0:.0f} s."
    body = markdown(summary, info, seeds, load_end)
    print(body)
    if writes:
        C.update_markdown(NAME, body)
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
