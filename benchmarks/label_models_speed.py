# ruff: noqa: RUF001, RUF002  (multiplication and minus signs in the generated tables are intended)
"""Label-model speed and memory: weaklab vs snorkel 0.10, flyingsquid and crowd-kit on synthetic votes.

Inputs (``weaklab.synthetic``, seed 0, generated once and cached as ``.npy``/``.npz`` under
``$TMPDIR/weaklab-bench-speed``):

* dense LF matrices ``make_label_matrix(n, m, k, coverage=0.3, accuracy=(0.55, 0.9))`` (int8) for
  n in {1e4, 1e5, 1e6, 1e7}, m in {10, 50, 200}, k in {2, 4};
* a sparse crowd ``make_crowd(n_items, 6000, 6, 2)``: 6 votes per item from 6,000 workers, n_items in
  {1e4, 1e5, 1e6} (1e6 items = 6M votes).

Every case runs in a **fresh subprocess** (``_common.run_child``) that loads the cached votes, converts
them to the library's input format *outside* the timed region, then times ``fit`` and ``predict_proba``
(best of 3 when one run takes under 2 s, else once). Every child imports weaklab and all peers. Memory is
the child's peak RSS minus the peak RSS of a child that only did the same imports (``mem``: includes the
loaded matrix) and minus a child that also loaded the votes (``work``: the model's own working memory).
``copy×`` is fit+predict time divided by one ``np.copy`` of the int8 matrix (dense) or of the CSR arrays
(crowd), measured in its own child.

Peers: snorkel ``LabelModel`` (default ``fit``: 100 epochs; input: the same int8 array) and
``MajorityLabelVoter``; flyingsquid ``LabelModel`` (binary only; input mapped to {-1, 0, +1});
crowd-kit ``MajorityVote`` and ``DawidSkene`` (and ``GLAD``, ``MACE`` on the crowd cases; they take 15-20 s
already at 1e4 x 10) via ``fit_predict_proba`` on a long ``task/worker/label`` DataFrame (crowd-kit has no
separate predict). A case is **skipped** when the time
predicted from the same method at the next smaller n (linear in n) exceeds 600 s or its predicted memory
exceeds 20 GB; a running case is killed at 900 s. Dense peers (snorkel, flyingsquid) are not run on the
crowd case, whose dense form would be 1e6 x 6000; a peer is not run at 1e7 items without a measurement at a
smaller n to predict from. Cases run in the order of the targets first (m = 50, the crowd), then the rest of
the grid; the tables are rewritten after every size, so an interrupted run leaves what it measured.

To keep the run within the shared machine's budget, weaklab models other than DawidSkene and MajorityVote run
at m = 200 only up to 1e6 items, and at 1e7 items only DawidSkene, MajorityVote, OneCoinDawidSkene and
MatrixCompletion run.

Run from the repository root in the benchmark environment::

    .venv-bench/bin/python benchmarks/label_models_speed.py           # full grid, writes BENCHMARKS.md
    .venv-bench/bin/python benchmarks/label_models_speed.py --quick   # 1e4, 1e5 items, m <= 50; prints only
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C

NAME = "label_models_speed"
CACHE = Path(os.environ.get("TMPDIR", tempfile.gettempdir())) / "weaklab-bench-speed"
BUDGET_S = 600.0
KILL_S = 900.0
MEM_LIMIT = 20 * 1024**3
VERSIONS = ("weaklab", "numpy", "scipy", "snorkel", "flyingsquid", "crowd-kit", "torch", "pandas")

WEAKLAB_DENSE = ("MajorityVote", "WeightedMajorityVote", "DawidSkene", "OneCoinDawidSkene",
                 "MatrixCompletion", "Triplet")
WEAKLAB_CROWD = ("MajorityVote", "WeightedMajorityVote", "DawidSkene", "OneCoinDawidSkene", "GLAD", "MACE",
                 "Wawa")
PEERS_DENSE = ("snorkel LabelModel", "snorkel MajorityLabelVoter", "flyingsquid", "crowd-kit MajorityVote",
               "crowd-kit DawidSkene")
PEERS_CROWD = ("crowd-kit MajorityVote", "crowd-kit DawidSkene", "crowd-kit GLAD", "crowd-kit MACE")
CORE = ("DawidSkene", "MajorityVote")
AT_1E7 = ("DawidSkene", "MajorityVote", "OneCoinDawidSkene", "MatrixCompletion")


# ------------------------------------------------------------------------------------------------ data


def dense_path(n: int, m: int, k: int) -> Path:
    return CACHE / f"dense_{n}_{m}_{k}.npy"


def crowd_path(n: int) -> Path:
    return CACHE / f"crowd_{n}.npz"


def ensure_data(config: dict[str, Any]) -> Path:
    """Generate the votes of ``config`` once (in this process) and return the cache file."""
    CACHE.mkdir(parents=True, exist_ok=True)
    if config["kind"] == "dense":
        path = dense_path(config["n"], config["m"], config["k"])
        if not path.exists():
            from weaklab.synthetic import make_label_matrix

            n, m, k = config["n"], config["m"], config["k"]
            data = make_label_matrix(n, m, k, coverage=0.3, accuracy=(0.55, 0.9), random_state=0)
            np.save(path, data.L.to_dense())
        return path
    path = crowd_path(config["n"])
    if not path.exists():
        from weaklab.synthetic import make_crowd

        data = make_crowd(config["n"], 6000, 6, 2, random_state=0)
        csr = data.L.csr
        np.savez(path, data=csr.data, indices=csr.indices, indptr=csr.indptr, shape=np.array(csr.shape))
    return path


def load_votes(config: dict[str, Any]) -> Any:
    """The cached votes as a LabelMatrix (dense int8, or sparse for the crowd)."""
    from weaklab import LabelMatrix

    if config["kind"] == "dense":
        return LabelMatrix(np.load(dense_path(config["n"], config["m"], config["k"])), n_classes=config["k"])
    with np.load(crowd_path(config["n"])) as z:
        data, indices, indptr, shape = z["data"], z["indices"], z["indptr"], z["shape"]
    rows = np.repeat(np.arange(shape[0]), np.diff(indptr))
    return LabelMatrix.from_coo(rows, indices, data.astype(np.int64) - 1, n_items=int(shape[0]),
                                n_sources=int(shape[1]), n_classes=2)


def matrix_bytes(config: dict[str, Any]) -> int:
    if config["kind"] == "dense":
        return config["n"] * config["m"]
    return config["n"] * 6 * (1 + 4) + (config["n"] + 1) * 4  # CSR int8 data + int32 indices + indptr


# ----------------------------------------------------------------------------------------------- child


def prepare(method: str, L: Any) -> Any:
    """The library's input, built outside the timed region."""
    if method.startswith("snorkel"):
        return L.to_dense()
    if method == "flyingsquid":
        dense = L.to_dense()
        return np.where(dense == -1, 0, np.where(dense == 1, 1, -1)).astype(np.int8)
    if method.startswith("crowd-kit"):
        import pandas as pd

        rows, cols, labels = L.coo()
        return pd.DataFrame({"task": rows, "worker": cols, "label": labels.astype(np.int64)})
    return L


