"""Dashboard load test on loopback: review-queue and sources pages over a 1M-item store.

Input: ``weaklab.synthetic.make_label_matrix(n, 50, coverage=0.3, accuracy=(0.55, 0.9), random_state=0)``
recorded with the store API as one run (dataset of ``n`` string ids, the matrix, a majority-vote label
model with its soft labels, per-source statistics).

The dashboard runs as ``weaklab serve`` in a child process bound to 127.0.0.1 (a free port). After one
warm-up request per route (the first builds the per-run caches: review ranking, source table), 20
client threads send 2,000 requests in all, alternating ``GET /review`` (each client is its own
annotator: it claims an item through ``store.claim_items``, a write transaction, and later requests
show the claim it holds) and
``GET /sources`` (sorted by a rotating column, rotating pages). Reported: errors, throughput, and
latency percentiles per route (target: p95 < 200 ms). Requests go to 127.0.0.1 only.

Run from the repository root::

    python benchmarks/dashboard_load.py           # 1M items; writes results JSON and BENCHMARKS.md
    python benchmarks/dashboard_load.py --quick   # 100k items, 400 requests; prints only
"""

from __future__ import annotations

import argparse
import http.client
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C

NAME = "dashboard_load"
N_SOURCES = 50
CLIENTS = 20
SORTS = ("source", "coverage", "emp_accuracy", "conflicts")


