# ruff: noqa: RUF001, RUF002  (en dashes and multiplication signs in the generated tables are intended)
"""Label-model quality on the real data sets: weaklab vs snorkel 0.10, flyingsquid and crowd-kit.

Data sets (``../shared/data``, see its README):

* WRENCH ``wrench_youtube``, ``wrench_sms``, ``wrench_trec`` (WRENCH's 4,965-item train: the 68 appended
  gold items are dropped) and ``ws_hausa_news``: every model is fitted on the **train** votes and scored on
  the **test** split (metric: accuracy; F1 of the spam class for SMS, as in WRENCH).
* Crowd sets of Zheng et al. (2017) ``d_jn-product``, ``d_sentiment``, ``s4_Relevance``: fitted on all
  answers, scored on the gold items (accuracy and F1 of class 1; macro-F1 for the 4-class S_Rel).

Rules:

* Hard labels are the argmax of each library's probabilities; **exact ties count fractionally** (an item
  tied between two classes is half right), i.e. the expectation under uniform random tie-breaking. This is
  how the Zheng et al. paper scores majority vote; WRENCH's published rows may break ties otherwise.
* Every model runs with its library's default parameters (seeds fixed to 0). Nothing is tuned on test labels.
* A method still running after 300 s on a set is stopped there; one predicted to need more than 300 s (linear
  in item × source cells, from a set at least a quarter as large) is skipped.
* crowd-kit models cannot predict items they were not fitted on, so on WRENCH sets they are fitted on the
  train + test *votes* (no labels) and their test posteriors are read off; items nobody voted on get a
  uniform posterior (a tie).
* flyingsquid is binary only: it runs on the binary sets.
* ``AutoLabelModel`` (weaklab's default choice) is the only model that sees gold, and only gold outside the
  scored items: on WRENCH it is fitted on train + valid votes with the **valid** split's gold
  (``gold = -1`` on train items); on crowd sets it runs without gold ("no gold", unsupervised criterion) and
  with a fixed 10 % of the gold items ("10 % gold"), which are then left out of *its* score; the best peer
  on the same 90 % is shown beside it. For fairness snorkel also gets the valid gold the way snorkel uses it
  (``Y_dev`` sets the class balance) and crowd-kit's DawidSkene gets the same 10 % as ``true_labels``.

Run from the repository root in the benchmark environment::

    .venv-bench/bin/python benchmarks/label_models_quality.py           # all sets, writes BENCHMARKS.md
    .venv-bench/bin/python benchmarks/label_models_quality.py --quick   # youtube + d_sentiment, prints only
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C

NAME = "label_models_quality"
DATA = C.REPO_DIR.parent / "shared" / "data"
WRENCH_SETS = {
    "youtube": "wrench_youtube",
    "sms": "wrench_sms",
    "trec": "wrench_trec",
    "hausa": "ws_hausa_news",
}
CROWD_SETS = {"product": "d_jn-product", "sentiment": "d_sentiment", "relevance": "s4_Relevance"}
QUICK = ("youtube", "sentiment")
GOLD_FRACTION = 0.10
BUDGET_S = 300.0  # per method and data set on the shared machine (stopped or skipped beyond)
SEED = 0
VERSIONS = (
    "weaklab",
    "numpy",
    "scipy",
    "scikit-learn",
    "snorkel",
    "flyingsquid",
    "pgmpy",
    "crowd-kit",
    "torch",
)

# Published rows (anchors.md: WRENCH label-model table; paper_tables.md: Zheng et al. Table 6), in %.
WRENCH_PUBLISHED = {  # Youtube acc, SMS F1, TREC acc
    "MV": (84.00, 23.97, 60.80),
    "WMV": (78.00, 23.97, 57.20),
    "DS": (83.20, 4.94, 50.00),
    "DP": (82.00, 23.78, 64.20),
    "MeTaL": (84.00, 7.06, 57.60),
    "FS": (76.80, 0.00, 31.40),
}
ZHENG_PUBLISHED = {  # D_Product acc, D_Product F1, D_PosSent acc, D_PosSent F1, S_Rel acc
    "MV": (89.66, 59.05, 93.31, 92.85, 54.19),
    "ZC": (92.80, 63.59, 95.10, 94.60, 48.21),
    "GLAD": (92.20, 60.17, 95.20, 94.71, 53.59),
    "D&S": (93.66, 71.59, 96.00, 95.66, 61.30),
    "BCC": (93.78, 70.10, 96.00, 95.66, 60.72),
    "LFC": (93.73, 71.48, 96.00, 95.66, 61.64),
    "CATD": (92.66, 65.92, 95.50, 95.07, 45.32),
    "PM": (89.81, 59.34, 95.04, 94.53, 59.02),
}

log = logging.getLogger(NAME)


# ------------------------------------------------------------------------------------------- metrics


def tie_share(proba: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """Each class's share of a uniform random tie-break of the argmax, ``(n, k)``."""
    proba = np.nan_to_num(np.asarray(proba, dtype=np.float64), nan=0.0)
    tied = (proba >= proba.max(axis=1, keepdims=True) - tol).astype(np.float64)
    return tied / tied.sum(axis=1, keepdims=True)