def run_method(method: str, data: Any, k: int) -> tuple[float, float]:
    """(fit seconds, predict seconds) of one method on prepared input."""
    if method.startswith("crowd-kit"):
        import crowdkit.aggregation as ck

        t0 = time.perf_counter()
        getattr(ck, method.split()[1])().fit_predict_proba(data)
        return time.perf_counter() - t0, 0.0
    if method == "snorkel LabelModel":
        from snorkel.labeling.model import LabelModel

        model = LabelModel(cardinality=k, verbose=False)
        t0 = time.perf_counter()
        model.fit(data, seed=0, progress_bar=False)
        t1 = time.perf_counter()
        model.predict_proba(data)
        return t1 - t0, time.perf_counter() - t1
    if method == "snorkel MajorityLabelVoter":
        from snorkel.labeling.model import MajorityLabelVoter

        t0 = time.perf_counter()
        MajorityLabelVoter(cardinality=k).predict_proba(data)
        return 0.0, time.perf_counter() - t0
    if method == "flyingsquid":
        import logging

        from flyingsquid.label_model import LabelModel

        logging.getLogger("pgmpy").setLevel(logging.ERROR)
        model = LabelModel(data.shape[1])
        t0 = time.perf_counter()
        model.fit(data)
        t1 = time.perf_counter()
        model.predict_proba_marginalized(data)
        return t1 - t0, time.perf_counter() - t1
    import weaklab.models as M

    cls = getattr(M, method.removeprefix("weaklab "))
    model = cls(random_state=0) if "random_state" in cls().get_params() else cls()
    t0 = time.perf_counter()
    model.fit(data)
    t1 = time.perf_counter()
    model.predict_proba(data)
    return t1 - t0, time.perf_counter() - t1


