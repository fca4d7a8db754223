"""The dashboard over a run on the Dask engine (issue 14, item 4): page times and the dashboard's memory as the
data grow, with the partition size fixed.

For each ``--items`` size: a project whose data is a Parquet file of synthetic comments (integer ids, row
groups of ``--partition-rows``, written chunk by chunk) runs ``weaklab issues`` on the Dask engine (a
LocalCluster of 2 workers). Then a fresh process opens the dashboard over the store (FastAPI's test client,
no network) and times each page on first visit: sources, label model, health, label issues (pages 1 and 5),
the review queue (first visit ranks every soft-label partition in turn), answering the review item, and the
lineage of an item of the last partition. It reports the process's peak RSS, and the largest number of rows
any single Parquet read returned; whether the label-model page draws the agreement heat-map and the issues page
shows texts, and whether later issues pages read any partition (they should not: the run recorded their
evidence); the run's step times and what its out-of-core end model trained on. Memory that stays flat while the
items grow tenfold is the check that no page loads the data whole.

Run from the repository root::

    .venv-bench/bin/python benchmarks/dask_dashboard.py --items 100000 1000000
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

WORDS = ("check out my channel", "subscribe please", "love this song", "great video", "free money here",
         "http://spam.example", "best song ever", "nice", "WOW AMAZING", "my new video is up")


def make_project(root: Path, n_items: int, partition_rows: int) -> None:
    """A project (``init_project``'s LFs) over ``n_items`` synthetic comments in a Parquet file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from weaklab.pipeline import init_project

    init_project(root, n_items=40)
    rng = np.random.default_rng(0)
    path = root / "data" / "comments.parquet"
    schema = pa.schema([("comment_id", pa.int64()), ("author", pa.string()), ("text", pa.string()),
                        ("label", pa.int64()), ("split", pa.string())])
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, n_items, partition_rows):
            n = min(partition_rows, n_items - start)
            picks = rng.integers(0, len(WORDS), size=(n, 2))
            texts = [f"{WORDS[a]} {WORDS[b]} {i}" for i, (a, b) in zip(range(start, start + n), picks)]
            writer.write_table(pa.table({
                "comment_id": np.arange(start, start + n, dtype=np.int64), "author": ["a"] * n, "text": texts,
                "label": rng.integers(0, 2, size=n), "split": np.where(rng.random(n) < 0.05, "dev", "train")},
                schema=schema), row_group_size=partition_rows)
    config = root / "weaklab.toml"
    config.write_text(config.read_text().replace('path = "data/comments.csv"', 'path = "data/comments.parquet"')
                      .replace('name = "MatrixCompletion"', 'name = "DawidSkene"')
                      + f'\n[engine]\nkind = "dask"\nscheduler = "local"\nn_workers = 2\n'
                        f"partition_rows = {partition_rows}\n")