def accuracy(proba: np.ndarray, y: np.ndarray) -> float:
    return float(tie_share(proba)[np.arange(y.size), y].mean())


def f1(proba: np.ndarray, y: np.ndarray, positive: int) -> float:
    share = tie_share(proba)
    tp = share[y == positive, positive].sum()
    denom = share[:, positive].sum() + np.sum(y == positive)
    return float(2 * tp / denom) if denom else 0.0


def macro_f1(proba: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean([f1(proba, y, c) for c in range(proba.shape[1])]))


# ---------------------------------------------------------------------------------------------- tasks


class Task:
    """One data set: the votes to fit on, the scored items and how to score them."""

    def __init__(
        self,
        name: str,
        kind: str,
        L_fit: Any,
        L_eval: Any,
        y_eval: np.ndarray,
        *,
        eval_in_fit: np.ndarray | None,
        auto_inputs: list[tuple[str, Any, np.ndarray, np.ndarray]],
        metric: str,
        positive: int = 1,
        dev_gold: np.ndarray | None = None,
        holdout: np.ndarray | None = None,
    ) -> None:
        self.name, self.kind = name, kind
        self.L_fit, self.L_eval, self.y_eval = L_fit, L_eval, y_eval
        self.eval_in_fit = eval_in_fit  # crowd sets: positions of the scored items in L_fit
        self.auto_inputs = auto_inputs  # (label, L, gold, mask of eval items to score)
        self.metric, self.positive, self.dev_gold = metric, positive, dev_gold
        self.k = L_fit.n_classes
        self.holdout = holdout  # crowd sets: the scored items whose gold AutoLabelModel did not see

    def scores(self, proba: np.ndarray, mask: np.ndarray | None = None) -> dict[str, float]:
        P, y = (proba, self.y_eval) if mask is None else (proba[mask], self.y_eval[mask])
        out = {"accuracy": accuracy(P, y)}
        out["f1"] = f1(P, y, self.positive) if self.k == 2 else macro_f1(P, y)
        out["main"] = out["f1"] if self.metric == "f1" else out["accuracy"]
        return out


def wrench_task(key: str) -> Task:
    from weaklab import LabelMatrix
    from weaklab.data import load_wrench

    folder = DATA / WRENCH_SETS[key]
    sets = {s: load_wrench(folder, split=s, drop_labeled=(key == "trec")) for s in ("train", "valid", "test")}
    train, valid, test = sets["train"].L, sets["valid"].L, sets["test"].L
    L_tv = LabelMatrix.concat([train.replace(item_ids=None), valid.replace(item_ids=None)])  # ids repeat
    gold = np.r_[np.full(train.n_items, -1), sets["valid"].gold]
    metric = "f1" if key == "sms" else "accuracy"
    return Task(
        key,
        "wrench",
        train,
        test,
        np.asarray(sets["test"].gold),
        eval_in_fit=None,
        auto_inputs=[("valid gold", L_tv, gold, np.ones(test.n_items, dtype=bool))],
        metric=metric,
        positive=1,
        dev_gold=np.asarray(sets["valid"].gold),
    )


