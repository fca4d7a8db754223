# ruff: noqa: RUF001, RUF002  (en dashes, minus and multiplication signs in the generated tables are intended)
"""No-gold label models on synthetic matrices shaped like published WRENCH and crowd data sets.

The project is checked on hidden sets ("multi-class sets with many sparse one-class LFs, and crowd sets").
This benchmark does not tune on the visible sets: it draws label matrices from weaklab's own synthetic
generators (``weaklab.synthetic.make_lf_matrix`` and ``make_crowd``) with the *shape* of published data sets:
classes, number of sources, per-source coverage and accuracy ranges, one-class share, copies, class balance
(WRENCH's data-set table in ``../shared/anchors.md``), and, for crowds, many workers with few answers each,
spammers, adversarial (flipped) workers and 3-annotator 10-class answers like CIFAR-10N. The coverage and
accuracy ranges are set so that majority vote lands near the published majority-vote accuracy where one is
known (e.g. SemEval ~77, ChemProt ~49, AGNews ~64, IMDb/Yelp ~70, TREC ~61); the figure printed per profile is
the realised one, not the published one. They are approximations of those sets' shapes, not copies of them.

Every profile is drawn with several seeds. LF profiles: fitted on a train part (votes only), scored on a
separate test part drawn from the same generator (as WRENCH fits on train and scores test). Crowd profiles:
fitted on all answers, scored on every item (as the Zheng et al. sets are). No model sees a label.

Scoring: expected accuracy with exact ties split (a tie among t classes counts 1/t), as in
``label_models_quality.py``, whose peer wrappers, peer cache and budget this script reuses.

Models: weaklab ``MajorityVote``, ``DawidSkene``, ``HyperLabelModel`` and ``AutoLabelModel`` (the no-gold
default); peers: snorkel ``LabelModel``, flyingsquid (binary profiles), crowd-kit ``DawidSkene``, ``GLAD``,
``MACE``, ``Wawa`` and ``hyperlm``. Per profile: the mean over seeds of every model, ``Auto − MV`` and
``Auto − best peer`` (the peer with the best mean on that profile), and the worst seed's ``Auto − MV``.

Run from the repository root in the benchmark environment::

    .venv-bench/bin/python benchmarks/label_models_profiles.py                 # all profiles, BENCHMARKS.md
    .venv-bench/bin/python benchmarks/label_models_profiles.py --seeds 1 --budget 30  # the same, faster
    .venv-bench/bin/python benchmarks/label_models_profiles.py --quick         # 2 profiles x 1 seed, prints
    .venv-bench/bin/python benchmarks/label_models_profiles.py --only semeval chemprot --seeds 2
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C
import label_models_quality as Q

NAME = "label_models_profiles"
SEEDS = 3
BUDGET_S = 120.0
WEAKLAB_BUDGET_S = 600.0  # weaklab's own models are what is measured: a larger budget, never predicted away
QUICK = ("semeval", "crowd_sparse_workers")
WEAKLAB = ("MajorityVote", "DawidSkene", "HyperLabelModel", "AutoLabelModel")
PEERS = ("snorkel LabelModel", "flyingsquid", "crowd-kit DawidSkene", "crowd-kit GLAD", "crowd-kit MACE",
         "crowd-kit Wawa", "hyperlm")


@dataclass(frozen=True)
class Profile:
    """One published data-set shape: the generator and its keyword arguments (per seed: ``random_state``).

    ``n_train``/``n_test``: LF profiles fit on ``n_train`` items and score ``n_test`` others (crowd profiles
    fit on and score all ``n_train`` items). ``published_mv``: the published majority-vote accuracy (%), or
    None.
    """

    kind: str  # "lf" or "crowd"
    shape: str  # one line: what it imitates
    kwargs: dict[str, Any] = field(default_factory=dict)
    n_train: int = 4000
    n_test: int = 1500
    published_mv: float | None = None


def _balance(*shares: float) -> list[float]:
    total = sum(shares)
    return [s / total for s in shares]


PROFILES: dict[str, Profile] = {
    # ---- WRENCH-shaped labeling functions (anchors.md: WRENCH data-set and label-model tables)
    "semeval": Profile("lf", "SemEval: 9 classes, 164 sparse high-precision one-class LFs",
                       dict(n_sources=164, n_classes=9, one_class=1.0, coverage=(0.002, 0.03),
                            accuracy=(0.5, 0.98), class_balance=_balance(9, 6, 5, 4, 3, 3, 2, 2, 1), copies=10),
                       n_train=1800, n_test=600, published_mv=77.33),
    "chemprot": Profile("lf", "ChemProt: 10 classes, 26 low-accuracy one-class LFs",
                        dict(n_sources=26, n_classes=10, one_class=1.0, coverage=(0.01, 0.15),
                             accuracy=(0.2, 0.75), class_balance=_balance(10, 8, 6, 5, 4, 3, 3, 2, 2, 1)),
                        published_mv=49.04),
    "trec": Profile("lf", "TREC: 6 classes, 68 sparse one-class LFs of mixed accuracy",
                    dict(n_sources=68, n_classes=6, one_class=1.0, coverage=(0.003, 0.12), accuracy=(0.3, 0.95),
                         class_balance=_balance(5, 4, 4, 3, 2, 1), copies=8),
                    published_mv=60.80),
    "agnews": Profile("lf", "AGNews: 4 balanced classes, 9 keyword one-class LFs",
                      dict(n_sources=9, n_classes=4, one_class=1.0, coverage=(0.05, 0.2), accuracy=(0.55, 0.9)),
                      published_mv=63.84),
    "imdb": Profile("lf", "IMDb: 2 classes, 8 LFs of moderate accuracy and wide coverage",
                    dict(n_sources=8, n_classes=2, one_class=0.75, coverage=(0.1, 0.4), accuracy=(0.6, 0.8)),
                    published_mv=71.04),
    "yelp": Profile("lf", "Yelp: 2 classes, 8 LFs, one pair of copies",
                    dict(n_sources=8, n_classes=2, one_class=0.75, coverage=(0.08, 0.35), accuracy=(0.6, 0.85),
                         copies=1, copy_strength=0.9),
                    published_mv=70.21),
    "spouse": Profile("lf", "Spouse: 2 classes, 9 LFs, ~8 % positive, weak positive LFs",
                      dict(n_sources=9, n_classes=2, one_class=1.0, coverage=(0.02, 0.15), accuracy=(0.3, 0.9),
                           class_balance=[0.92, 0.08])),
    "cdr": Profile("lf", "CDR: 2 classes, 33 one-class LFs, ~30 % positive",
                   dict(n_sources=33, n_classes=2, one_class=1.0, coverage=(0.01, 0.15), accuracy=(0.5, 0.95),
                        class_balance=[0.7, 0.3], copies=4)),
    "census": Profile("lf", "Census: 2 classes, 83 LFs voting both classes, ~24 % positive",
                      dict(n_sources=83, n_classes=2, one_class=0.5, coverage=(0.02, 0.3), accuracy=(0.45, 0.9),
                           class_balance=[0.76, 0.24], copies=10, copy_strength=0.8)),
    # ---- crowds (Zheng et al. 2017 shapes; CIFAR-10N)
    "crowd_sparse_workers": Profile("crowd", "400 workers, 5 answers per item (~25 per worker), 4 classes",
                                    dict(n_workers=400, votes_per_item=5, n_classes=4,
                                         worker_accuracy=(0.45, 0.95), difficulty=(0.0, 0.3)),
                                    n_train=2000),
    "crowd_spammers": Profile("crowd", "60 workers, 5 answers per item, 2 classes, half of them spammers",
                              dict(n_workers=60, votes_per_item=5, n_classes=2, spammer_fraction=0.5,
                                   worker_accuracy=(0.6, 0.95)),
                              n_train=2000),
    "crowd_adversarial": Profile("crowd", "40 workers, 5 answers per item, 2 classes, 25 % flipped workers",
                                 dict(n_workers=40, votes_per_item=5, n_classes=2, adversarial_fraction=0.25,
                                      worker_accuracy=(0.6, 0.95)),
                                 n_train=2000),
    "crowd_hard_relevance": Profile("crowd", "S_Rel-like: 4 classes, 300 workers, 5 answers, weak workers, "
                                    "hard items, skewed classes",
                                    dict(n_workers=300, votes_per_item=5, n_classes=4, worker_accuracy=(0.3, 0.8),
                                         difficulty=(0.0, 0.5), class_balance=_balance(5, 3, 1, 1)),
                                    n_train=3000, published_mv=54.19),
    "cifar10n_like": Profile("crowd", "CIFAR-10N-like: 10 classes, 3 answers per item from 700 workers",
                             dict(n_workers=700, votes_per_item=3, n_classes=10, worker_accuracy=(0.6, 0.98)),
                             n_train=6000),
}


# ---------------------------------------------------------------------------------------------- data


def draw(name: str, seed: int) -> tuple[Any, np.ndarray, Any, np.ndarray]:
    """``(L_fit, y_fit, L_eval, y_eval)`` of one profile and seed (crowds: the same matrix twice)."""
    from weaklab.synthetic import make_crowd, make_lf_matrix

    p = PROFILES[name]
    state = 1000 * seed + sum(map(ord, name))
    if p.kind == "crowd":
        data = make_crowd(p.n_train, random_state=state, **p.kwargs)
        return data.L, np.asarray(data.y), data.L, np.asarray(data.y)
    data = make_lf_matrix(p.n_train + p.n_test, random_state=state, **p.kwargs)
    items = np.arange(p.n_train + p.n_test)
    fit, test = items[: p.n_train], items[p.n_train:]
    y = np.asarray(data.y)
    return data.L.select_items(fit), y[fit], data.L.select_items(test), y[test]


def setting(name: str, seed: int) -> Q.Setting:
    """The no-gold :class:`label_models_quality.Setting` of one profile and seed."""
    from weaklab import LabelMatrix

    L_fit, _, L_eval, y_eval = draw(name, seed)
    if PROFILES[name].kind == "crowd":
        return Q.Setting(f"{name}#{seed}", "no gold", L_fit.n_classes, L_fit, None, L_eval, y_eval, L_fit,
                         np.arange(L_fit.n_items), None, "all items")
    L_all = LabelMatrix.concat([L_fit, L_eval])
    return Q.Setting(f"{name}#{seed}", "no gold", L_fit.n_classes, L_fit, None, L_eval, y_eval, L_all,
                     L_fit.n_items + np.arange(L_eval.n_items), None, "test part")


# ------------------------------------------------------------------------------------------- running


def methods(s: Q.Setting) -> dict[str, tuple[str, Callable[[dict[str, Any]], np.ndarray]]]:
    """``method -> (lib, run(info))``: the weaklab models of ``WEAKLAB`` and the peers of ``PEERS``."""
    out: dict[str, tuple[str, Callable[[dict[str, Any]], np.ndarray]]] = {}
    for method, make in Q.weaklab_models(s.k).items():
        if method.removeprefix("weaklab ") in WEAKLAB:
            out[method] = ("weaklab", lambda info, m=make: Q.run_weaklab(m, s, info))
    for method, fn in Q.peer_methods(s).items():
        if method in PEERS:
            out[method] = (method.split()[0], lambda info, f=fn: f())
    return out


def run_profile(name: str, seeds: int, budget: float, cache: Q.PeerCache) -> list[dict[str, Any]]:
    rows = []
    for seed in range(seeds):
        s = setting(name, seed)
        mv = Q.accuracy(_majority(s), s.y_eval)
        print(f"== {s.dataset}: fit {s.L_fit.shape}, k={s.k}, scored {s.y_eval.size}, "
              f"majority vote {100 * mv:.2f}", flush=True)
        for method, (lib, fn) in methods(s).items():
            mine = lib == "weaklab"  # weaklab's rows get WEAKLAB_BUDGET_S: never skipped on a prediction
            row = Q.record(s, lib, method, fn, max(budget, WEAKLAB_BUDGET_S) if mine else budget,
                           None if mine else cache)
            rows.append({**row, "profile": name, "seed": seed})
    return rows


def _majority(s: Q.Setting) -> np.ndarray:
    from weaklab.models import MajorityVote

    return np.asarray(MajorityVote().fit(s.L_fit).predict_proba(s.L_eval))


# ------------------------------------------------------------------------------------------- summary


def summarise(rows: list[dict[str, Any]], names: list[str]) -> dict[str, dict[str, Any]]:
    """Per profile: mean accuracy of every method over the seeds it scored on all of, and the gaps."""
    out = {}
    for name in names:
        mine = [r for r in rows if r["profile"] == name]
        seeds = sorted({r["seed"] for r in mine})
        by: dict[str, list[float | None]] = {}
        for r in mine:
            by.setdefault(r["method"], []).append(None if r.get("error") else r.get("accuracy"))
        means = {m: float(np.mean(v)) for m, v in by.items() if len(v) == len(seeds) and None not in v}
        peers = {m: v for m, v in means.items() if not m.startswith("weaklab ")}
        best = max(peers, key=peers.__getitem__) if peers else None
        auto = means.get(Q.AUTO)
        mv = means.get(Q.MV)
        per_seed = []
        for seed in seeds:
            acc = {r["method"]: r.get("accuracy") for r in mine if r["seed"] == seed and not r.get("error")}
            if Q.AUTO in acc and Q.MV in acc:
                per_seed.append(acc[Q.AUTO] - acc[Q.MV])
        chosen = [str((r.get("info") or {}).get("selected")) for r in mine if r["method"] == Q.AUTO]
        out[name] = {"means": means, "best_peer": best, "best_peer_acc": peers.get(best) if best else None,
                     "auto": auto, "mv": mv, "worst_seed_gap": min(per_seed) if per_seed else None,
                     "seeds": len(seeds), "selected": chosen,
                     "unscored": sorted(m for m, v in by.items() if m not in means)}
    return out


def _gap(a: float | None, b: float | None) -> str:
    return "–" if a is None or b is None else f"{100 * (a - b):+.2f}"


def profile_table(summary: dict[str, dict[str, Any]]) -> str:
    head = ["profile", "shape", "published MV", "MV", "Auto", "Auto − MV", "worst seed Auto − MV",
            "best peer", "best peer acc", "Auto − best peer", "Auto chose (per seed)"]
    body = []
    for name, v in summary.items():
        p = PROFILES[name]
        body.append([name, p.shape, "–" if p.published_mv is None else f"{p.published_mv:.2f}", Q.pct(v["mv"]),
                     Q.pct(v["auto"]), _gap(v["auto"], v["mv"]),
                     "–" if v["worst_seed_gap"] is None else f"{100 * v['worst_seed_gap']:+.2f}",
                     v["best_peer"] or "–", Q.pct(v["best_peer_acc"]), _gap(v["auto"], v["best_peer_acc"]),
                     ", ".join(v["selected"])])
    return C.md_table(head, body)


def models_table(summary: dict[str, dict[str, Any]]) -> str:
    methods_ = list(dict.fromkeys(m for v in summary.values() for m in v["means"]))
    head = ["method", *summary, "mean"]
    body = []
    for m in methods_:
        vals = [summary[n]["means"].get(m) for n in summary]
        mean = Q.pct(float(np.mean(vals))) if None not in vals else "–"  # type: ignore[arg-type]
        body.append([f"**{m}**" if m == Q.AUTO else m, *[Q.pct(x) for x in vals], mean])
    return C.md_table(head, body)


def verdict(summary: dict[str, dict[str, Any]]) -> list[str]:
    unscored = [n for n, v in summary.items() if v["auto"] is None or v["mv"] is None]
    below = [n for n, v in summary.items() if n not in unscored and v["auto"] < v["mv"] - 0.01]
    worst = [n for n, v in summary.items() if v["worst_seed_gap"] is not None and v["worst_seed_gap"] < -0.01]
    behind = [n for n, v in summary.items() if v["auto"] is not None and v["best_peer_acc"] is not None
              and v["auto"] < v["best_peer_acc"] - 0.01]
    autos = [v["auto"] for v in summary.values()]
    mvs = [v["mv"] for v in summary.values()]
    lines = [f"- Profiles where AutoLabelModel's mean is more than 1 point below majority vote: "
             f"{', '.join(below) or 'none'}.",
             f"- Profiles with a seed more than 1 point below majority vote: {', '.join(worst) or 'none'}.",
             f"- Profiles where it is more than 1 point below the best peer: {', '.join(behind) or 'none'}."]
    if unscored:
        lines.append(f"- Profiles without an AutoLabelModel or majority-vote score: {', '.join(unscored)}.")
    if None not in autos and None not in mvs:
        lines.append(f"- Mean over the {len(autos)} profiles: AutoLabelModel {100 * np.mean(autos):.2f}, "
                     f"majority vote {100 * np.mean(mvs):.2f}.")
    return lines


def markdown(results: dict[str, Any]) -> str:
    summary = results["summary"]
    doc = __doc__.split("Run from the repository root")[0].split("\n", 2)[2].strip()
    parts = ["## Label models without gold on WRENCH- and crowd-shaped synthetic profiles", "",
             f"Command: `{results['command']}` ({results['seconds'] / 60:.0f} min; {results['seeds']} seeds per "
             f"profile; budget {results['budget_s']:.0f} s per method and matrix).", "",
             C.machine_markdown(results["machine"], Q.VERSIONS), "", doc, "",
             "### Per profile (accuracy %, mean over seeds)", "", profile_table(summary), "",
             "Verdict:", "", *verdict(summary), "",
             "### Every model (accuracy %, mean over seeds)", "", models_table(summary)]
    problems = [r for r in results["rows"] if r.get("error")]
    if problems:
        parts += ["", "Failures and skips (first 200 characters):", ""]
        parts += [f"- {r['dataset']}, {r['method']}: {r['error']}" for r in problems]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help=f"only {QUICK}, one seed; BENCHMARKS.md is not touched")
    p.add_argument("--only", nargs="+", choices=list(PROFILES), help="profiles to run (prints only)")
    p.add_argument("--seeds", type=int, default=SEEDS, help="seeds per profile")
    p.add_argument("--budget", type=float, default=BUDGET_S, help="seconds per method and matrix")
    p.add_argument("--no-peer-cache", action="store_true", help="recompute every peer")
    C.add_tree_args(p)
    args = p.parse_args(argv)
    partial = args.quick or bool(args.only)  # a run of every profile writes BENCHMARKS.md, with any --seeds
    if not partial:
        C.check_tree(args.allow_dirty)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("pgmpy").setLevel(logging.ERROR)
    names = list(QUICK) if args.quick else (args.only or list(PROFILES))
    seeds = 1 if args.quick else args.seeds
    machine = C.machine_info((*C.DEFAULT_PACKAGES, "hyperlm"))
    cache = Q.PeerCache(None if args.no_peer_cache else Q.CACHE_DIR.parent / NAME)
    t0 = time.perf_counter()
    rows: list[dict[str, Any]] = []
    for name in names:
        rows += run_profile(name, seeds, args.budget, cache)
    summary = summarise(rows, names)
    results = {"command": C.command_line(), "machine": machine, "budget_s": args.budget, "seeds": seeds,
               "seconds": time.perf_counter() - t0, "rows": rows, "summary": summary}
    for line in verdict(summary):
        print(line)
    C.publish(NAME, results, markdown(results), quick=partial)


if __name__ == "__main__":
    main()
