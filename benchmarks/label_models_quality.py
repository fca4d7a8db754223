# ruff: noqa: RUF001  (en dashes and multiplication signs in the generated tables are intended)
"""Label-model quality on the real data sets, without gold and with gold: weaklab vs its peers.

Data sets (``../shared/data``, see its README): WRENCH ``wrench_youtube``, ``wrench_sms``, ``wrench_trec``
(WRENCH's 4,965-item train: the 68 appended gold items are dropped) and ``ws_hausa_news``; the crowd sets of
Zheng et al. (2017) ``d_jn-product``, ``d_sentiment``, ``s4_Relevance``; and CIFAR-10N (``cifar10n``: 50,000
images, 10 classes, three human answers each, read as three sources ``random_label1..3``; the gold is the
clean CIFAR-10 label).

Every set is run in **two settings**, reported in two tables with a verdict each:

* **no gold**: every model sees votes only. WRENCH: fitted on the train votes, scored on the test split.
  Crowd sets: fitted on all answers, scored on every gold item.
* **with gold**: WRENCH: fitted on the train + valid votes with the valid split's gold (``-1`` on train
  items), scored on the test split. Crowd sets: a fixed 10 % of the gold items (a seeded permutation, not
  chosen by label) is given; every model in this table is scored on the other 90 %. Only models that use
  the gold are in this table: weaklab's models (``fit(L, gold=...)``), snorkel's ``LabelModel`` with
  ``Y_dev`` (snorkel uses it for the class balance), crowd-kit's ``DawidSkene`` with ``true_labels`` and
  ``hyperlm`` with ``y_indices``/``y_vals``.

Peers: snorkel 0.10 ``LabelModel`` and ``MajorityLabelVoter``, flyingsquid (binary sets only), crowd-kit
``MajorityVote``, ``DawidSkene``, ``GLAD``, ``MACE``, ``Wawa`` and the pretrained hyper label model of Wu et
al. (ICLR 2023, PyPI ``hyperlm``). weaklab: every label model of ``weaklab.models`` (``HyperLabelModel``
too, when the installed weaklab has it) and ``AutoLabelModel``, the default.

Scoring: **expected accuracy** with exact ties split: the argmax of each model's probabilities, an item tied
among t classes counting 1/t (the expectation under a uniform random tie-break; how Zheng et al. score
majority vote). SMS also shows the F1 of the spam class (WRENCH's metric for it); verdicts use accuracy.
Every model runs with its library's default parameters, seeds fixed to 0; nothing is tuned or chosen on the
scored items. crowd-kit and hyperlm label only the items they are given, so they get the fitted votes plus
the scored items' votes (never labels), and the scored items' posteriors are read off; items nobody voted
on get a uniform posterior (a tie).

Run from the repository root in the benchmark environment::

    .venv-bench/bin/python benchmarks/label_models_quality.py           # all sets, writes BENCHMARKS.md
    .venv-bench/bin/python benchmarks/label_models_quality.py --quick   # youtube + sentiment, prints only
    .venv-bench/bin/python benchmarks/label_models_quality.py --only trec --settings "no gold"
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import logging
import os
import signal
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C

NAME = "label_models_quality"
DATA = Path(os.environ.get("WEAKLAB_DATA", C.REPO_DIR.parent / "shared" / "data"))
WRENCH_SETS = {"youtube": "wrench_youtube", "sms": "wrench_sms", "trec": "wrench_trec", "hausa": "ws_hausa_news"}
CROWD_SETS = {"product": "d_jn-product", "sentiment": "d_sentiment", "relevance": "s4_Relevance",
              "cifar10n": "cifar10n"}  # cifar10n: CIFAR-10N (Wei et al. 2022), not one of Zheng et al.'s sets
F1_SETS = ("sms",)  # sets that also show the F1 of class 1
QUICK = ("youtube", "sentiment")
SETTINGS = ("no gold", "gold")
GOLD_FRACTION = 0.10
BUDGET_S = 300.0  # default per method, set and setting (--budget)
MV = "weaklab MajorityVote"  # the simplest baseline
AUTO = "weaklab AutoLabelModel"
SNORKEL_DEV = "snorkel LabelModel (Y_dev)"
SEED = 0
PEER_PACKAGES = ("numpy", "pandas", "snorkel", "flyingsquid", "pgmpy", "crowd-kit", "hyperlm", "torch")
CACHE_DIR = Path(os.environ.get("WEAKLAB_BENCH_CACHE", Path.home() / ".cache" / "weaklab-bench")) / NAME
VERSIONS = ("weaklab", "numpy", "scipy", "scikit-learn", "snorkel", "flyingsquid", "pgmpy", "crowd-kit",
            "hyperlm", "torch")

# Published rows (anchors.md: WRENCH label-model table; paper_tables.md: Zheng et al. Table 6), in %.
WRENCH_PUBLISHED = {  # Youtube acc, SMS F1, TREC acc
    "MV": (84.00, 23.97, 60.80), "WMV": (78.00, 23.97, 57.20), "DS": (83.20, 4.94, 50.00),
    "DP": (82.00, 23.78, 64.20), "MeTaL": (84.00, 7.06, 57.60), "FS": (76.80, 0.00, 31.40),
}
ZHENG_PUBLISHED = {  # D_Product acc, D_PosSent acc, S_Rel acc
    "MV": (89.66, 93.31, 54.19), "ZC": (92.80, 95.10, 48.21), "GLAD": (92.20, 95.20, 53.59),
    "D&S": (93.66, 96.00, 61.30), "BCC": (93.78, 96.00, 60.72), "LFC": (93.73, 96.00, 61.64),
    "CATD": (92.66, 95.50, 45.32), "PM": (89.81, 95.04, 59.02),
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


def f1(proba: np.ndarray, y: np.ndarray, positive: int = 1) -> float:
    share = tie_share(proba)
    tp = share[y == positive, positive].sum()
    denom = share[:, positive].sum() + np.sum(y == positive)
    return float(2 * tp / denom) if denom else 0.0


# ---------------------------------------------------------------------------------------------- tasks


@dataclass(frozen=True)
class Setting:
    """One data set in one setting: what the models fit on and which items are scored.

    ``L_fit``/``gold`` feed the inductive models (``fit`` then ``predict_proba(L_eval)``); ``L_all`` holds
    the fitted votes plus the scored items, for the transductive peers, with the scored items at
    ``eval_in_all`` and the given gold (if any) at ``gold_in_all``.
    """

    dataset: str
    setting: str
    k: int
    L_fit: Any
    gold: np.ndarray | None
    L_eval: Any
    y_eval: np.ndarray
    L_all: Any
    eval_in_all: np.ndarray
    gold_in_all: tuple[np.ndarray, np.ndarray] | None
    scored: str

    def scores(self, proba: np.ndarray) -> dict[str, float]:
        out = {"accuracy": accuracy(proba, self.y_eval)}
        if self.k == 2:
            out["f1"] = f1(proba, self.y_eval, 1)
        return out


def wrench_settings(key: str) -> list[Setting]:
    from weaklab import LabelMatrix
    from weaklab.data import load_wrench

    folder = DATA / WRENCH_SETS[key]
    sets = {s: load_wrench(folder, split=s, drop_labeled=(key == "trec")) for s in ("train", "valid", "test")}
    train, valid, test = (sets[s].L.replace(item_ids=None) for s in ("train", "valid", "test"))  # ids repeat
    y_valid, y_test = np.asarray(sets["valid"].gold), np.asarray(sets["test"].gold)
    n_tr, n_va = train.n_items, valid.n_items
    no_gold = Setting(key, "no gold", train.n_classes, train, None, test, y_test,
                      LabelMatrix.concat([train, test]), n_tr + np.arange(test.n_items), None, "test split")
    L_tv = LabelMatrix.concat([train, valid])
    gold = Setting(key, "gold", train.n_classes, L_tv, np.r_[np.full(n_tr, -1), y_valid], test, y_test,
                   LabelMatrix.concat([train, valid, test]), n_tr + n_va + np.arange(test.n_items),
                   (n_tr + np.arange(n_va), y_valid), "test split; gold: the valid split")
    return [no_gold, gold]


def load_crowd(key: str) -> Any:
    """A crowd set of ``CROWD_SETS``: one of Zheng et al.'s, or CIFAR-10N (its clean labels as the gold)."""
    from weaklab.data import load_cifar10n, load_zheng

    if key == "cifar10n":
        return load_cifar10n(DATA / CROWD_SETS[key])
    return load_zheng(DATA / "crowd_zheng2017" / CROWD_SETS[key])