def crowd_task(key: str) -> Task:
    from weaklab.data import load_zheng

    ds = load_zheng(DATA / "crowd_zheng2017" / CROWD_SETS[key])
    L, gold = ds.L, np.asarray(ds.gold)
    known = np.flatnonzero(gold >= 0)
    L_eval = L.select_items(known)
    y = gold[known]
    # A fixed 10 % of the gold items, chosen by a seeded permutation (not by label).
    rng = np.random.default_rng(SEED)
    given = np.zeros(known.size, dtype=bool)
    given[rng.permutation(known.size)[: round(GOLD_FRACTION * known.size)]] = True
    partial = np.full(L.n_items, -1)
    partial[known[given]] = y[given]
    metric = "accuracy"
    return Task(
        key,
        "crowd",
        L,
        L_eval,
        y,
        eval_in_fit=known,
        auto_inputs=[
            ("no gold", L, None, np.ones(known.size, dtype=bool)),
            (f"{GOLD_FRACTION:.0%} gold", L, partial, ~given),
        ],
        metric=metric,
        positive=1,
        dev_gold=None,
        holdout=~given,
    )


# --------------------------------------------------------------------------------------------- methods


def weaklab_models(k: int) -> dict[str, Callable[[], Any]]:
    import weaklab.models as M

    skip = {"LabelModel", "ConfusionLabelModel", "AutoLabelModel"}
    out = {}
    for name in M.__all__:
        cls = getattr(M, name)
        if name in skip or not isinstance(cls, type) or not issubclass(cls, M.LabelModel):
            continue
        if name == "Triplet" and k != 2:
            continue
        params = cls().get_params()
        out[f"weaklab {name}"] = lambda c=cls, p=params: c(random_state=SEED) if "random_state" in p else c()
    return out


def run_weaklab(make: Callable[[], Any], task: Task) -> np.ndarray:
    model = make().fit(task.L_fit)
    return model.predict_proba(task.L_eval)


def run_snorkel(task: Task, dev: bool = False) -> np.ndarray:
    from snorkel.labeling.model import LabelModel

    model = LabelModel(cardinality=task.k, verbose=False)
    kwargs: dict[str, Any] = {"seed": SEED, "progress_bar": False}
    if dev:
        kwargs["Y_dev"] = task.dev_gold
    model.fit(np.asarray(task.L_fit.to_dense(), dtype=np.int64), **kwargs)
    return model.predict_proba(np.asarray(task.L_eval.to_dense(), dtype=np.int64))


def run_snorkel_mv(task: Task) -> np.ndarray:
    from snorkel.labeling.model import MajorityLabelVoter

    return MajorityLabelVoter(cardinality=task.k).predict_proba(
        np.asarray(task.L_eval.to_dense(), dtype=np.int64)
    )


def run_flyingsquid(task: Task) -> np.ndarray:
    from flyingsquid.label_model import LabelModel

    def signed(L: Any) -> np.ndarray:
        dense = np.asarray(L.to_dense(), dtype=np.int64)
        return np.where(dense == -1, 0, np.where(dense == 1, 1, -1))

    model = LabelModel(task.L_fit.n_sources)
    model.fit(signed(task.L_fit))
    p1 = np.asarray(model.predict_proba_marginalized(signed(task.L_eval)), dtype=np.float64).reshape(-1)
    return np.c_[1 - p1, p1]


def crowdkit_frame(task: Task) -> tuple[Any, np.ndarray]:
    """Long votes for crowd-kit and the task id of each scored item."""
    from weaklab import LabelMatrix

    if task.eval_in_fit is not None:
        L, eval_ids = task.L_fit, task.eval_in_fit
    else:
        L = LabelMatrix.concat([task.L_fit.replace(item_ids=None), task.L_eval.replace(item_ids=None)])
        eval_ids = task.L_fit.n_items + np.arange(task.L_eval.n_items)
    rows, cols, labels = L.coo()
    import pandas as pd

    df = pd.DataFrame({"task": rows, "worker": cols, "label": labels.astype(np.int64)})
    return df, eval_ids