def import_all() -> None:
    """Import weaklab and every peer (their import RSS is then in every baseline)."""
    import importlib

    names = ("weaklab.models", "snorkel.labeling.model", "flyingsquid.label_model", "crowdkit.aggregation")
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError:  # a missing peer shows up as a failing case
            pass


def child_main(args: argparse.Namespace) -> None:
    import warnings

    warnings.simplefilter("ignore")
    config = json.loads(args.config)
    method = args.child
    import_all()  # the same imports in every child, baselines included, so RSS differences are the case's

    if method == "imports":
        C.child_report(args.child_out)
        return
    L = load_votes(config)
    if method == "data":
        C.child_report(args.child_out)
        return
    if method == "np.copy":
        arrays = [L.to_dense()] if not L.is_sparse else [L.csr.data, L.csr.indices, L.csr.indptr]
        best, _, _ = C.best_of(lambda: [np.copy(a) for a in arrays], 3)
        C.child_report(args.child_out, seconds=best)
        return
    data = prepare(method, L)
    runs = [run_method(method, data, config["k"])]
    if sum(runs[0]) < 2.0:  # short cases: best of 3
        runs += [run_method(method, data, config["k"]) for _ in range(2)]
    best = min(runs, key=sum)
    C.child_report(args.child_out, fit=best[0], predict=best[1], total=sum(best))


# ---------------------------------------------------------------------------------------------- parent


def configs(quick: bool) -> list[dict[str, Any]]:
    """Cases in run order: the target sizes first (m = 50, the crowd), then the rest of the grid."""
    if quick:
        dense = [dict(kind="dense", n=n, m=m, k=2) for n in (10_000, 100_000) for m in (10, 50)]
        return [*dense, dict(kind="crowd", n=10_000, m=6000, k=2)]
    first = [dict(kind="dense", n=n, m=50, k=2) for n in (100_000, 1_000_000)]
    first += [dict(kind="crowd", n=n, m=6000, k=2) for n in (100_000, 1_000_000)]
    first += [dict(kind="dense", n=10_000_000, m=50, k=4)]
    first += [dict(kind="dense", n=n, m=50, k=4) for n in (100_000, 1_000_000)]
    first += [dict(kind="dense", n=10_000, m=50, k=k) for k in (2, 4)] + [dict(kind="crowd", n=10_000, m=6000, k=2)]
    rest = [dict(kind="dense", n=n, m=m, k=k) for m in (10, 200) for n in (10_000, 100_000, 1_000_000)
            for k in (2, 4)]
    rest += [dict(kind="dense", n=10_000_000, m=50, k=2), dict(kind="dense", n=10_000_000, m=10, k=4),
             dict(kind="dense", n=10_000_000, m=200, k=4)]
    return first + rest


def methods_for(config: dict[str, Any]) -> list[str]:
    n, m, k = config["n"], config["m"], config["k"]
    if config["kind"] == "crowd":
        return [f"weaklab {x}" for x in WEAKLAB_CROWD] + list(PEERS_CROWD)
    ours = [x for x in WEAKLAB_DENSE if x != "Triplet" or k == 2]
    if n >= 10_000_000:
        ours = [x for x in ours if x in AT_1E7 and (m < 200 or x in CORE)]
    elif m >= 200 and n >= 1_000_000:
        ours = [x for x in ours if x in CORE]
    peers = [p for p in PEERS_DENSE if p != "flyingsquid" or k == 2]
    return [f"weaklab {x}" for x in ours] + peers


def key(config: dict[str, Any]) -> str:
    return f"{config['kind']}-n{config['n']}-m{config['m']}-k{config['k']}"


def smaller(config: dict[str, Any], done: dict[str, dict[str, Any]], method: str) -> dict[str, Any] | None:
    """The result of ``method`` at the largest smaller n with the same m, k and kind."""
    best = None
    for rec in done.values():
        c = rec["config"]
        if (c["kind"], c["m"], c["k"]) == (config["kind"], config["m"], config["k"]) and c["n"] < config["n"]:
            res = rec["results"].get(method)
            if res and "total" in res and (best is None or c["n"] > best[0]):
                best = (c["n"], res)
    return None if best is None else {"n": best[0], **best[1]}