def crowd_settings(key: str) -> list[Setting]:
    ds = load_crowd(key)
    L, gold_all = ds.L, np.asarray(ds.gold)
    known = np.flatnonzero(gold_all >= 0)
    y = gold_all[known]
    given = np.zeros(known.size, dtype=bool)  # a fixed 10 % of the gold items, by a seeded permutation
    given[np.random.default_rng(SEED).permutation(known.size)[: round(GOLD_FRACTION * known.size)]] = True
    partial = np.full(L.n_items, -1)
    partial[known[given]] = y[given]
    held = known[~given]
    no_gold = Setting(key, "no gold", L.n_classes, L, None, L.select_items(known), y, L, known, None,
                      "all gold items")
    gold = Setting(key, "gold", L.n_classes, L, partial, L.select_items(held), y[~given], L, held,
                   (known[given], y[given]),
                   f"the {1 - GOLD_FRACTION:.0%} of gold items not given; gold: the other {GOLD_FRACTION:.0%}")
    return [no_gold, gold]


# --------------------------------------------------------------------------------------------- methods


def weaklab_models(k: int) -> dict[str, Callable[[], Any]]:
    """Every label model class of ``weaklab.models`` (HyperLabelModel when present), AutoLabelModel last."""
    import weaklab.models as M

    skip = {"LabelModel", "ConfusionLabelModel", "AutoLabelModel"}
    names = [n for n in M.__all__ if n not in skip]
    if hasattr(M, "HyperLabelModel") and "HyperLabelModel" not in names:
        names.append("HyperLabelModel")
    out = {}
    for name in [*names, "AutoLabelModel"]:
        cls = getattr(M, name)
        if not isinstance(cls, type) or not issubclass(cls, M.LabelModel) or (name == "Triplet" and k != 2):
            continue
        params = cls().get_params()
        out[f"weaklab {name}"] = lambda c=cls, p=params: c(random_state=SEED) if "random_state" in p else c()
    return out