def serve_and_time(store: Path, last_item: int) -> dict[str, Any]:
    """Page times (s) on first visit, peak RSS (MB) and the largest single Parquet read (rows)."""
    import re

    import pyarrow.parquet as pq
    from fastapi.testclient import TestClient

    from weaklab._core import partitioned
    from weaklab.dashboard import create_app

    largest = [0]
    real_frame, real_group = partitioned.read_frame, pq.ParquetFile.read_row_group

    def read_frame(*args: Any, **kwargs: Any) -> Any:
        frame = real_frame(*args, **kwargs)
        largest[0] = max(largest[0], len(frame))
        return frame

    def read_row_group(this: Any, *args: Any, **kwargs: Any) -> Any:
        table = real_group(this, *args, **kwargs)
        largest[0] = max(largest[0], table.num_rows)
        return table

    partitioned.read_frame = read_frame
    pq.ParquetFile.read_row_group = read_row_group
    times: dict[str, float] = {}
    with TestClient(create_app(store, annotator_default="bench"), base_url="http://127.0.0.1",
                    follow_redirects=False) as web:
        rss_start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        shown: dict[str, bool] = {}
        for name, url in (("sources", "/sources"), ("label model", "/label-model"), ("health", "/health"),
                          ("issues p1", "/issues"), ("issues p5", "/issues?page=5"), ("review (ranks)", "/review"),
                          ("item lineage", f"/items/{last_item}")):
            started = time.perf_counter()
            page = web.get(url)
            times[name] = time.perf_counter() - started
            if page.status_code != 200:
                raise RuntimeError(f"{url}: {page.status_code} {page.text[:300]}")
            if url == "/review":
                item = re.search(r'data-item="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
            if url == "/label-model":
                shown["agreement heat-map"] = "Agreement between sources" in page.text
            if url == "/issues":
                shown["issue texts"] = any(words in page.text for words in WORDS if len(words) > 10)
        reads_before = largest[0]
        largest[0] = 0
        for url in ("/issues?page=2", "/issues?page=3"):
            web.get(url)
        shown["issues pages read no partition"] = largest[0] == 0
        largest[0] = reads_before
        started = time.perf_counter()
        answer = web.post("/review/answer", data={"csrf": web.cookies.get("weaklab_csrf"), "run": "1",
                                                  "item_id": item, "label": "1"})
        times["answer"] = time.perf_counter() - started
        if answer.status_code != 303:
            raise RuntimeError(f"answer: {answer.status_code} {answer.text[:300]}")
        started = time.perf_counter()
        web.get("/review")
        times["next review item"] = time.perf_counter() - started
        orphaned = web.app.state.dashboard.store.carry_over(1)["orphaned"]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": times, "rss_after_start_mb": rss_start, "peak_rss_mb": peak, "largest_read_rows": largest[0],
            "orphaned_answers": orphaned, "shown": shown}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--partition-rows", type=int, default=100_000)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--last-item", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        print(json.dumps(serve_and_time(Path(args.serve), args.last_item)))
        return
    from weaklab.pipeline import Project

    rows = []
    for n in args.items:
        root = Path(tempfile.mkdtemp(prefix=f"dask_dashboard_{n}_")) / "project"
        make_project(root, n, args.partition_rows)
        started = time.perf_counter()
        run = Project(root).run("issues")
        run_seconds = time.perf_counter() - started
        steps = {k: round(v, 1) for k, v in run.metrics.get("seconds", {}).items()}
        end = run.metrics.get("end_model") or {}
        label_model = run.metrics.get("label_model") or {}
        out = subprocess.run([sys.executable, __file__, "--serve", str(root / ".weaklab" / "weaklab.duckdb"),
                              "--last-item", str(n - 3)], capture_output=True, text=True, check=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append({"items": n, "run_seconds": run_seconds, "step_seconds": steps,
                     "end_model": {k: end.get(k) for k in ("name", "n_train", "n_dev", "accuracy", "ece")},
                     "label_model_coverage": label_model.get("coverage"), **result})
        print(json.dumps(rows[-1]), flush=True)
    print("BEGIN dask_dashboard")
    pages = list(rows[0]["seconds"])
    print(f"| items | partitions | peak RSS (MB) | largest read (rows) | {' | '.join(pages)} |")
    print("|" + " --- |" * (4 + len(pages)))
    for r in rows:
        cells = " | ".join(f"{r['seconds'][p]:.2f}" for p in pages)
        print(f"| {r['items']:,} | {-(-r['items'] // args.partition_rows)} | {r['peak_rss_mb']:.0f} | "
              f"{r['largest_read_rows']:,} | {cells} |")
    print()
    # the synthetic comments' gold labels are coin flips: the end model's dev accuracy says nothing here
    print("| items | run steps (s) | end model (items trained on) | shown |")
    print("| ---: | --- | --- | --- |")
    for r in rows:
        end = r["end_model"]
        steps = ", ".join(f"{k} {v}" for k, v in r["step_seconds"].items())
        shown = ", ".join(f"{k}: {'yes' if v else 'NO'}" for k, v in r["shown"].items())
        print(f"| {r['items']:,} | {steps} | {end.get('name')} ({end.get('n_train') or 0:,}) | {shown} |")
    print("END dask_dashboard")


if __name__ == "__main__":
    main()
