"""Generated labeling functions vs hand-written ones vs gold-only training, on the WRENCH text sets.

Setting (``../shared/data``): ``wrench_youtube``, ``wrench_sms``, ``wrench_trec`` (WRENCH's 4,965-item
train: the 68 appended gold items are dropped) and ``ws_hausa_news``. For each set, gold budget
(50, 100, 200 items) and seed (0-4), the gold items are drawn uniformly at random from the train split;
the score is on the test split (accuracy; F1 of the spam class for SMS, as in WRENCH). Four arms:

* ``generated``: ``weaklab.labeling.generate_lfs(train, gold, random_state=seed)`` with its defaults
  (all four kinds, ``max_lfs=20``, default precision floor) -> label model -> end model;
* ``hand-written``: WRENCH's LF votes on train -> label model -> end model;
* ``gold only``: the end model trained on the gold items alone;
* ``generated + hand-written``: both vote matrices side by side -> label model -> end model.

Label model (every arm): ``AutoLabelModel()`` with its defaults, fitted without gold (the gold items were
used to make the generated LFs, so they would flatter them). End model (every arm): TF-IDF (fit on the
train texts) + ``LogisticRegression`` through ``SoftLabelClassifier``; in the LF arms it trains on the
label model's soft labels of the train items some LF voted on, with the gold items' soft labels replaced
by their gold class. Nothing is chosen on test labels (or on the valid split): every setting is a library
default fixed before the first run. Embeddings of the train texts (all-MiniLM-L6-v2) come from an on-disk
cache (``--cache``; filled on first use), which changes no vote.

Run from the repository root in the benchmark environment::

    .venv-bench/bin/python benchmarks/generate_lfs.py --budget 2400   # all sets, writes BENCHMARKS.md
    .venv-bench/bin/python benchmarks/generate_lfs.py --quick         # youtube, 100 gold, 1 seed; prints only

Seeds run outermost (all sets and budgets for seed 0, then seed 1, ...): when ``--budget`` seconds run
out, the remaining seeds are skipped and the section says how many seeds each cell averages.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C

NAME = "generate_lfs"
DATA = C.REPO_DIR.parent / "shared" / "data"
SETS = {"youtube": "wrench_youtube", "sms": "wrench_sms", "trec": "wrench_trec", "hausa": "ws_hausa_news"}
METRIC = {"sms": "f1"}
BUDGETS = (50, 100, 200)
SEEDS = (0, 1, 2, 3, 4)
ARMS = ("generated", "hand", "gold_only", "both")
LABELS = {"generated": "generated", "hand": "hand-written", "gold_only": "gold only",
          "both": "generated + hand-written"}
VERSIONS = ("weaklab", "numpy", "scipy", "scikit-learn", "sentence-transformers", "torch")


def end_model(k: int, seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression

    from weaklab.endmodel import SoftLabelClassifier

    return SoftLabelClassifier(LogisticRegression(max_iter=1000, random_state=seed), classes=np.arange(k))


def load(key: str) -> dict[str, Any]:
    from weaklab.data import load_wrench
    from weaklab.features import tfidf_features

    splits = load_wrench(DATA / SETS[key], split=None, drop_labeled=True)
    tr, te = splits["train"], splits["test"]
    X, X_test = tfidf_features(tr.items["text"], te.items["text"])
    return {"items": tr.items.reset_index(drop=True), "L": tr.L.to_dense(), "y": np.asarray(tr.gold),
            "k": int(tr.L.n_classes), "X": X, "X_test": X_test, "y_test": np.asarray(te.gold)}


def score(metric: str, y: np.ndarray, proba: np.ndarray) -> float:
    from weaklab.evaluation import accuracy, f1_score

    pred = proba.argmax(axis=1)
    if metric == "f1":
        return f1_score(y, pred, average="binary", pos_label=1, n_classes=proba.shape[1])
    return accuracy(y, pred, n_classes=proba.shape[1])


def weak_arm(data: dict[str, Any], votes: np.ndarray, gold_idx: np.ndarray, metric: str, seed: int
             ) -> dict[str, float]:
    """Label model on ``votes`` (no gold) -> end model on covered items, gold items on their gold class."""
    from weaklab.models import AutoLabelModel

    k = data["k"]
    proba = AutoLabelModel(random_state=seed).fit(votes, n_classes=k).predict_proba(votes)
    proba = np.asarray(proba, dtype=np.float64)
    proba[gold_idx] = np.eye(k)[data["y"][gold_idx]]
    keep = (votes != -1).any(axis=1)
    keep[gold_idx] = True
    model = end_model(k, seed).fit(data["X"][keep], proba[keep])
    covered = (votes != -1).any(axis=1)
    lm_acc = float(np.mean(proba[covered].argmax(axis=1) == data["y"][covered])) if covered.any() else float("nan")
    return {"score": score(metric, data["y_test"], model.predict_proba(data["X_test"])),
            "coverage": float(covered.mean()), "label_model_accuracy": lm_acc}


def run_one(data: dict[str, Any], metric: str, n_gold: int, seed: int, cache: Path) -> dict[str, Any]:
    from weaklab.labeling import apply_lfs, generate_lfs

    y, k = data["y"], data["k"]
    rng = np.random.default_rng(seed)
    gold_idx = np.sort(rng.choice(y.size, n_gold, replace=False))
    gold = np.full(y.size, -1)
    gold[gold_idx] = y[gold_idx]
    out: dict[str, Any] = {}
    t0 = time.perf_counter()
    lfs = generate_lfs(data["items"], gold, random_state=seed, n_classes=k, cache_dir=cache, progress=False)
    L_gen = apply_lfs(lfs, data["items"], progress=False)[0].to_dense() if lfs else np.full((y.size, 0), -1)
    gen_seconds = time.perf_counter() - t0
    gold_only = end_model(k, seed).fit(data["X"][gold_idx], y[gold_idx])
    out["gold_only"] = {"score": score(metric, data["y_test"], gold_only.predict_proba(data["X_test"]))}
    out["hand"] = weak_arm(data, data["L"], gold_idx, metric, seed)
    if L_gen.shape[1]:
        out["generated"] = weak_arm(data, L_gen, gold_idx, metric, seed)
        out["both"] = weak_arm(data, np.hstack([data["L"], L_gen]), gold_idx, metric, seed)
    else:  # nothing generated: the generated arm is the gold-only model, "both" the hand-written one
        out["generated"] = dict(out["gold_only"], coverage=0.0)
        out["both"] = dict(out["hand"])
    info = lfs.summary() if lfs else None
    out["lfs"] = {"n": len(lfs), "seconds": gen_seconds,
                  "kinds": {} if info is None else info["kind"].value_counts().to_dict(),
                  "names": [lf.name for lf in lfs]}
    return out


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in dict.fromkeys(r["dataset"] for r in rows):
        per: dict[str, Any] = {}
        for n_gold in BUDGETS:
            runs = [r for r in rows if r["dataset"] == key and r["n_gold"] == n_gold]
            if not runs:
                continue
            cell: dict[str, Any] = {"seeds": len(runs)}
            for arm in ARMS:
                vals = np.array([r["result"][arm]["score"] for r in runs])
                cell[arm] = {"mean": float(vals.mean()), "std": float(vals.std()), "per_seed": vals.tolist()}
            cell["generated_coverage"] = float(np.mean([r["result"]["generated"].get("coverage", 0.0) for r in runs]))
            cell["generated_lm_accuracy"] = float(np.nanmean([r["result"]["generated"].get("label_model_accuracy",
                                                                                           np.nan) for r in runs]))
            cell["n_lfs"] = float(np.mean([r["result"]["lfs"]["n"] for r in runs]))
            cell["gen_seconds"] = float(np.mean([r["result"]["lfs"]["seconds"] for r in runs]))
            per[str(n_gold)] = cell
        out[key] = per
    return out


def verdicts(summary: dict[str, Any]) -> dict[str, Any]:
    at = {k: v["100"] for k, v in summary.items() if "100" in v}
    beat_gold = {k: c["generated"]["mean"] - c["gold_only"]["mean"] for k, c in at.items()}
    beat_hand = {k: c["both"]["mean"] - c["hand"]["mean"] for k, c in at.items()}
    return {"generated_vs_gold_only_at_100": beat_gold, "both_vs_hand_at_100": beat_hand,
            "met_generated_vs_gold": sum(d > 0 for d in beat_gold.values()) >= 3,
            "met_both_vs_hand": sum(d > 0 for d in beat_hand.values()) >= 3}


def markdown(summary: dict[str, Any], verdict: dict[str, Any], info: dict[str, Any], complete: bool) -> str:
    lines = [
        "## Generated labeling functions (WRENCH text sets, gold drawn from train)",
        "",
        f"Command: `{C.command_line()}`. {C.machine_markdown(info, VERSIONS)}",
        "",
        "Gold items drawn uniformly from the train split (50 / 100 / 200; seeds 0-4); score on the test split "
        "(accuracy; SMS: F1 of the spam class). Arms: **generated** = `generate_lfs(train, gold)` with its "
        "defaults (keyword, regex, threshold and embedding kinds, `max_lfs=20`, precision floor = Wilson "
        "95 % lower bound >= (1 + class prior) / 2) -> label model -> end model; **hand-written** = WRENCH's "
        "LFs -> label model -> end model; **gold only** = the end model on the gold items alone; **both** = "
        "generated and hand-written LFs side by side. Label model everywhere: `AutoLabelModel()` defaults, no "
        "gold. End model everywhere: TF-IDF + LogisticRegression (`SoftLabelClassifier`), trained in the LF "
        "arms on the covered train items' soft labels with the gold items set to their gold class. No "
        "choice uses test or valid labels. Cells: mean ± std over the seeds run (column *seeds*); *LFs* = "
        "generated LFs, *cov* = their train coverage, *LM acc* = the label model's accuracy on the train "
        "items they cover.",
        "",
    ]
    header = ["set", "gold", "seeds", "generated", "hand-written", "gold only", "generated + hand-written",
              "LFs", "cov", "LM acc", "gen time"]
    rows = []
    for key, per in summary.items():
        for n_gold, cell in per.items():
            rows.append([key, n_gold, cell["seeds"],
                         *[f"{cell[a]['mean'] * 100:.1f} ± {cell[a]['std'] * 100:.1f}" for a in ARMS],
                         f"{cell['n_lfs']:.1f}", f"{cell['generated_coverage'] * 100:.0f} %",
                         f"{cell['generated_lm_accuracy'] * 100:.1f}", C.fmt_seconds(cell["gen_seconds"])])
    lines += [C.md_table(header, rows), ""]
    g, h = verdict["generated_vs_gold_only_at_100"], verdict["both_vs_hand_at_100"]
    lines += [
        f"**Targets (100 gold items).** Generated beats gold-only on {sum(d > 0 for d in g.values())} of {len(g)} "
        "sets (target: at least 3): " + ", ".join(f"{k} {d * 100:+.1f}" for k, d in g.items())
        + f" -> **{'met' if verdict['met_generated_vs_gold'] else 'missed'}**. Generated + hand-written beats "
        f"hand-written alone on {sum(d > 0 for d in h.values())} of {len(h)} sets (target: at least 3): "
        + ", ".join(f"{k} {d * 100:+.1f}" for k, d in h.items())
        + f" -> **{'met' if verdict['met_both_vs_hand'] else 'missed'}**."
        + ("" if complete else " The wall-clock budget ran out before every seed ran: see *seeds*."),
        "",
        "Anchors: Snuba (Varma & Ré, VLDB 2018) generates heuristics from a small labelled set and selects "
        "them greedily for diversity, as here; automatic rule induction (Pryzant et al., 2022) and DP-SSL "
        "report that induced rules plus a label model add most where few labels exist and hand-written rules "
        "are weak. Their numbers come from other splits, label budgets and end models, so they are named as "
        "context, not compared cell by cell.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="youtube, 100 gold items, one seed; prints only")
    parser.add_argument("--sets", nargs="+", choices=list(SETS), default=None)
    parser.add_argument("--budget", type=float, default=None, help="wall-clock seconds; later seeds are skipped")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/weaklab-bench-embeddings"),
                        help="embedding cache folder (filled on first use)")
    C.add_tree_args(parser)
    args = parser.parse_args(argv)
    full = not args.quick and args.sets is None
    if full:
        C.check_tree(args.allow_dirty)
    warnings.simplefilter("ignore")  # label-model convergence and selection notes
    info = C.machine_info(VERSIONS)
    keys = args.sets or (["youtube"] if args.quick else list(SETS))
    budgets = (100,) if args.quick else BUDGETS
    seeds = SEEDS[:1] if args.quick else SEEDS
    data = {key: load(key) for key in keys}
    rows: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    complete = True
    for seed in seeds:
        if args.budget is not None and seed > 0 and time.perf_counter() - t0 > args.budget * seed / (seed + 1):
            complete = False  # another full seed would not fit in the budget at the pace so far
            break
        for key in keys:
            metric = METRIC.get(key, "accuracy")
            for n_gold in budgets:
                res = run_one(data[key], metric, n_gold, seed, args.cache)
                rows.append({"dataset": key, "n_gold": n_gold, "seed": seed, "result": res})
                print(f"{key:8s} gold {n_gold:3d} seed {seed}: " + "  ".join(
                    f"{a} {res[a]['score']:.3f}" for a in ARMS) + f"  ({res['lfs']['n']} LFs, "
                    f"{res['lfs']['seconds']:.1f} s; total {time.perf_counter() - t0:.0f} s)", flush=True)
    summary = summarise(rows)
    verdict = verdicts(summary)
    payload = {"command": C.command_line(), "machine": info, "budgets": budgets, "seeds_run": sorted(
        {r["seed"] for r in rows}), "complete": complete, "summary": summary, "verdict": verdict, "runs": rows}
    C.publish(NAME, payload, markdown(summary, verdict, info, complete), quick=args.quick, update_md=full)
    return 0


if __name__ == "__main__":
    sys.exit(main())