def run_weaklab(make: Callable[[], Any], s: Setting, info: dict[str, Any]) -> np.ndarray:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = make().fit(s.L_fit, gold=s.gold)
        proba = model.predict_proba(s.L_eval)
    if hasattr(model, "selected_"):  # AutoLabelModel: what it chose and why
        scores = getattr(model, "scores_", None)
        info.update(selected=model.selected_, reason=getattr(model, "reason_", None),
                    criterion=getattr(model, "criterion_", None),
                    scores=scores.to_dict(orient="records") if hasattr(scores, "to_dict") else None)
    user = [str(w.message)[:300] for w in caught if issubclass(w.category, UserWarning)]
    if user:
        info["warnings"] = user
    return np.asarray(proba)


def dense(L: Any) -> np.ndarray:
    return np.asarray(L.to_dense(), dtype=np.int64)


def run_snorkel(s: Setting, dev: bool) -> np.ndarray:
    from snorkel.labeling.model import LabelModel

    model = LabelModel(cardinality=s.k, verbose=False)
    kwargs: dict[str, Any] = {"seed": SEED, "progress_bar": False}
    if dev:
        assert s.gold_in_all is not None
        kwargs["Y_dev"] = s.gold_in_all[1]
    model.fit(dense(s.L_fit), **kwargs)
    return model.predict_proba(dense(s.L_eval))


def run_snorkel_mv(s: Setting) -> np.ndarray:
    from snorkel.labeling.model import MajorityLabelVoter

    return MajorityLabelVoter(cardinality=s.k).predict_proba(dense(s.L_eval))


def run_flyingsquid(s: Setting) -> np.ndarray:
    from flyingsquid.label_model import LabelModel

    def signed(L: Any) -> np.ndarray:
        d = dense(L)
        return np.where(d == -1, 0, np.where(d == 1, 1, -1))

    model = LabelModel(s.L_fit.n_sources)
    model.fit(signed(s.L_fit))
    p1 = np.asarray(model.predict_proba_marginalized(signed(s.L_eval)), dtype=np.float64).reshape(-1)
    return np.c_[1 - p1, p1]