def run_crowdkit(name: str, task: Task, true_labels: Any = None) -> np.ndarray:
    import crowdkit.aggregation as ck

    df, eval_ids = crowdkit_frame(task)
    model = getattr(ck, name)()
    if true_labels is not None:
        probas = model.fit_predict_proba(df, true_labels=true_labels)
    else:
        probas = model.fit_predict_proba(df)
    probas = probas.reindex(columns=range(task.k), fill_value=0.0)
    probas = probas.reindex(eval_ids).fillna(1.0 / task.k)  # items without votes: a tie
    return probas.to_numpy(dtype=np.float64)


def peer_methods(task: Task) -> dict[str, Callable[[], np.ndarray]]:
    out: dict[str, Callable[[], np.ndarray]] = {
        "snorkel LabelModel": lambda: run_snorkel(task),
        "snorkel MajorityLabelVoter": lambda: run_snorkel_mv(task),
    }
    if task.dev_gold is not None:
        out["snorkel LabelModel (Y_dev = valid gold)"] = lambda: run_snorkel(task, dev=True)
    if task.k == 2:
        out["flyingsquid"] = lambda: run_flyingsquid(task)
    for name in ("MajorityVote", "DawidSkene", "GLAD", "MACE", "Wawa"):
        out[f"crowd-kit {name}"] = lambda n=name: run_crowdkit(n, task)
    return out


def run_auto(task: Task, L: Any, gold: np.ndarray | None) -> tuple[np.ndarray, dict[str, Any]]:
    from weaklab.models import AutoLabelModel

    auto = AutoLabelModel(random_state=SEED).fit(L, gold=gold)
    proba = auto.predict_proba(task.L_eval)
    info = {
        "selected": auto.selected_,
        "criterion": auto.criterion_,
        "metric": auto.metric_,
        "reason": auto.reason_,
        "scores": auto.scores_.to_dict(orient="records"),
    }
    return proba, info


# ----------------------------------------------------------------------------------------------- runner


class Budget(Exception):
    """Raised by the alarm when a method runs past BUDGET_S."""


def _alarm(signum: int, frame: Any) -> None:
    raise Budget()


def timed(fn: Callable[[], Any], budget: float = BUDGET_S) -> tuple[Any, float, str | None]:
    """Run ``fn``; return (result, seconds, error). Stops it (SIGALRM) after ``budget`` seconds."""
    t0 = time.perf_counter()
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, budget)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = fn()
    except Budget:
        return None, time.perf_counter() - t0, f"stopped after {budget:.0f} s (budget)"
    except Exception as exc:  # a peer failing on a data set is a result, not a crash
        return None, time.perf_counter() - t0, f"{type(exc).__name__}: {str(exc)[:200]}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    return out, time.perf_counter() - t0, None


RATES: dict[str, list[tuple[int, float]]] = {}  # method -> [(cells, seconds)] measured so far in this run


def predicted_seconds(method: str, task: Task) -> float | None:
    """Linear extrapolation in item x source cells, only from a set at least a quarter as large."""
    cells = task.L_fit.n_items * task.L_fit.n_sources
    usable = [sec * cells / c for c, sec in RATES.get(method, []) if 4 * c >= cells]
    return max(usable) if usable else None


