"""Lineage-store speed and size: a 1M-item x 50-source run written to and read from ``weaklab.store``.

Input: ``weaklab.synthetic.make_label_matrix(n, 50, coverage=0.3, accuracy=(0.55, 0.9), random_state=0)``
(int8, 30% of cells hold a vote) with string item ids ``"item-0000000"`` and a version per source; soft
labels from the normalised vote counts; 10,000 human annotations from 20 annotators.

Cases, each on a fresh store in a temporary folder (the store deduplicates identical content, so a write is
timed once; reads are the best of 3):

* ``add_dataset`` (1M item ids: Parquet + the DuckDB item index), ``add_application`` of the dense
  matrix (packed Parquet: each item's int8 row as one fixed-size binary value) and of the same matrix
  in sparse form (long Parquet: row/col/label per vote), and ``load_matrix`` of each (exact round trip);
* ``add_soft_labels`` (float32 Parquet) and ``load_soft_labels``;
* ``add_annotations`` of 10,000 answers at once, ``add_annotation`` one at a time (median of 50), and
  ``annotations()`` listing them all; ``claim_items`` (10 items out of 1,000 candidates, median of 50);
* ``explain`` on 200 random items of the run (the run has the matrix, soft labels, a label-model record,
  100 corrections and the annotations): first call, median, p95 and max;
* size on disk of the DuckDB file and of each kind of array file, relative to the raw int8 matrix
  (``n x 50`` bytes).

Run from the repository root::

    python benchmarks/store.py            # 1M items; writes benchmarks/results/store.json and BENCHMARKS.md
    python benchmarks/store.py --quick    # 100k items; prints only
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C

NAME = "store"
N_SOURCES = 50


def _inputs(n: int) -> dict[str, Any]:
    from weaklab import SoftLabels
    from weaklab.synthetic import make_label_matrix

    truth = make_label_matrix(n, N_SOURCES, coverage=0.3, accuracy=(0.55, 0.9), random_state=0)
    ids = np.array([f"item-{i:07d}" for i in range(n)], dtype=object)
    L = truth.L.replace(item_ids=ids, source_names=[f"lf_{j:02d}" for j in range(N_SOURCES)],
                        source_versions=[f"v1-{j:02d}" for j in range(N_SOURCES)], class_names=["neg", "pos"])
    counts = L.class_counts().astype(np.float64) + 0.5
    S = SoftLabels(counts / counts.sum(axis=1, keepdims=True), item_ids=ids, class_names=["neg", "pos"],
                   producer="majority-vote")
    rng = np.random.default_rng(1)
    answered = rng.choice(n, size=10_000, replace=False)
    return {"L": L, "S": S, "ids": ids, "y": truth.y, "answered": answered,
            "annotators": np.array([f"annotator-{i % 20}" for i in range(10_000)], dtype=object)}


def _timed(fn: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def _dir_sizes(root: Path) -> dict[str, int]:
    from weaklab.store import Store

    sizes: dict[str, int] = {"duckdb": (root / "weaklab.duckdb").stat().st_size}
    with Store(root / "weaklab.duckdb", read_only=True) as st:
        kinds = dict(st._query("SELECT name, kind FROM arrays"))  # benchmark-only peek at the array index
    for path in (root / "arrays").glob("*.parquet"):
        kind = kinds.get(path.stem, "orphan")
        sizes[kind] = sizes.get(kind, 0) + path.stat().st_size
    return sizes


def run(n: int, workdir: Path) -> dict[str, Any]:
    from weaklab.store import Store

    data = _inputs(n)
    L, S, ids = data["L"], data["S"], data["ids"]
    res: dict[str, Any] = {"n_items": n, "n_sources": N_SOURCES, "nnz": int(L.nnz)}
    root = workdir / "dense"
    with Store(root / "weaklab.duckdb") as st:
        res["add_dataset"], ds = _timed(lambda: st.add_dataset("bench", ids))
        run_id = st.start_run(ds, {"label_model": "MajorityVote"})
        res["add_application_dense"], app = _timed(lambda: st.add_application(ds, L, run_id=run_id))
        res["load_matrix_dense"], _, back = C.best_of(lambda: st.load_matrix(app), 3)
        res["round_trip_exact"] = bool(back.equals(L))
        del back
        res["add_soft_labels"], sl = _timed(lambda: st.add_soft_labels(ds, S, run_id=run_id))
        res["load_soft_labels"], _, S2 = C.best_of(lambda: st.load_soft_labels(sl), 3)
        res["soft_labels_max_abs_error"] = float(np.abs(S2.proba - S.proba).max())
        st.add_label_model_run(run_id, {"class": "MajorityVote", "module": "weaklab.models", "params": {},
                                        "attributes": {}, "arrays": {"class_balance_": np.array([0.5, 0.5])}})
        st.add_corrections(run_id, ids[:100], 1, old_labels=0, method="confident_learning", who="bench")
        res.update(_annotation_cases(st, ds, run_id, data))
        res.update(_explain_cases(st, ids, run_id))
        st.finish_run(run_id, metrics={"accuracy": float((S.hard(random_state=0) == data["y"]).mean())})
    res["sizes_dense"] = _dir_sizes(root)
    root = workdir / "sparse"
    sparse = L.as_sparse()
    with Store(root / "weaklab.duckdb") as st:
        ds = st.add_dataset("bench", ids)
        res["add_application_sparse"], app = _timed(lambda: st.add_application(ds, sparse))
        res["load_matrix_sparse"], _, back = C.best_of(lambda: st.load_matrix(app), 3)
        res["round_trip_exact_sparse"] = bool(back.equals(L) and back.is_sparse)
    res["sizes_sparse"] = _dir_sizes(root)
    return res


def _annotation_cases(st: Any, ds: int, run_id: int, data: dict[str, Any]) -> dict[str, Any]:
    ids, answered = data["ids"], data["answered"]
    out: dict[str, Any] = {}
    labels = data["y"][answered[:9_950]]
    out["add_annotations_10k"], _ = _timed(
        lambda: st.add_annotations(ds, ids[answered[:9_950]], data["annotators"][:9_950], labels,
                                   origin="label_studio"))
    single = []
    for i in answered[9_950:]:
        t, _ = _timed(lambda i=i: st.add_annotation(ds, ids[i], "reviewer", int(data["y"][i]), run_id=run_id))
        single.append(t)
    out["add_annotation_median"] = float(np.median(single))
    out["annotations_list"], _, frame = C.best_of(lambda: st.annotations(ds), 3)
    out["n_annotations"] = len(frame)
    candidates = ids[np.random.default_rng(2).choice(len(ids), size=1_000, replace=False)]
    claims = []
    for i in range(50):
        t, _ = _timed(lambda i=i: st.claim_items(run_id, f"r{i}", candidates, n=10))
        claims.append(t)
    out["claim_items_median"] = float(np.median(claims))
    return out


def _explain_cases(st: Any, ids: np.ndarray, run_id: int) -> dict[str, Any]:
    rng = np.random.default_rng(3)
    picks = rng.integers(0, len(ids), size=201)
    first, _ = _timed(lambda: st.explain(ids[picks[0]], run_id))
    times = []
    for i in picks[1:]:
        t, _ = _timed(lambda i=i: st.explain(ids[i], run_id))
        times.append(t)
    arr = np.array(times)
    return {"explain_first": first, "explain_median": float(np.median(arr)),
            "explain_p95": float(np.quantile(arr, 0.95)), "explain_max": float(arr.max()),
            "explain_n": len(arr)}


def markdown(res: dict[str, Any], info: dict[str, Any]) -> str:
    n, raw = res["n_items"], res["n_items"] * N_SOURCES
    rows = [
        ["add_dataset (item ids)", C.fmt_seconds(res["add_dataset"]), "-"],
        ["add_application, dense (packed int8 rows)", C.fmt_seconds(res["add_application_dense"]),
         C.fmt_seconds(res["load_matrix_dense"])],
        ["add_application, sparse (long Parquet)", C.fmt_seconds(res["add_application_sparse"]),
         C.fmt_seconds(res["load_matrix_sparse"])],
        ["add_soft_labels (float32)", C.fmt_seconds(res["add_soft_labels"]),
         C.fmt_seconds(res["load_soft_labels"])],
        [f"add_annotations ({res['n_annotations'] - 50:,} at once)",
         C.fmt_seconds(res["add_annotations_10k"]),
         C.fmt_seconds(res["annotations_list"]) + f" (all {res['n_annotations']:,})"],
        ["add_annotation (one, median)", _ms(res["add_annotation_median"]), "-"],
        ["claim_items (10 of 1,000 candidates, median)", _ms(res["claim_items_median"]), "-"],
    ]
    lat = C.md_table(["explain", "latency"], [
        ["first call (cold caches)", _ms(res["explain_first"])],
        [f"median of {res['explain_n']} random items", _ms(res["explain_median"])],
        ["p95", _ms(res["explain_p95"])], ["max", _ms(res["explain_max"])],
    ])
    size_rows = []
    for label, key in (("dense run", "sizes_dense"), ("sparse matrix only", "sizes_sparse")):
        for kind, size in sorted(res[key].items()):
            size_rows.append([label, kind, C.fmt_bytes(size), C.fmt_ratio(size / raw)])
    sizes = C.md_table(["store", "part", "size", "vs raw int8"], size_rows, "llrr")
    target = "met" if res["explain_median"] < 0.05 else "**missed**"
    return "\n\n".join([
        f"## Lineage store (`weaklab.store`), {n:,} items x {N_SOURCES} sources",
        f"Command: `{C.command_line()}`. "
        f"{C.machine_markdown(info, ['weaklab', 'numpy', 'pandas', 'pyarrow'])} duckdb {_duckdb_version()}.",
        f"Votes: {res['nnz']:,} non-abstain of {raw:,} cells (raw int8 matrix {C.fmt_bytes(raw)}). "
        f"Round trips exact: dense {res['round_trip_exact']}, sparse {res['round_trip_exact_sparse']}; "
        f"soft labels stored as float32 (max abs error {res['soft_labels_max_abs_error']:.1e}). "
        "Writes timed once (the store "
        "deduplicates identical content), reads best of 3.",
        C.md_table(["operation", "write", "read"], rows, "lrr"),
        f"`explain` target (< 50 ms median per item): {target}.",
        lat, sizes,
    ])


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms"


def _duckdb_version() -> str:
    import duckdb

    return str(duckdb.__version__)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="100k items; BENCHMARKS.md is not touched")
    p.add_argument("--child-out", help=argparse.SUPPRESS)
    C.add_tree_args(p)
    args = p.parse_args(argv)
    if not args.quick:
        C.check_tree(args.allow_dirty)
    n = 100_000 if args.quick else 1_000_000
    info = C.machine_info(["weaklab", "numpy", "pandas", "pyarrow", "duckdb"])
    workdir = Path(tempfile.mkdtemp(prefix="weaklab-bench-store-"))
    try:
        res = run(n, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    res["peak_rss"] = C.peak_rss_self()
    C.publish(NAME, {"machine": info, "results": res}, markdown(res, info), quick=args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