def run_crowdkit(name: str, s: Setting, use_gold: bool = False) -> np.ndarray:
    import crowdkit.aggregation as ck
    import pandas as pd

    rows, cols, labels = s.L_all.coo()
    df = pd.DataFrame({"task": rows, "worker": cols, "label": labels.astype(np.int64)})
    model = getattr(ck, name)()
    if use_gold:
        assert s.gold_in_all is not None
        pos, vals = s.gold_in_all
        probas = model.fit_predict_proba(df, true_labels=pd.Series(vals, index=pos))
    else:
        probas = model.fit_predict_proba(df)
    probas = probas.reindex(columns=range(s.k), fill_value=0.0)
    return probas.reindex(s.eval_in_all).fillna(1.0 / s.k).to_numpy(dtype=np.float64)


def run_hyperlm(s: Setting, use_gold: bool = False) -> np.ndarray:
    """hyperlm 0.0.5 on the fitted + scored votes; its checkpoint holds numpy scalars, which torch's
    ``weights_only`` loader accepts once they are allow-listed (nothing else is unpickled)."""
    import torch
    from hyperlm import HyperLabelModel

    allowed = [(np._core.multiarray.scalar, "numpy.core.multiarray.scalar"), np.dtype,
               type(np.dtype("float64")), type(np.dtype("int64"))]
    X = dense(s.L_all)
    with torch.serialization.safe_globals(allowed):
        model = HyperLabelModel(device="cpu")
        if use_gold:
            assert s.gold_in_all is not None
            pos, vals = s.gold_in_all
            proba = model.infer(X, y_indices=list(pos), y_vals=np.asarray(vals), return_probs=True)
        else:
            proba = model.infer(X, return_probs=True)
    proba = np.asarray(proba, dtype=np.float64)[s.eval_in_all]
    if proba.shape[1] < s.k:  # hyperlm infers k from the largest vote (or gold) it sees
        proba = np.c_[proba, np.zeros((proba.shape[0], s.k - proba.shape[1]))]
    covered = (dense(s.L_all)[s.eval_in_all] >= 0).any(axis=1)
    proba[~covered] = 1.0 / s.k  # no vote: a tie, as for the other transductive peers
    return proba


def peer_methods(s: Setting) -> dict[str, Callable[[], np.ndarray]]:
    """The peers of one setting: all of them without gold; only the gold-using ones with gold."""
    if s.setting == "gold":
        return {
            SNORKEL_DEV: lambda: run_snorkel(s, dev=True),
            "crowd-kit DawidSkene (true_labels)": lambda: run_crowdkit("DawidSkene", s, use_gold=True),
            "hyperlm (y_vals)": lambda: run_hyperlm(s, use_gold=True),
        }
    out: dict[str, Callable[[], np.ndarray]] = {
        "snorkel LabelModel": lambda: run_snorkel(s, dev=False),
        "snorkel MajorityLabelVoter": lambda: run_snorkel_mv(s),
    }
    if s.k == 2:
        out["flyingsquid"] = lambda: run_flyingsquid(s)
    for name in ("MajorityVote", "DawidSkene", "GLAD", "MACE", "Wawa"):
        out[f"crowd-kit {name}"] = lambda n=name: run_crowdkit(n, s)
    out["hyperlm"] = lambda: run_hyperlm(s)
    return out


# ------------------------------------------------------------------------------------------ peer cache