def evaluate(task: Task) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def record(lib: str, method: str, fn: Callable[[], np.ndarray], only_subset: bool = False) -> None:
        guess = predicted_seconds(method, task)
        if guess is not None and guess > BUDGET_S:
            proba, seconds, error = None, 0.0, (
                f"skipped: predicted {guess:.0f} s > {BUDGET_S:.0f} s budget "
                "(linear in item x source cells from a set at least 1/4 as large)")
        else:
            proba, seconds, error = timed(fn)
            if error is None:
                RATES.setdefault(method, []).append((task.L_fit.n_items * task.L_fit.n_sources, seconds))
        row: dict[str, Any] = {
            "dataset": task.name,
            "lib": lib,
            "method": method,
            "seconds": seconds,
            "error": error,
            "only_subset": only_subset,
            "subset": None,
        }
        if proba is not None:
            proba = np.asarray(proba, dtype=np.float64)
            if proba.shape != (task.L_eval.n_items, task.k) or not np.all(np.isfinite(proba)):
                row["error"] = f"bad output: shape {proba.shape}, finite={bool(np.all(np.isfinite(proba)))}"
            else:
                row.update(task.scores(proba))
                if task.holdout is not None:
                    row["subset"] = task.scores(proba, task.holdout)
        rows.append(row)
        main = row["subset"]["main"] if only_subset and row["subset"] else row.get("main")
        shown = f"{main:.4f}" if main is not None else row["error"]
        print(f"  {task.name:10s} {method:45s} {shown}  ({seconds:.2f} s)", flush=True)

    for method, make in weaklab_models(task.k).items():
        record("weaklab", method, lambda m=make: run_weaklab(m, task))
    for label, L, gold, mask in task.auto_inputs:
        holder: dict[str, Any] = {}

        def auto_fn(L: Any = L, gold: Any = gold, holder: dict[str, Any] = holder) -> np.ndarray:
            proba, info = run_auto(task, L, gold)
            holder.update(info)
            return proba

        record("weaklab", f"weaklab AutoLabelModel ({label})", auto_fn, only_subset=not mask.all())
        rows[-1]["auto"] = holder
    peers = peer_methods(task)
    for method, fn in peers.items():
        record(method.split()[0], method, fn)
    if task.kind == "crowd":
        import pandas as pd

        gold = task.auto_inputs[1][2]
        known = gold >= 0
        true = pd.Series(gold[known], index=np.flatnonzero(known))
        record(
            "crowd-kit",
            f"crowd-kit DawidSkene (true_labels = {GOLD_FRACTION:.0%} gold)",
            lambda: run_crowdkit("DawidSkene", task, true_labels=true),
            only_subset=True,
        )
    return rows


# --------------------------------------------------------------------------------------------- report


def pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.2f}"


def main_score(row: dict[str, Any] | None, subset: bool | None = None) -> float | None:
    """The row's main metric: on the held-out subset when asked (or when it only has that), else all items."""
    if row is None or row.get("error"):
        return None
    use = row["only_subset"] if subset is None else (subset and row.get("subset") is not None)
    return row["subset"]["main"] if use else row.get("main")


def summary(rows: list[dict[str, Any]], keys: list[str], auto_label: str, subset: bool) -> dict[str, Any]:
    """AutoLabelModel (rows whose method contains ``auto_label``) vs the peers, per set and on average."""

    def score(r: dict[str, Any] | None) -> float | None:
        return main_score(r, subset)

    per_set, peer_vals, auto_vals = {}, {}, []
    for d in keys:
        auto = next(
            (
                r
                for r in rows
                if r["dataset"] == d
                and "AutoLabelModel" in r["method"]
                and any(lbl in r["method"] for lbl in auto_label.split("|"))
            ),
            None,
        )
        peers = [r for r in rows if r["dataset"] == d and r["lib"] != "weaklab" and not r["only_subset"]]
        for r in peers:
            peer_vals.setdefault(r["method"], {})[d] = score(r)
        best = max(peers, key=lambda r: score(r) if score(r) is not None else -1.0)
        auto_vals.append(score(auto))
        per_set[d] = {
            "auto": score(auto),
            "selected": (auto or {}).get("auto", {}).get("selected"),
            "best_peer": best["method"],
            "best_peer_score": score(best),
        }
    means = {
        m: float(np.mean(list(v.values())))
        for m, v in peer_vals.items()
        if len(v) == len(keys) and all(x is not None for x in v.values())
    }
    best_mean = max(means, key=means.__getitem__) if means else None
    auto_mean = None if any(v is None for v in auto_vals) else float(np.mean(auto_vals))  # type: ignore[arg-type]
    return {
        "per_set": per_set,
        "peer_means": means,
        "best_peer_mean_method": best_mean,
        "best_peer_mean": means.get(best_mean) if best_mean else None,
        "auto_mean": auto_mean,
    }