def build_store(n: int, path: Path) -> float:
    """Record one synthetic run of ``n`` items x 50 sources; return the seconds it took."""
    from weaklab import SoftLabels
    from weaklab.models import MajorityVote
    from weaklab.store import Store
    from weaklab.synthetic import make_label_matrix

    started = time.perf_counter()
    truth = make_label_matrix(n, N_SOURCES, coverage=0.3, accuracy=(0.55, 0.9), random_state=0)
    ids = np.array([f"item-{i:07d}" for i in range(n)], dtype=object)
    L = truth.L.replace(item_ids=ids, source_names=[f"lf_{j:02d}" for j in range(N_SOURCES)],
                        source_versions=[f"v1-{j:02d}" for j in range(N_SOURCES)], class_names=["neg", "pos"])
    model = MajorityVote().fit(L)
    soft = SoftLabels(model.predict_proba(L), item_ids=ids, class_names=["neg", "pos"], producer="MajorityVote")
    coverage = L.votes_per_source() / n
    with Store(path) as store:
        dataset = store.add_dataset("synthetic-1m", item_ids=ids)
        run = store.start_run(dataset, {"label_model": {"name": "MajorityVote"}})
        app = store.add_application(dataset, L, run_id=run)
        store.add_label_model_run(run, model.to_state(), application_id=app)
        store.add_soft_labels(dataset, soft, run_id=run, role="label_model")
        store.add_source_stats(run, {name: {"coverage": float(c)} for name, c in zip(L.source_names, coverage)})
        store.finish_run(run, "finished", {"label_model": {"n_items": n}})
    return time.perf_counter() - started


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(store: Path, port: int) -> subprocess.Popen[bytes]:
    """``weaklab serve`` on 127.0.0.1:port in a child process; returns once it answers."""
    code = "import sys; from weaklab.cli import main; sys.exit(main())"
    proc = subprocess.Popen([sys.executable, "-c", code, "serve", "--store", str(store), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            get(port, "/static/style.css", None)
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("weaklab serve did not start")


def get(port: int, path: str, annotator: str | None, conn: http.client.HTTPConnection | None = None) -> int:
    """One GET to 127.0.0.1 (on ``conn`` if given); returns the status."""
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Cookie": f"weaklab_annotator={annotator}"} if annotator else {}
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        if own:
            conn.close()


def client(port: int, index: int, n_requests: int, out: list[tuple[str, float, int]]) -> None:
    """One client: alternate review and sources requests on a kept-alive connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for i in range(n_requests):
        if i % 2 == 0:
            route, path = "review", "/review"
        else:
            route = "sources"
            path = f"/sources?sort={SORTS[(i // 2) % len(SORTS)]}&dir={'asc' if i % 4 == 1 else 'desc'}"
        started = time.perf_counter()
        try:
            status = get(port, path, f"bench-{index:02d}", conn)
        except OSError:
            status = -1
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        out.append((route, time.perf_counter() - started, status))
    conn.close()


def run(n: int, total: int, workdir: Path) -> dict[str, Any]:
    """Build the store, serve it, warm the caches, then send ``total`` requests over 20 clients."""
    store = workdir / ".weaklab" / "weaklab.duckdb"
    build_seconds = build_store(n, store)
    port = _free_port()
    proc = start_server(store, port)
    try:
        warm = {}
        for path in ("/review", "/sources"):
            started = time.perf_counter()
            status = get(port, path, "warm-up")
            warm[path] = {"seconds": time.perf_counter() - started, "status": status}
        results: list[tuple[str, float, int]] = []
        threads = [threading.Thread(target=client, args=(port, i, total // CLIENTS, results))
                   for i in range(CLIENTS)]
        load_before = _load()
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
        load_after = _load()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {"n_items": n, "n_sources": N_SOURCES, "clients": CLIENTS, "requests": len(results),
            "build_seconds": build_seconds, "warm_up": warm, "wall_seconds": wall,
            "errors": sum(1 for _, _, s in results if s != 200), "routes": _latencies(results),
            "load_average": {"before_requests": load_before, "after_requests": load_after}}


def _load() -> list[float]:
    """The 1, 5 and 15-minute load averages (other work on a shared machine slows the server down)."""
    import os

    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def _latencies(results: list[tuple[str, float, int]]) -> dict[str, Any]:
    out = {}
    for route in ("review", "sources", "all"):
        lat = np.array([t for r, t, _ in results if route in (r, "all")]) * 1000
        out[route] = {"n": int(lat.size), "p50_ms": float(np.percentile(lat, 50)),
                      "p95_ms": float(np.percentile(lat, 95)), "p99_ms": float(np.percentile(lat, 99)),
                      "max_ms": float(lat.max())}
    return out


def markdown(res: dict[str, Any], info: dict[str, Any]) -> str:
    """The BENCHMARKS.md section."""
    rows = [[route, f"{v['n']:,}", f"{v['p50_ms']:.0f}", f"{v['p95_ms']:.0f}", f"{v['p99_ms']:.0f}",
             f"{v['max_ms']:.0f}"] for route, v in res["routes"].items()]
    warm = ", ".join(f"`{p}` {w['seconds']:.1f} s" for p, w in res["warm_up"].items())
    verdict = "met" if res["routes"]["all"]["p95_ms"] < 200 else "missed"
    return "\n\n".join([
        f"## Dashboard under load (`weaklab serve`), {res['n_items']:,} items x {res['n_sources']} sources",
        f"Regenerate: `python benchmarks/dashboard_load.py`. {res['requests']:,} requests from "
        f"{res['clients']} concurrent clients on loopback (keep-alive), alternating `GET /review` (each client "
        "is an annotator: it claims an item through `store.claim_items`, a store write, and later requests "
        "show the claim it holds) and `GET /sources` (rotating sort column). The server is `weaklab serve` in its "
        "own process.",
        C.md_table(["route", "requests", "p50 ms", "p95 ms", "p99 ms", "max ms"], rows, align="lrrrrr"),
        f"Errors: **{res['errors']}**. Throughput: {res['requests'] / res['wall_seconds']:.0f} requests/s "
        f"({res['wall_seconds']:.1f} s). Target p95 < 200 ms: **{verdict}**. First request per route (builds "
        f"the per-run caches: review ranking over all soft labels, source table): {warm}. Store built in "
        f"{res['build_seconds']:.0f} s.",
        f"Load average (1/5/15 min) on this {info.get('cores', '?')}-core machine, shared with other jobs: "
        f"{_shown(res.get('load_average', {}).get('before_requests'))} when the requests started, "
        f"{_shown(res.get('load_average', {}).get('after_requests'))} when they ended.",
        C.machine_markdown(info),
    ])


def _shown(load: list[float] | None) -> str:
    return " / ".join(f"{x:.2f}" for x in load) if load else "unknown"


def main(argv: list[str] | None = None) -> int:
    """Run the load test; write results (full runs only) and print the section."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="100k items, 400 requests; BENCHMARKS.md untouched")
    C.add_tree_args(p)
    args = p.parse_args(argv)
    if not args.quick:
        C.check_tree(args.allow_dirty)
    n, total = (100_000, 400) if args.quick else (1_000_000, 2_000)
    info = C.machine_info(["weaklab", "fastapi", "uvicorn", "duckdb"])
    workdir = Path(tempfile.mkdtemp(prefix="weaklab-bench-dashboard-"))
    try:
        res = run(n, total, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    C.publish(NAME, {"machine": info, "results": res}, markdown(res, info), quick=args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