class PeerCache:
    """Peer posteriors from earlier runs, so a rerun only recomputes weaklab's rows.

    A peer's output depends on the data, the peer's package versions and this script's peer code, never on
    weaklab; the key hashes all three (the votes, gold and scored items of the setting; the versions of
    ``PEER_PACKAGES``; the source of the ``run_*`` peer functions and ``peer_methods``) with the method name
    and the seed. Successful runs are kept as ``.npz`` posteriors plus a JSON note of the seconds they took
    (no pickle); a budget stop is kept as a JSON note with its budget and reused only by a run whose budget is
    not larger. ``--no-peer-cache`` turns it off.
    """

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.hits = 0
        self.code = _sha(*(inspect.getsource(f) for f in (run_snorkel, run_snorkel_mv, run_flyingsquid,
                                                           run_crowdkit, run_hyperlm, peer_methods, dense)))
        versions = C.package_versions(PEER_PACKAGES)
        self.versions = _sha(json.dumps(versions, sort_keys=True))

    def key(self, s: Setting, method: str) -> str:
        return _sha(data_fingerprint(s), self.versions, self.code, method, str(SEED))

    def get(self, key: str, budget: float) -> tuple[np.ndarray | None, float, str | None] | None:
        """``(posteriors, seconds, None)``, ``(None, seconds, stop note)`` or None (not cached)."""
        if self.folder is None or not (self.folder / f"{key}.json").exists():
            return None
        note = json.loads((self.folder / f"{key}.json").read_text())
        if note.get("stopped_at") is not None:
            if float(note["stopped_at"]) < budget:
                return None
            self.hits += 1
            stop = f"stopped after {float(note['stopped_at']):.0f} s (budget, earlier run)"
            return None, float(note["seconds"]), stop
        if not (self.folder / f"{key}.npz").exists():
            return None
        with np.load(self.folder / f"{key}.npz", allow_pickle=False) as z:
            proba = np.asarray(z["proba"])
        self.hits += 1
        return proba, float(note["seconds"]), None

    def put(self, key: str, method: str, proba: np.ndarray | None, seconds: float, stopped_at: float | None = None,
            ) -> None:
        if self.folder is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        if proba is not None:
            np.savez_compressed(self.folder / f"{key}.npz", proba=np.asarray(proba, dtype=np.float64))
        note = {"method": method, "seconds": seconds, "stopped_at": stopped_at}
        (self.folder / f"{key}.json").write_text(json.dumps(note) + "\n")


def _sha(*parts: str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:32]


def data_fingerprint(s: Setting) -> str:
    """Hash of everything a peer sees of a setting: fitted, scored and transductive votes, gold, positions."""
    h = hashlib.sha256()
    for L in (s.L_fit, s.L_eval, s.L_all):
        h.update(np.ascontiguousarray(dense(L)).tobytes())
        h.update(repr(L.shape).encode())
    for a in (s.gold, s.eval_in_all, *(s.gold_in_all or ())):
        h.update(b"-" if a is None else np.ascontiguousarray(np.asarray(a, dtype=np.int64)).tobytes())
    h.update(f"{s.dataset}|{s.setting}|{s.k}".encode())
    return h.hexdigest()


# ----------------------------------------------------------------------------------------------- runner


class Budget(Exception):
    """Raised by the alarm when a method runs past its budget."""


def _alarm(signum: int, frame: Any) -> None:
    raise Budget()


def timed(fn: Callable[[], Any], budget: float) -> tuple[Any, float, str | None]:
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


def predicted_seconds(method: str, s: Setting) -> float | None:
    """Linear extrapolation in item x source cells, only from a set at least a quarter as large."""
    cells = s.L_all.n_items * s.L_all.n_sources
    usable = [sec * cells / c for c, sec in RATES.get(method, []) if 4 * c >= cells]
    return max(usable) if usable else None


def record(s: Setting, lib: str, method: str, fn: Callable[[dict[str, Any]], np.ndarray],
           budget: float, cache: PeerCache | None = None) -> dict[str, Any]:
    """Run one method on one setting within the budget (a peer: unless cached); the row of the results."""
    info: dict[str, Any] = {}
    key = cache.key(s, method) if cache is not None else ""
    hit = cache.get(key, budget) if cache is not None else None
    guess = predicted_seconds(method, s)
    if hit is not None:
        proba, seconds, error = hit
        if error is None:
            RATES.setdefault(method, []).append((s.L_all.n_items * s.L_all.n_sources, seconds))
    elif guess is not None and guess > budget:  # a prediction only decides not to run; it is never a score
        proba, seconds, error = None, 0.0, f"skipped: predicted {guess:.0f} s > budget {budget:.0f} s"
    else:
        proba, seconds, error = timed(lambda: fn(info), budget)
        if error is None:
            RATES.setdefault(method, []).append((s.L_all.n_items * s.L_all.n_sources, seconds))
        if cache is not None and (error is None or error.startswith("stopped")):
            cache.put(key, method, proba, seconds, None if error is None else budget)
    row: dict[str, Any] = {"dataset": s.dataset, "setting": s.setting, "lib": lib, "method": method,
                           "seconds": seconds, "error": error, "scored": s.scored, "n_scored": int(s.y_eval.size),
                           "cached": hit is not None}
    if proba is not None:
        proba = np.asarray(proba, dtype=np.float64)
        if proba.shape != (s.y_eval.size, s.k) or not np.all(np.isfinite(proba)):
            row["error"] = f"bad output: shape {proba.shape}, finite={bool(np.all(np.isfinite(proba)))}"
        else:
            row.update(s.scores(proba))
    if info:
        row["info"] = info
    shown = f"{row['accuracy']:.4f}" if "accuracy" in row else row["error"]
    note = ", cached" if hit is not None else ""
    print(f"  {s.dataset:10s} {s.setting:8s} {method:40s} {shown}  ({seconds:.2f} s{note})", flush=True)
    return row