def wrench_markdown(rows: list[dict[str, Any]], keys: list[str]) -> str:
    by = {(r["dataset"], r["method"]): r for r in rows}
    methods = list(dict.fromkeys(r["method"] for r in rows if r["dataset"] in keys))
    head = ["method", *[f"{k} ({'F1' if k == 'sms' else 'acc'})" for k in keys], "mean", "seconds (sum)"]
    body = []
    for m in methods:
        vals = [main_score(by[(d, m)]) if (d, m) in by else None for d in keys]
        ok = [v for v in vals if v is not None]
        mean = pct(float(np.mean(ok))) if len(ok) == len(keys) else "–"
        secs = sum(by[(d, m)]["seconds"] for d in keys if (d, m) in by)
        body.append(
            [
                m if "Auto" not in m else f"**{m}**",
                *[pct(v) if v is not None else _err(by.get((d, m))) for d, v in zip(keys, vals)],
                mean,
                f"{secs:.1f}",
            ]
        )
    pub = [
        [
            f"published WRENCH {n}",
            *([f"{v:.2f}" for v in vals] + (["n/a"] if "hausa" in keys else [])),
            "",
            "",
        ]
        for n, vals in WRENCH_PUBLISHED.items()
    ]
    if keys != ["youtube", "sms", "trec", "hausa"]:
        pub = []
    return C.md_table(head, body + pub)


def crowd_markdown(rows: list[dict[str, Any]], keys: list[str]) -> str:
    by = {(r["dataset"], r["method"]): r for r in rows}
    methods = list(dict.fromkeys(r["method"] for r in rows if r["dataset"] in keys and not r["only_subset"]))
    head = ["method"]
    for k in keys:
        head += [f"{k} acc", f"{k} {'F1' if k != 'relevance' else 'macro-F1'}"]
    head += ["mean acc", "seconds (sum)"]
    body = []
    for m in methods:
        cells, accs = [], []
        for d in keys:
            r = by.get((d, m))
            if r is None or r.get("error"):
                cells += [_err(r), "–"]
                continue
            cells += [pct(r["accuracy"]), pct(r["f1"])]
            accs.append(r["accuracy"])
        mean = pct(float(np.mean(accs))) if len(accs) == len(keys) else "–"
        secs = sum(by[(d, m)]["seconds"] for d in keys if (d, m) in by)
        body.append([m if "Auto" not in m else f"**{m}**", *cells, mean, f"{secs:.1f}"])
    cols = {"product": (0, 1), "sentiment": (2, 3), "relevance": (4, None)}
    for n, vals in ZHENG_PUBLISHED.items():
        cells = []
        for d in keys:
            a, f = cols[d]
            cells += [f"{vals[a]:.2f}", f"{vals[f]:.2f}" if f is not None else "n/a"]
        body.append([f"published Zheng et al. {n}", *cells, "", ""])
    return C.md_table(head, body)


def holdout_markdown(rows: list[dict[str, Any]], keys: list[str]) -> str:
    head = [
        "data set",
        "scored items",
        f"AutoLabelModel ({GOLD_FRACTION:.0%} gold): selected",
        "acc",
        "crowd-kit DS (same gold as true_labels)",
        "best peer without gold (same items)",
        "acc",
    ]
    body = []
    for d in keys:
        subset = [r for r in rows if r["dataset"] == d and r.get("subset") and not r.get("error")]
        auto = next((r for r in subset if r["method"].startswith("weaklab AutoLabelModel (1")), None)
        ck = next((r for r in subset if "true_labels" in r["method"]), None)
        peers = [r for r in subset if r["lib"] != "weaklab" and not r["only_subset"]]
        best = max(peers, key=lambda r: r["subset"]["accuracy"]) if peers else None
        if auto is None:
            continue
        body.append(
            [
                d,
                f"{1 - GOLD_FRACTION:.0%} of gold",
                auto["auto"].get("selected"),
                pct(auto["subset"]["accuracy"]),
                pct(ck["subset"]["accuracy"]) if ck else "–",
                best["method"] if best else "–",
                pct(best["subset"]["accuracy"]) if best else "–",
            ]
        )
    return C.md_table(head, body, align="llllrlr")


def _err(row: dict[str, Any] | None) -> str:
    if row is None:
        return "n/a"
    err = row.get("error") or ""
    if err.startswith(("skipped", "stopped")):
        return "skipped"
    return "fails" if err else "–"