def predict_skip(config: dict[str, Any], prev: dict[str, Any] | None) -> str | None:
    if prev is None:
        return None
    ratio = config["n"] / prev["n"]
    t = prev["total"] * ratio
    mem = max(prev.get("work", 0), 0) * ratio
    if t > BUDGET_S:
        return f"skipped: predicted {t:.0f} s (from {C.fmt_seconds(prev['total'])} at n={prev['n']:,})"
    if mem > MEM_LIMIT:
        return f"skipped: predicted {C.fmt_bytes(mem)} (from n={prev['n']:,})"
    return None


def run_case(config: dict[str, Any], method: str) -> dict[str, Any]:
    return C.run_child(__file__, ["--child", method, "--config", json.dumps(config)], timeout=KILL_S)


def parent_main(args: argparse.Namespace) -> None:
    done: dict[str, dict[str, Any]] = {}
    results = {"command": C.command_line(), "machine": C.machine_info(), "cases": done}
    for config in configs(args.quick):
        t0 = time.perf_counter()
        ensure_data(config)
        gen = time.perf_counter() - t0
        base_imports, base_data = run_case(config, "imports"), run_case(config, "data")
        copy = run_case(config, "np.copy")
        rec = {"config": config, "generate_seconds": gen, "matrix_bytes": matrix_bytes(config),
               "rss_imports": base_imports.get("peak_rss"), "rss_data": base_data.get("peak_rss"),
               "copy_seconds": copy.get("seconds"), "results": {}}
        done[key(config)] = rec
        for method in methods_for(config):
            skip = predict_skip(config, smaller(config, done, method))
            if skip is None and config["kind"] == "crowd" and method.startswith(("snorkel", "flyingsquid")):
                skip = "not run: dense-only library"
            if skip is None and config["n"] >= 10_000_000 and not method.startswith("weaklab") \
                    and smaller(config, done, method) is None:
                skip = "not run: no measurement at a smaller n to predict its time from"
            res = {"error": skip} if skip else run_case(config, method)
            if "total" in res:
                res["mem"] = res["peak_rss"] - (rec["rss_imports"] or 0)
                res["work"] = res["peak_rss"] - (rec["rss_data"] or 0)
                res["copy_x"] = res["total"] / rec["copy_seconds"] if rec["copy_seconds"] else None
            rec["results"][method] = {k: v for k, v in res.items() if k not in ("stderr", "cmd")} | (
                {"stderr": res["stderr"][-500:]} if "stderr" in res else {})
            shown = C.fmt_seconds(res["total"]) if "total" in res else res.get("error")
            print(f"{key(config):28s} {method:32s} {shown}", flush=True)
        C.write_results(NAME, results, quick=args.quick)
        if not args.quick:  # after every size, so an interrupted run still leaves its tables
            C.update_markdown(NAME, markdown(results))
    if args.quick:
        print(markdown(results))


# --------------------------------------------------------------------------------------------- report


def cell(res: dict[str, Any] | None) -> str:
    if not res:
        return "n/a"
    if "total" not in res:
        err = str(res.get("error", ""))
        if err.startswith(("skipped", "not run")):
            return "skipped"
        return "killed" if "timeout" in err else "fails"
    return f"{C.fmt_seconds(res['total'])} / {C.fmt_bytes(res['mem'])}"


def ratio(ours: dict[str, Any] | None, theirs: dict[str, Any] | None) -> str:
    if not ours or "total" not in ours or not theirs:
        return "–"
    if "total" in theirs:
        return C.fmt_ratio(theirs["total"] / ours["total"])
    err = str(theirs.get("error", ""))
    if err.startswith("skipped: predicted") and " s (" in err:
        predicted = float(err.split("predicted ")[1].split(" s")[0])
        return f"> {C.fmt_ratio(predicted / ours['total'])} (predicted)"
    return "–"


def grid_table(results: dict[str, Any]) -> str:
    recs = list(results["cases"].values())
    methods = list(dict.fromkeys(m for r in recs if r["config"]["kind"] == "dense" for m in r["results"]))
    head = ["n × m × k", "matrix", "np.copy", *methods]
    rows = []
    for r in recs:
        c = r["config"]
        if c["kind"] != "dense":
            continue
        rows.append([f"{c['n']:.0e} × {c['m']} × {c['k']}", C.fmt_bytes(r["matrix_bytes"]),
                     C.fmt_seconds(r["copy_seconds"]), *[cell(r["results"].get(m)) for m in methods]])
    return C.md_table(head, rows)