def evaluate(s: Setting, budget: float, cache: PeerCache | None = None) -> list[dict[str, Any]]:
    rows = []
    for method, make in weaklab_models(s.k).items():
        rows.append(record(s, "weaklab", method, lambda info, m=make: run_weaklab(m, s, info), budget))
    for method, fn in peer_methods(s).items():
        rows.append(record(s, method.split()[0], method, lambda info, f=fn: f(), budget, cache))
    return rows


# --------------------------------------------------------------------------------------------- verdict


def pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.2f}"


def acc_of(rows: list[dict[str, Any]], d: str, setting: str, method: str) -> float | None:
    r = next((r for r in rows if (r["dataset"], r["setting"], r["method"]) == (d, setting, method)), None)
    return None if r is None or r.get("error") else r.get("accuracy")


def peers_of(rows: list[dict[str, Any]], setting: str) -> list[str]:
    return list(dict.fromkeys(r["method"] for r in rows if r["setting"] == setting and r["lib"] != "weaklab"))


def summarise(rows: list[dict[str, Any]], setting: str, keys: list[str]) -> dict[str, Any]:
    """AutoLabelModel against majority vote and the peers of one setting, per set and on average."""
    per_set = {}
    for d in keys:
        peer_acc = {m: acc_of(rows, d, setting, m) for m in peers_of(rows, setting)}
        measured = {m: v for m, v in peer_acc.items() if v is not None}
        best = max(measured, key=measured.__getitem__) if measured else None
        per_set[d] = {"auto": acc_of(rows, d, setting, AUTO), "mv": acc_of(rows, d, setting, MV),
                      "snorkel_dev": acc_of(rows, d, setting, SNORKEL_DEV), "best_peer": best,
                      "best_peer_acc": measured.get(best) if best else None, "unmeasured_peers":
                      sorted(m for m, v in peer_acc.items() if v is None)}
    means = {}
    for m in peers_of(rows, setting):
        vals = [acc_of(rows, d, setting, m) for d in keys]
        if all(v is not None for v in vals):
            means[m] = float(np.mean(vals))  # type: ignore[arg-type]
    autos = [v["auto"] for v in per_set.values()]
    best_mean = max(means, key=means.__getitem__) if means else None
    return {"per_set": per_set, "peer_means": means, "best_peer_mean_method": best_mean,
            "best_peer_mean": means.get(best_mean) if best_mean else None,
            "auto_mean": None if any(a is None for a in autos) else float(np.mean(autos))}  # type: ignore[arg-type]


def _yes_no(failed: list[str]) -> str:
    return "**yes**" if not failed else "**no**: " + ", ".join(failed)