def markdown(results: dict[str, Any]) -> str:
    rows = results["rows"]
    w_keys = [k for k in WRENCH_SETS if any(r["dataset"] == k for r in rows)]
    c_keys = [k for k in CROWD_SETS if any(r["dataset"] == k for r in rows)]
    parts = [
        "## Label-model quality on real data",
        "",
        f"Command: `{results['command']}`",
        "",
        C.machine_markdown(results["machine"], VERSIONS),
        "",
        __doc__.split("Run from the repository root")[0].split("\n", 2)[2].strip(),
    ]
    if w_keys:
        parts += ["", "### WRENCH sets (fit on train, score on test; %)", "", wrench_markdown(rows, w_keys)]
    if c_keys:
        parts += [
            "",
            "### Crowd sets of Zheng et al. 2017 (score on gold items; %)",
            "",
            crowd_markdown(rows, c_keys),
            "",
            f"With {GOLD_FRACTION:.0%} of the gold items given to the model (scored on the other 90 %):",
            "",
            holdout_markdown(rows, c_keys),
        ]
    problems = [r for r in rows if r.get("error")]
    if problems:
        parts += ["", "Failures and skips (as raised by the library, first 200 characters):", ""]
        parts += [f"- {r['dataset']}, {r['method']}: {r['error']}" for r in problems]
    parts += ["", "### What AutoLabelModel chose", ""]
    for r in rows:
        if "AutoLabelModel" in r["method"] and r.get("auto"):
            parts.append(
                f"- **{r['dataset']}**, {r['method'].split('(')[1][:-1]}: {r['auto'].get('reason')}."
            )
    parts += ["", "### Against the targets", ""] + results["verdict"]
    return "\n".join(parts)


def verdict(rows: list[dict[str, Any]]) -> tuple[list[str], dict[str, Any]]:
    keys = list(dict.fromkeys(r["dataset"] for r in rows))
    lines, out = [], {}
    variants = (
        ("no gold on crowd sets, scored on all gold items", "valid gold|no gold", False),
        (
            f"{GOLD_FRACTION:.0%} gold on crowd sets, everyone scored on the other items",
            "valid gold|% gold",
            True,
        ),
    )
    for label, auto_label, subset in variants:
        s = summary(rows, keys, auto_label, subset)
        out[label] = s
        lost = [
            d
            for d, v in s["per_set"].items()
            if v["auto"] is None or v["best_peer_score"] is None or v["auto"] < v["best_peer_score"]
        ]
        gap = (
            None
            if s["auto_mean"] is None or s["best_peer_mean"] is None
            else s["auto_mean"] - s["best_peer_mean"]
        )
        lines.append(
            f"- **AutoLabelModel with valid gold on WRENCH, {label}**: "
            + "; ".join(
                f"{d} {pct(v['auto'])} vs best peer {pct(v['best_peer_score'])} ({v['best_peer']})"
                for d, v in s["per_set"].items()
            )
            + "."
        )
        lines.append(
            f"  - ≥ best peer on every data set: **{'yes' if not lost else 'no: ' + ', '.join(lost)}**. "
            f"Mean of the main metric over the {len(keys)} data sets: {pct(s['auto_mean'])} vs "
            f"{pct(s['best_peer_mean'])} for the best single peer method ({s['best_peer_mean_method']}), "
            f"a difference of {'–' if gap is None else f'{100 * gap:+.2f}'} points "
            f"(target ≥ +2: **{'met' if gap is not None and gap >= 0.02 else 'not met'}**)."
        )
    return lines, out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help=f"only {QUICK}; BENCHMARKS.md is not touched")
    p.add_argument("--only", nargs="+", help="data set keys to run (prints only)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("pgmpy").setLevel(logging.ERROR)  # flyingsquid's MarkovModel rename warning, per call
    keys = list(QUICK) if args.quick else (args.only or [*WRENCH_SETS, *CROWD_SETS])
    machine = C.machine_info()
    rows: list[dict[str, Any]] = []
    for key in keys:
        task = wrench_task(key) if key in WRENCH_SETS else crowd_task(key)
        print(f"== {key}: fit {task.L_fit.shape}, scored {task.L_eval.n_items}", flush=True)
        rows += evaluate(task)
    results = {"command": C.command_line(), "machine": machine, "rows": rows}
    results["verdict"], results["summary"] = verdict(rows)
    partial = args.quick or bool(args.only)
    path = C.write_results(NAME, results, quick=partial)
    print(f"wrote {path}")
    md = markdown(results)
    if partial:
        print(md)
    else:
        print(f"updated {C.update_markdown(NAME, md)}")


if __name__ == "__main__":
    main()