def detail_table(rec: dict[str, Any]) -> str:
    head = ["method", "fit", "predict", "fit+predict", "× np.copy", "peak RSS − imports", "peak RSS − data",
            "vs weaklab DawidSkene"]
    ds = rec["results"].get("weaklab DawidSkene")
    rows = []
    for m, res in rec["results"].items():
        if "total" in res:
            rows.append([m, C.fmt_seconds(res["fit"]), C.fmt_seconds(res["predict"]),
                         C.fmt_seconds(res["total"]),
                         f"{res['copy_x']:.0f}×" if res.get("copy_x") else "–", C.fmt_bytes(res["mem"]),
                         C.fmt_bytes(res["work"]),
                         "–" if m == "weaklab DawidSkene" else ratio(ds, res) + " slower"])
        else:
            rows.append([m, "", "", str(res.get("error", ""))[:120], "", "", "", ratio(ds, res)])
    return C.md_table(head, rows, align="lrrrrrrl")


def targets(results: dict[str, Any]) -> list[str]:
    cases = results["cases"]
    out = []
    for k in (2, 4):
        rec = cases.get(f"dense-n1000000-m50-k{k}")
        if not rec:
            continue
        ds = rec["results"].get("weaklab DawidSkene", {})
        sn = rec["results"].get("snorkel LabelModel")
        ck = rec["results"].get("crowd-kit DawidSkene")
        limit = 2 * rec["matrix_bytes"] + 150 * 1024**2
        mem_ok = "total" in ds and ds["mem"] < limit
        out.append(f"- 1e6 × 50 × {k}: weaklab DawidSkene fit+predict {C.fmt_seconds(ds.get('total'))}; "
                   f"vs snorkel LabelModel {ratio(ds, sn)} (target ≥ 3×); vs crowd-kit DawidSkene "
                   f"{ratio(ds, ck)} (target ≥ 20×); peak RSS − imports {C.fmt_bytes(ds.get('mem'))} vs "
                   f"2 × matrix + 150 MB = {C.fmt_bytes(limit)}: **{'met' if mem_ok else 'not met'}**.")
    rec = cases.get("dense-n10000000-m50-k4")
    if rec:
        ds = rec["results"].get("weaklab DawidSkene", {})
        ok = "total" in ds and ds["total"] < 60 and ds["mem"] < 3 * 1024**3
        out.append(f"- 1e7 × 50 × 4: weaklab DawidSkene {C.fmt_seconds(ds.get('total'))}, "
                   f"{C.fmt_bytes(ds.get('mem'))} (target < 60 s and < 3 GB): "
                   f"**{'met' if ok else 'not met'}**.")
    rec = cases.get("crowd-n1000000-m6000-k2")
    if rec:
        parts = [f"{m.removeprefix('weaklab ')} {C.fmt_seconds(r.get('total'))}"
                 for m, r in rec["results"].items() if m.startswith("weaklab") and "total" in r]
        ds = rec["results"].get("weaklab DawidSkene", {})
        ok = "total" in ds and ds["total"] < 60
        out.append(f"- Crowd 1e6 items × 6,000 workers, 6M votes: {', '.join(parts)} (target < 60 s for "
                   f"DawidSkene: **{'met' if ok else 'not met'}**).")
    return out


def markdown(results: dict[str, Any]) -> str:
    parts = ["## Label-model speed and memory", "", f"Command: `{results['command']}`", "",
             C.machine_markdown(results["machine"], VERSIONS), "",
             __doc__.split("Run from the repository root")[0].split("\n", 2)[2].strip(), "",
             "### Targets", "", *targets(results), "",
             "### All dense cases: fit+predict time / peak RSS − imports", "", grid_table(results)]
    for name in ("dense-n1000000-m50-k2", "dense-n1000000-m50-k4", "dense-n10000000-m50-k4",
                 "crowd-n1000000-m6000-k2", "crowd-n100000-m6000-k2"):
        rec = results["cases"].get(name)
        if rec:
            c = rec["config"]
            title = (f"{c['n']:.0e} × {c['m']} × {c['k']} dense" if c["kind"] == "dense"
                     else f"crowd: {c['n']:.0e} items × 6,000 workers, {6 * c['n']:,} votes")
            parts += ["", f"### {title} (matrix {C.fmt_bytes(rec['matrix_bytes'])}, np.copy "
                      f"{C.fmt_seconds(rec['copy_seconds'])})", "", detail_table(rec)]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small sizes; BENCHMARKS.md is not touched")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--child-out", help=argparse.SUPPRESS)
    p.add_argument("--config", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        child_main(args)
    else:
        parent_main(args)


if __name__ == "__main__":
    main()