def verdict(rows: list[dict[str, Any]], setting: str, keys: list[str]) -> tuple[list[str], dict[str, Any]]:
    s = summarise(rows, setting, keys)
    per = s["per_set"]
    below_mv = [d for d, v in per.items() if v["auto"] is None or v["mv"] is None or v["auto"] < v["mv"] - 0.01]
    lost = [d for d, v in per.items()
            if v["auto"] is None or v["best_peer_acc"] is None or v["auto"] < v["best_peer_acc"]]
    gap = None if s["auto_mean"] is None or s["best_peer_mean"] is None else s["auto_mean"] - s["best_peer_mean"]
    lines = [
        f"- AutoLabelModel ({setting}) per set, accuracy %: " + "; ".join(
            f"{d} {pct(v['auto'])} (majority vote {pct(v['mv'])}, best peer {pct(v['best_peer_acc'])}: "
            f"{v['best_peer']})" for d, v in per.items()) + ".",
        f"  - ≥ majority vote − 1 point on every set: {_yes_no(below_mv)}.",
        f"  - ≥ the best peer of this table on every set: {_yes_no(lost)}.",
        f"  - Mean over the {len(keys)} sets: {pct(s['auto_mean'])} vs {pct(s['best_peer_mean'])} for the best "
        f"single peer ({s['best_peer_mean_method']}): {'–' if gap is None else f'{100 * gap:+.2f}'} points "
        f"(target ≥ +2: **{'met' if gap is not None and gap >= 0.02 else 'not met'}**).",
    ]
    if setting == "gold":
        behind = [d for d, v in per.items()
                  if v["auto"] is None or (v["snorkel_dev"] is not None and v["auto"] < v["snorkel_dev"])]
        unscored = [d for d, v in per.items() if v["snorkel_dev"] is None]
        lines.append(f"  - ≥ snorkel LabelModel given the same gold (`Y_dev`) on every set where it has a score: "
                     f"{_yes_no(behind)}" + (f" (no snorkel score, not counted either way: {', '.join(unscored)})"
                                             if unscored else "") + ".")
    unmeasured = sorted({f"{m} on {d}" for d, v in per.items() for m in v["unmeasured_peers"]})
    if unmeasured:
        lines.append("  - Peers without a score (failed or out of budget; not counted as beaten): "
                     + ", ".join(unmeasured) + ".")
    hyper = [(d, acc_of(rows, d, setting, "weaklab HyperLabelModel"),
              acc_of(rows, d, setting, "hyperlm" if setting == "no gold" else "hyperlm (y_vals)")) for d in keys]
    if any(h is not None for _, h, _ in hyper):
        lines.append("  - weaklab HyperLabelModel vs hyperlm: " + "; ".join(
            f"{d} {pct(h)} vs {pct(p)}" for d, h, p in hyper) + ".")
    return lines, s


# --------------------------------------------------------------------------------------------- report


def _cell(row: dict[str, Any] | None, field: str = "accuracy") -> str:
    if row is None:
        return "n/a"
    err = row.get("error") or ""
    if err:
        return "skipped" if err.startswith(("skipped", "stopped")) else "fails"
    return pct(row.get(field))


def results_table(rows: list[dict[str, Any]], setting: str, keys: list[str]) -> str:
    by = {(r["dataset"], r["method"]): r for r in rows if r["setting"] == setting}
    methods = list(dict.fromkeys(r["method"] for r in rows if r["setting"] == setting))
    cols: list[tuple[str, str]] = []
    for d in keys:
        cols.append((d, "accuracy"))
        if d in F1_SETS:
            cols.append((d, "f1"))
    head = ["method", *[f"{d} {'F1' if f == 'f1' else 'acc'}" for d, f in cols], "mean acc", "seconds (sum)"]
    body = []
    for m in methods:
        accs = [by[(d, m)].get("accuracy") if (d, m) in by and not by[(d, m)].get("error") else None for d in keys]
        mean = pct(float(np.mean(accs))) if all(a is not None for a in accs) else "–"  # type: ignore[arg-type]
        secs = sum(by[(d, m)]["seconds"] for d in keys if (d, m) in by)
        name = f"**{m}**" if m == AUTO else m
        body.append([name, *[_cell(by.get((d, m)), f) for d, f in cols], mean, f"{secs:.1f}"])
    return C.md_table(head, body)


def published_table() -> str:
    head = ["published", "youtube acc", "sms F1", "trec acc", "product acc", "sentiment acc", "relevance acc"]
    body = [[f"WRENCH {n}", *[f"{v:.2f}" for v in vals], "", "", ""] for n, vals in WRENCH_PUBLISHED.items()]
    body += [[f"Zheng et al. {n}", "", "", "", *[f"{v:.2f}" for v in vals]] for n, vals in ZHENG_PUBLISHED.items()]
    return C.md_table(head, body)


