"""Dask scale-out (issue 14): LF application, label models on partitioned votes, client memory, worker scaling.

The cluster is a scheduler and N single-threaded worker processes started as separate processes (the
``dask scheduler`` / ``dask worker`` commands), so the client process holds only what the client holds; the
client connects by address, as it would to a real cluster. Data are generated **per partition on the
workers** and written to Parquet; the client never builds them.

Parts (``--part``):

* ``apply``: 10^7 synthetic comments (``lf_data.make_text_chunk``, 100,000 rows per partition), the 20
  keyword/regex LFs of ``lf_data``. Cases: weaklab ``apply_lfs(engine="dask", output=...)`` on 1 and on 2
  workers (votes written per partition, never gathered), weaklab's local engine in one process (partition
  by partition), and snorkel's ``DaskLFApplier`` on the same 2 workers, which gathers the matrix on the
  client. snorkel runs on the first ``--snorkel-rows`` rows only (its row-wise appliers take ~850 s per
  10^6 rows here); its ratio compares rows/s at that size, with weaklab timed on the same rows.
* ``labelmodel``: synthetic votes of 20 sources (accuracy 0.55-0.9, coverage 0.1-0.5, 2 classes) written
  per partition by the workers; ``DawidSkene`` fit + ``predict_proba`` to Parquet at each ``--votes`` size
  (votes = items x sources), in a fresh client process per size, whose peak RSS is reported.

Run from the repository root in the benchmark environment::

    .venv-bench/bin/python benchmarks/dask_scale.py --budget 2400      # everything, writes BENCHMARKS.md
    .venv-bench/bin/python benchmarks/dask_scale.py --quick            # small sizes, prints only
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C
import lf_data

NAME = "dask_scale"
TEXT_PART = lf_data.CHUNK
VOTE_PART = 1_000_000  # items per votes partition
N_SOURCES = 20


# ------------------------------------------------------------------------------------------ cluster


@contextlib.contextmanager
def cluster(n_workers: int, workdir: Path) -> Iterator[str]:
    """A scheduler and ``n_workers`` single-threaded worker processes (each under a nanny); yields the address."""
    sched_file = workdir / f"scheduler-{n_workers}-{time.time_ns()}.json"
    path = os.pathsep.join(filter(None, [str(C.BENCH_DIR), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "PYTHONPATH": path}
    py = sys.executable
    procs = [subprocess.Popen([py, "-m", "distributed.cli.dask_scheduler", "--scheduler-file", str(sched_file),
                               "--port", "0", "--dashboard-address", ":0"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        while not sched_file.exists():
            time.sleep(0.2)
        time.sleep(0.5)
        for _ in range(n_workers):
            procs.append(subprocess.Popen([py, "-m", "distributed.cli.dask_worker", "--scheduler-file", str(sched_file),
                                           "--nthreads", "1", "--memory-limit", "0", "--no-dashboard",
                                           "--local-directory", str(workdir / "dask-worker-space")], env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        address = json.loads(sched_file.read_text())["address"]
        from distributed import Client

        with Client(address) as client:
            client.wait_for_workers(n_workers, timeout=300)
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


# ------------------------------------------------------------------------------------------ data


def write_text_partition(i: int, rows: int, root: str) -> int:
    """On a worker: generate partition ``i`` of the comments and write it as Parquet; returns its rows."""
    import pandas as pd

    texts = lf_data.make_text_chunk(i, rows)
    frame = pd.DataFrame({"id": np.arange(i * TEXT_PART, i * TEXT_PART + rows, dtype=np.int64), "text": texts})
    frame.to_parquet(Path(root) / f"part-{i:05d}.parquet", index=False)
    return rows


def write_texts(address: str, root: Path, n_rows: int) -> float:
    """Generate ``n_rows`` comments on the cluster's workers; returns the seconds it took."""
    import dask
    from distributed import Client

    root.mkdir(parents=True, exist_ok=True)
    parts = [(i, min(TEXT_PART, n_rows - i * TEXT_PART)) for i in range(-(-n_rows // TEXT_PART))]
    t0 = time.perf_counter()
    with Client(address):
        dask.compute(*[dask.delayed(write_text_partition)(i, rows, str(root)) for i, rows in parts])
    return time.perf_counter() - t0


def text_files(root: Path, n_rows: int) -> list[str]:
    return [str(root / f"part-{i:05d}.parquet") for i in range(-(-n_rows // TEXT_PART))]


def write_vote_partition(i: int, rows: int, root: str, seed: int) -> int:
    """On a worker: synthetic votes of partition ``i`` (independent sources, known accuracies)."""
    from weaklab._core.dataset_io import write_frame
    from weaklab._core.partitioned import votes_file, votes_frame

    acc, cov = source_params(seed)
    rng = np.random.default_rng([seed, i])
    y = (rng.random(rows) < 0.4).astype(np.int8)
    right = rng.random((rows, N_SOURCES)) < acc
    votes = np.where(right, y[:, None], 1 - y[:, None]).astype(np.int8)
    votes[rng.random((rows, N_SOURCES)) >= cov] = -1
    ids = np.arange(i * VOTE_PART, i * VOTE_PART + rows, dtype=np.int64)
    write_frame(votes_frame(votes, ids, [f"s{j:02d}" for j in range(N_SOURCES)]), root, votes_file(i))
    return rows


def source_params(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(0.55, 0.9, N_SOURCES), rng.uniform(0.1, 0.5, N_SOURCES)


def write_votes(address: str, root: Path, n_items: int, seed: int = 7) -> Any:
    """Votes for ``n_items`` items written per partition by the workers; returns the PartitionedLabelMatrix."""
    import dask
    from distributed import Client

    from weaklab import PartitionedLabelMatrix
    from weaklab._core.partitioned import votes_file

    parts = [(i, min(VOTE_PART, n_items - i * VOTE_PART)) for i in range(-(-n_items // VOTE_PART))]
    with Client(address):
        rows = dask.compute(*[dask.delayed(write_vote_partition)(i, r, str(root), seed) for i, r in parts])
    plm = PartitionedLabelMatrix(str(root), tuple(f"s{j:02d}" for j in range(N_SOURCES)), 2,
                                 tuple(votes_file(i) for i, _ in parts), tuple(int(r) for r in rows))
    plm.save_metadata()
    return plm


# ------------------------------------------------------------------------------------------ cases


def weaklab_dask_apply(address: str, files: list[str], out: Path) -> dict[str, Any]:
    import dask.dataframe as dd
    from distributed import Client

    from weaklab.labeling import apply_lfs

    with Client(address):
        ddf = dd.read_parquet(files)
        t0 = time.perf_counter()
        plm, _ = apply_lfs(lf_data_lfs(), ddf, engine="dask", output=str(out), item_id="id", progress=False)
        seconds = time.perf_counter() - t0
    return {"seconds": seconds, "rows": plm.n_items, "partitions": plm.n_partitions}


def weaklab_local_apply(files: list[str]) -> dict[str, Any]:
    import pandas as pd

    from weaklab.labeling import apply_lfs

    lfs, rows, t0 = lf_data_lfs(), 0, time.perf_counter()
    for f in files:
        frame = pd.read_parquet(f)
        L, _ = apply_lfs(lfs, frame, item_id="id", progress=False)
        rows += L.n_items
        del frame, L
    return {"seconds": time.perf_counter() - t0, "rows": rows}


def snorkel_dask_apply(address: str, files: list[str]) -> dict[str, Any]:
    import dask.dataframe as dd
    from distributed import Client
    from lf_apply import snorkel_lfs
    from snorkel.labeling.apply.dask import DaskLFApplier

    with Client(address) as client:
        ddf = dd.read_parquet(files)
        t0 = time.perf_counter()
        L = DaskLFApplier(snorkel_lfs()).apply(ddf, scheduler=client)
        seconds = time.perf_counter() - t0
    return {"seconds": seconds, "rows": int(L.shape[0]), "votes": np.asarray(L)}


def lf_data_lfs() -> list[Any]:
    from lf_apply import weaklab_template_lfs

    return weaklab_template_lfs()


def label_model_child(address: str, root: str, out: str) -> dict[str, Any]:
    """In a fresh client process: fit DawidSkene on partitioned votes and predict to Parquet; peak RSS."""
    from distributed import Client

    from weaklab import PartitionedLabelMatrix
    from weaklab.models import DawidSkene

    C.release_memory()
    start_rss = C.current_rss()
    C.reset_peak_rss()
    with Client(address):
        plm = PartitionedLabelMatrix.open(root)
        t0 = time.perf_counter()
        model = DawidSkene(random_state=0).fit(plm)
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        soft = model.predict_proba(plm, output=out)
        predict_s = time.perf_counter() - t0
    acc, _ = source_params(7)
    est = np.asarray(model.source_accuracy_, dtype=float)
    return {"fit_seconds": fit_s, "predict_seconds": predict_s, "n_items": plm.n_items,
            "votes": plm.n_items * plm.n_sources, "soft_rows": soft.n_items, "start_rss": start_rss,
            "n_iter": getattr(model, "n_iter_", None), "accuracy_error": float(np.max(np.abs(est - acc)))}


# ------------------------------------------------------------------------------------------ parts


def run_apply(args: argparse.Namespace, work: Path, results: dict[str, Any]) -> None:
    n, snorkel_rows = args.rows, min(args.snorkel_rows, args.rows)
    texts = work / "texts"
    out: dict[str, Any] = {"rows": n, "snorkel_rows": snorkel_rows}
    results["apply"] = out
    skipped = {"error": "not run: wall-clock budget used up"}
    with cluster(2, work) as address:
        out["generate_seconds"] = write_texts(address, texts, n)
        files, small = text_files(texts, n), text_files(texts, snorkel_rows)
        out["dask_2"] = weaklab_dask_apply(address, files, work / "votes-2w")
        print("weaklab dask, 2 workers:", out["dask_2"], flush=True)
        out["dask_2_small"] = weaklab_dask_apply(address, small, work / "votes-small")
        out["snorkel_dask"] = skipped
        if args.budget_left() > 120:
            try:
                snork = snorkel_dask_apply(address, small)
                from weaklab import PartitionedLabelMatrix

                plm = PartitionedLabelMatrix.open(str(work / "votes-small"))
                ours = np.concatenate([plm.read_partition(i).to_dense() for i in range(plm.n_partitions)])
                snork["identical"] = bool(np.array_equal(ours, snork.pop("votes")))
                out["snorkel_dask"] = snork
            except Exception as exc:  # report, do not hide
                out["snorkel_dask"] = {"error": f"{type(exc).__name__}: {exc}"}
            print("snorkel dask:", out["snorkel_dask"], flush=True)
    out["dask_1"] = skipped
    if args.budget_left() > 60:
        with cluster(1, work) as address:
            out["dask_1"] = weaklab_dask_apply(address, files, work / "votes-1w")
        print("weaklab dask, 1 worker:", out["dask_1"], flush=True)
    out["local"] = weaklab_local_apply(files) if args.budget_left() > 60 else skipped
    print("weaklab local:", out["local"], flush=True)


def run_label_model(args: argparse.Namespace, work: Path, results: dict[str, Any]) -> None:
    sizes = results.setdefault("label_model", [])
    with cluster(2, work) as address:
        for votes in args.votes:
            if args.budget_left() < 60:
                sizes.append({"votes": votes, "error": "not run: wall-clock budget used up"})
                continue
            n_items = votes // N_SOURCES
            root = work / f"lm-{votes}"
            t0 = time.perf_counter()
            write_votes(address, root, n_items)
            gen_s = time.perf_counter() - t0
            res = C.run_child(__file__, ["--child", "labelmodel", "--address", address, "--root", str(root),
                                         "--out", str(root / "soft")], timeout=max(60.0, args.budget_left()))
            res.update(votes=votes, generate_seconds=gen_s)
            sizes.append(res)
            print("label model:", {k: v for k, v in res.items() if k != "stderr"}, flush=True)
            shutil.rmtree(root, ignore_errors=True)


# ------------------------------------------------------------------------------------------ report


def render(results: dict[str, Any]) -> str:
    info = results["machine"]
    lines = ["## Dask scale-out (`dask_scale`)", "", f"Command: `{results['command']}`", "",
             C.machine_markdown(info), "",
             "Cluster: a `dask scheduler` and N `dask worker --nthreads 1` processes started beside the client "
             "(the client connects by address, as to a real cluster). Data are generated per partition by the "
             "workers and written to Parquet; the client never holds them. One run of each case (no repeats): "
             "the machine is shared, so read the ratios, not the absolute times.", ""]
    ap = results.get("apply")
    if ap:
        lines += _apply_table(ap)
    lm = results.get("label_model")
    if lm:
        lines += _label_model_table(lm)
    return "\n".join(lines)


def _rate(case: dict[str, Any] | None) -> float | None:
    if not case or "seconds" not in case:
        return None
    return case["rows"] / case["seconds"]


def _apply_table(ap: dict[str, Any]) -> list[str]:
    rows = []
    cases = [("weaklab, Dask, 2 workers (votes to Parquet)", ap.get("dask_2")),
             ("weaklab, Dask, 1 worker (votes to Parquet)", ap.get("dask_1")),
             ("weaklab, local engine, 1 process", ap.get("local")),
             ("weaklab, Dask, 2 workers (votes to Parquet)", ap.get("dask_2_small")),
             ("snorkel `DaskLFApplier`, 2 workers (matrix gathered)", ap.get("snorkel_dask"))]
    for name, case in cases:
        if not case:
            continue
        if "error" in case:
            rows.append([name, "-", "-", "-", case["error"]])
            continue
        rows.append([name, f"{case['rows']:,}", C.fmt_seconds(case["seconds"]), C.fmt_rate(_rate(case)),
                     "identical to weaklab" if case.get("identical") else ""])
    out = ["### 20 keyword/regex LFs over synthetic comments", "",
           f"Generating the {ap['rows']:,} comments on 2 workers took {C.fmt_seconds(ap['generate_seconds'])} "
           "(not in any time below; every case reads the same Parquet files).", "",
           C.md_table(["case", "rows", "time", "rows/s", "note"], rows), ""]
    r2, r1, loc = _rate(ap.get("dask_2")), _rate(ap.get("dask_1")), _rate(ap.get("local"))
    small, snork = _rate(ap.get("dask_2_small")), _rate(ap.get("snorkel_dask"))
    if r2 and r1:
        verdict = "met" if r2 / r1 >= 1.6 else "not met"
        out.append(f"- Scaling 1 -> 2 workers: **{r2 / r1:.2f}x** (target >= 1.6x: {verdict}).")
    if r2 and loc:
        out.append(f"- Dask on 2 workers vs the local engine in one process: {r2 / loc:.2f}x.")
    if small and snork:
        out.append(f"- weaklab vs snorkel `DaskLFApplier` on the same 2 workers at {ap['snorkel_rows']:,} rows: "
                   f"**{small / snork:.1f}x** (target >= 10x: {'met' if small / snork >= 10 else 'not met'}). "
                   f"snorkel was not run at {ap['rows']:,} rows (too slow for the session's budget); no ratio is "
                   "computed at a size it did not run.")
    return [*out, ""]


def _label_model_table(lm: list[dict[str, Any]]) -> list[str]:
    rows = []
    for r in lm:
        if "error" in r:
            rows.append([f"{r['votes']:,}", "-", "-", "-", "-", "-", r["error"]])
            continue
        peak = r["peak_rss"]
        rows.append([f"{r['votes']:,}", f"{r['n_items']:,}", C.fmt_seconds(r["fit_seconds"]),
                     C.fmt_seconds(r["predict_seconds"]), C.fmt_bytes(peak), C.fmt_bytes(peak - r["start_rss"]),
                     f"largest accuracy error {r['accuracy_error']:.3f}; EM iterations {r['n_iter']}"])
    out = ["### DawidSkene on partitioned votes (20 sources, 2 classes), client memory", "",
           "Votes = items x sources (abstains included). Client peak RSS = the client process's peak resident "
           "memory (`VmHWM`, imports included); increment = peak minus the RSS when the client started the case.",
           "", C.md_table(["votes", "items", "fit", "predict to Parquet", "client peak RSS", "increment", "note"],
                          rows), ""]
    done = [r for r in lm if "error" not in r]
    big = [r for r in done if r["votes"] >= 10**8]
    if big:
        r = big[0]
        out.append(f"- 1e8-vote DawidSkene fit: {C.fmt_seconds(r['fit_seconds'])} (target < 10 min: "
                   f"{'met' if r['fit_seconds'] < 600 else 'not met'}); client peak {C.fmt_bytes(r['peak_rss'])} "
                   f"(target <= 300 MB: {'met' if r['peak_rss'] <= 300 * C.MB else 'not met'}).")
    else:
        out.append("- The 1e8-vote case did not run in this session's budget: no figure is given for it.")
    return [*out, ""]


# ------------------------------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--part", choices=("apply", "labelmodel", "all"), default="all")
    p.add_argument("--rows", type=int, default=10_000_000)
    p.add_argument("--snorkel-rows", type=int, default=200_000)
    p.add_argument("--votes", type=int, nargs="+", default=[10**6, 10**7, 10**8])
    p.add_argument("--budget", type=float, default=3600.0, help="wall-clock seconds for the whole run")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--child")
    p.add_argument("--child-out")
    p.add_argument("--address")
    p.add_argument("--root")
    p.add_argument("--out")
    C.add_tree_args(p)
    args = p.parse_args(argv)
    if args.child:
        C.child_report(args.child_out, **label_model_child(args.address, args.root, args.out))
        return
    if args.quick:
        args.rows, args.snorkel_rows, args.votes = 400_000, 100_000, [10**6, 4 * 10**6]
    else:
        C.check_tree(args.allow_dirty)
    def parts(work: Path, results: dict[str, Any]) -> None:
        if args.part in ("labelmodel", "all"):
            run_label_model(args, work, results)
        if args.part in ("apply", "all"):
            run_apply(args, work, results)

    C.run_in_work_folder(NAME, args, "weaklab-dask-scale-", parts, render)


if __name__ == "__main__":
    main()
