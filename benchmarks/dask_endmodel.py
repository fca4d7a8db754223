"""The Dask engine's out-of-core end model (issue 14): training on every worker, accuracy and calibration.

``PartitionedTextClassifier`` (hashed TF-IDF + logistic loss by SGD) is trained on partitioned soft labels in
three ways, on the cluster of ``dask_scale`` (a scheduler and N single-threaded ``dask worker`` processes; the
client connects by address):

* ``chain``: the earlier schedule, one ``partial_fit`` task after the other (each continuing the previous
  model, so one worker at a time), the features computed again by every task (``cache_features=False``);
* ``mix``: iterative parameter mixing, the default: per epoch one task per partition in parallel from the same
  model, then their weighted average; features computed once per partition and kept on the workers. Run on 1
  and on 2 workers (the weights must be bit-identical: the result does not depend on the cluster);
* ``chain, cached``: the chain with the features kept (separates the caching from the parallelism).

Data (generated per partition by the workers, written to Parquet; the client never holds the training set):
synthetic two-class texts of 14 words (class 1 with probability 0.4; each word from the class's 200 indicative
words with probability 0.12, from the other class's with 0.04, else from 20,000 common words by a Zipf law)
and simulated label-model soft labels: 60 % of the items are covered, and on those the label model picks the
right class with probability 0.8, with a confidence drawn from U(0.6, 0.99); uncovered items are not trained
on. The last partition is the test set (never trained on): accuracy of the hard prediction, ECE (10 bins), and
ECE before/after the calibration the Dask ``train`` step runs (``weaklab.pipeline.training.calibration``:
fitted on half the test items, measured on the other half).

Run from the repository root in the benchmark environment::

    .venv-bench/bin/python benchmarks/dask_endmodel.py --items 1000000            # writes BENCHMARKS.md
    .venv-bench/bin/python benchmarks/dask_endmodel.py --quick                     # 400,000 items, prints only
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C
from dask_scale import cluster

NAME = "dask_endmodel"
PART = 100_000
WORDS, INDICATIVE, SEED = 14, 200, 11
COMMON = 20_000


def make_partition(i: int, rows: int, root: str) -> tuple[int, str]:
    """On a worker: texts, gold and simulated soft labels of partition ``i``, written to Parquet."""
    import pandas as pd

    from weaklab import PartitionedSoftLabels

    rng = np.random.default_rng([SEED, i])
    y = (rng.random(rows) < 0.4).astype(np.int64)
    zipf = 1.0 / np.arange(1, COMMON + 1)
    words = rng.choice(COMMON, size=(rows, WORDS), p=zipf / zipf.sum()).astype(object)
    words = np.char.add("w", words.astype(str)).astype(object)
    draw = rng.random((rows, WORDS))
    own = np.char.add(np.char.add("c", y[:, None].astype(str)), rng.integers(INDICATIVE, size=(rows, WORDS))
                      .astype(str))
    other = np.char.add(np.char.add("c", (1 - y)[:, None].astype(str)), rng.integers(INDICATIVE, size=(rows, WORDS))
                        .astype(str))
    words = np.where(draw < 0.12, own, np.where(draw < 0.16, other, words))
    texts = [" ".join(row) for row in words.tolist()]
    covered = rng.random(rows) < 0.6
    said = np.where(rng.random(rows) < 0.8, y, 1 - y)
    conf = rng.uniform(0.6, 0.99, rows)
    proba = np.where(said[:, None] == np.arange(2), conf[:, None], 1 - conf[:, None])
    proba[~covered] = [0.6, 0.4]
    ids = np.arange(i * PART, i * PART + rows, dtype=np.int64)
    pd.DataFrame({"id": ids, "text": texts, "gold": y, "covered": covered}).to_parquet(
        Path(root) / "data" / f"part-{i:05d}.parquet", index=False)
    return rows, PartitionedSoftLabels.write_partition(str(Path(root) / "soft"), i, proba, ids)


def write_data(address: str, root: Path, n_items: int) -> Any:
    import dask
    from distributed import Client

    from weaklab import PartitionedSoftLabels

    (root / "data").mkdir(parents=True, exist_ok=True)
    parts = [(i, min(PART, n_items - i * PART)) for i in range(-(-n_items // PART))]
    with Client(address):
        written = dask.compute(*[dask.delayed(make_partition)(i, r, str(root)) for i, r in parts])
    soft = PartitionedSoftLabels(str(root / "soft"), 2, tuple(file for _, file in written),
                                 tuple(int(rows) for rows, _ in written))
    soft.save_metadata()
    return soft


def read_column(file: str, column: str) -> Any:
    import pandas as pd

    return pd.read_parquet(file, columns=[column])[column]


def train_weights(file: str, test: bool) -> np.ndarray:
    import pandas as pd

    covered = pd.read_parquet(file, columns=["covered"])["covered"].to_numpy()
    return np.zeros(len(covered)) if test else covered.astype(np.float64)


def fit_case(address: str, root: Path, soft: Any, **params: Any) -> dict[str, Any]:
    import dask
    import pandas as pd
    from distributed import Client

    from weaklab.endmodel import PartitionedTextClassifier
    from weaklab.evaluation import expected_calibration_error
    from weaklab.pipeline.training import calibration

    files = [str(root / "data" / f"part-{i:05d}.parquet") for i in range(soft.n_partitions)]
    last = soft.n_partitions - 1
    with Client(address):
        texts = [dask.delayed(read_column)(f, "text") for f in files]
        weights = [dask.delayed(train_weights)(f, i == last) for i, f in enumerate(files)]
        t0 = time.perf_counter()
        model = PartitionedTextClassifier(random_state=0, **params).fit(texts, soft, sample_weight=weights)
        seconds = time.perf_counter() - t0
    test = pd.read_parquet(files[last], columns=["text", "gold"])
    proba = model.predict_proba(test["text"])
    gold = test["gold"].to_numpy()
    cal = calibration(proba, gold, random_state=0)
    return {"seconds": seconds, "accuracy": float((proba.argmax(axis=1) == gold).mean()),
            "ece": expected_calibration_error(proba, gold, n_bins=10), "ece_before": cal["ece_before"],
            "ece_after": cal["ece_after"], "methods": cal.get("calibration_methods"), "n_train": model.n_train_,
            "n_test": len(gold), "coef": model.estimator_.coef_}


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"items": args.items, "partitions": -(-args.items // PART)}
    cases = [("chain", 2, {"schedule": "chain", "cache_features": False}),
             ("mix", 2, {}), ("mix", 1, {}), ("chain, cached", 2, {"schedule": "chain"})]
    with cluster(2, work) as address:
        t0 = time.perf_counter()
        soft = write_data(address, work, args.items)
        out["generate_seconds"] = time.perf_counter() - t0
    results: list[dict[str, Any]] = []
    coefs: dict[tuple[str, int], np.ndarray] = {}
    for name, workers, params in cases:
        if args.budget_left() < 60:
            results.append({"case": name, "workers": workers, "error": "not run: wall-clock budget used up"})
            continue
        load = round(os.getloadavg()[0], 1)
        with cluster(workers, work) as address:
            res = fit_case(address, work, soft, **params)
        coefs[(name, workers)] = res.pop("coef")
        res.update(case=name, workers=workers, load_before=load)
        print(res, flush=True)
        results.append(res)
    out["cases"] = results
    if ("mix", 1) in coefs and ("mix", 2) in coefs:
        out["mix_identical_1_vs_2_workers"] = bool(np.array_equal(coefs[("mix", 1)], coefs[("mix", 2)]))
    return out


def render(results: dict[str, Any]) -> str:
    r = results["run"]
    rows = []
    for c in r["cases"]:
        if "error" in c:
            rows.append([c["case"], c["workers"], "-", "-", "-", "-", c["error"]])
            continue
        rows.append([c["case"], c["workers"], C.fmt_seconds(c["seconds"]), f"{c['accuracy']:.4f}",
                     f"{c['ece']:.3f}", f"{c['ece_before']:.3f} -> {c['ece_after']:.3f}",
                     f"load {c['load_before']}" if c.get("load_before") else ""])
    lines = ["## Dask end model (`dask_endmodel`)", "", f"Command: `{results['command']}`", "",
             C.machine_markdown(results["machine"]), "",
             f"{r['items']:,} synthetic two-class texts in {r['partitions']} partitions of {PART:,} (generated "
             f"on 2 workers in {C.fmt_seconds(r['generate_seconds'])}); simulated soft labels (60 % coverage, 80 % "
             "right); the last partition is the test set, never trained on. 5 epochs, C = 4, 2^18 hashed uni- and "
             "bigrams. One run of each case on a shared machine: read the ratios, not the absolute times.", "",
             C.md_table(["schedule", "workers", "fit", "test accuracy", "test ECE",
                         "ECE before -> after calibration (half / half)", "note"], rows), ""]
    done = {(c["case"], c["workers"]): c for c in r["cases"] if "error" not in c}
    chain, mix2, mix1 = done.get(("chain", 2)), done.get(("mix", 2)), done.get(("mix", 1))
    if chain and mix2:
        speed = chain["seconds"] / mix2["seconds"]
        lines.append(f"- Mixing on 2 workers vs the chain (earlier default): **{speed:.2f}x** faster; test accuracy "
                     f"{mix2['accuracy'] - chain['accuracy']:+.4f} "
                     f"(binomial standard error at {mix2['n_test']:,} items: "
                     f"{np.sqrt(0.25 / mix2['n_test']):.4f}).")
    if mix1 and mix2:
        lines.append(f"- Mixing, 1 -> 2 workers: **{mix1['seconds'] / mix2['seconds']:.2f}x**; weights identical "
                     f"on 1 and 2 workers: {results['run'].get('mix_identical_1_vs_2_workers')}.")
    cached = done.get(("chain, cached", 2))
    if chain and cached:
        lines.append(f"- Keeping the features on the workers alone (chain, cached vs chain): "
                     f"{chain['seconds'] / cached['seconds']:.2f}x.")
    return "\n".join([*lines, ""])


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--items", type=int, default=1_000_000)
    p.add_argument("--budget", type=float, default=3000.0, help="wall-clock seconds for the whole run")
    p.add_argument("--quick", action="store_true")
    C.add_tree_args(p)
    args = p.parse_args(argv)
    if args.quick:
        args.items = 400_000
    else:
        C.check_tree(args.allow_dirty)
    C.run_in_work_folder(NAME, args, "weaklab-dask-endmodel-",
                         lambda work, results: results.update(run=run(args, work)), render)


if __name__ == "__main__":
    main()