def markdown(results: dict[str, Any]) -> str:
    rows = results["rows"]
    keys = [k for k in (*WRENCH_SETS, *CROWD_SETS) if any(r["dataset"] == k for r in rows)]
    doc = __doc__.split("Run from the repository root")[0].split("\n", 2)[2].strip()
    budget = results["budget_s"]
    parts = [
        "## Label-model quality on real data: without gold and with gold", "",
        f"Command: `{results['command']}` ({results['seconds'] / 60:.0f} min).", "",
        C.machine_markdown(results["machine"], VERSIONS), "", doc, "",
        f"Budget of this run: a method still running after {budget:.0f} s on a set (in one setting) is stopped "
        f"there (`--budget`); one predicted to need more than {budget:.0f} s (linear in item × source cells, from "
        "a set at least a quarter as large) is not started. Either way it has no score and is not counted as "
        "beaten.",
    ]
    cached = [r for r in rows if r.get("cached")]
    peers = [r for r in rows if r["lib"] != "weaklab"]
    if cached:
        parts += ["", f"Peer cache: {len(cached)} of {len(peers)} peer rows were read from the cache of an earlier "
                  "run, keyed by a hash of the setting's data (votes, gold, scored items), the peer packages' "
                  "versions and this script's peer code, so only weaklab's rows are recomputed when weaklab "
                  "changes; their seconds are those of the run that computed them (a budget stop is reused only "
                  "at the same or a smaller budget)."]
    else:
        parts += ["", f"Peer cache: none of the {len(peers)} peer rows came from a cache (all computed in this run; "
                  "the next run reuses them when the data, the peer versions and the peer code are unchanged)."]
    titles = {"no gold": "### No gold (accuracy %; SMS also F1 %)",
              "gold": "### With gold (accuracy %; SMS also F1 %; crowd sets scored on the 90 % of gold items "
                      "not given)"}
    for setting in results["settings"]:
        parts += ["", titles[setting], "", results_table(rows, setting, keys), "", "Verdict:", "",
                  *results["verdict"][setting]]
    parts += ["", "### Published figures (other protocols and tie rules; for orientation only)", "",
              published_table()]
    problems = [r for r in rows if r.get("error")]
    if problems:
        parts += ["", "Failures and skips (as raised by the library, first 200 characters):", ""]
        parts += [f"- {r['dataset']} ({r['setting']}), {r['method']}: {r['error']}" for r in problems]
    parts += ["", "### What AutoLabelModel chose", ""]
    for r in rows:
        info = r.get("info") or {}
        if r["method"] == AUTO and info:
            warn = f" Warned: {'; '.join(info['warnings'])}" if info.get("warnings") else ""
            parts.append(f"- **{r['dataset']}** ({r['setting']}): {info.get('reason')}.{warn}")
    return "\n".join(parts)


# ------------------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help=f"only {QUICK}; BENCHMARKS.md is not touched")
    p.add_argument("--only", nargs="+", choices=[*WRENCH_SETS, *CROWD_SETS], help="data sets to run (prints only)")
    p.add_argument("--settings", nargs="+", choices=SETTINGS, default=list(SETTINGS),
                   help="settings to run (a subset prints only)")
    p.add_argument("--budget", type=float, default=BUDGET_S, help="seconds per method, set and setting")
    p.add_argument("--no-peer-cache", action="store_true",
                   help=f"recompute every peer (default: reuse peer outputs cached under {CACHE_DIR})")
    C.add_tree_args(p)
    args = p.parse_args(argv)
    partial = args.quick or bool(args.only) or len(args.settings) < len(SETTINGS)
    if not partial:  # this run writes BENCHMARKS.md
        C.check_tree(args.allow_dirty)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("pgmpy").setLevel(logging.ERROR)  # flyingsquid's MarkovModel rename warning, per call
    keys = list(QUICK) if args.quick else (args.only or [*WRENCH_SETS, *CROWD_SETS])
    machine = C.machine_info((*C.DEFAULT_PACKAGES, "hyperlm"))
    t0 = time.perf_counter()
    rows: list[dict[str, Any]] = []
    cache = PeerCache(None if args.no_peer_cache else CACHE_DIR)
    for key in keys:
        for s in wrench_settings(key) if key in WRENCH_SETS else crowd_settings(key):
            if s.setting in args.settings:
                print(f"== {key} ({s.setting}): fit {s.L_fit.shape}, scored {s.y_eval.size}", flush=True)
                rows += evaluate(s, args.budget, cache)
    settings = [x for x in SETTINGS if x in args.settings]
    results: dict[str, Any] = {"command": C.command_line(), "machine": machine, "budget_s": args.budget,
                               "peer_cache": None if args.no_peer_cache else str(CACHE_DIR),
                               "settings": settings, "seconds": time.perf_counter() - t0, "rows": rows,
                               "verdict": {}, "summary": {}}
    for setting in settings:
        results["verdict"][setting], results["summary"][setting] = verdict(rows, setting, keys)
    C.publish(NAME, results, markdown(results), quick=partial)


if __name__ == "__main__":
    main()
