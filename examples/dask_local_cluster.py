"""Weak supervision on Dask: votes and soft labels stay in Parquet partitions, the client sees statistics.

The same steps as examples/youtube_spam.py, run on a dask.distributed LocalCluster:

1. the bundled YouTube comments, repeated to ``--copies`` times their size, become a Dask DataFrame;
2. the labeling functions run on the workers, one Parquet file of int8 votes per partition;
3. the source summary is reduced from per-partition counts;
4. majority vote and Dawid-Skene fit from reduced statistics (the client never gathers the votes);
5. soft labels are written beside the votes, and the most suspicious weak labels are merged across
   partitions with bounded memory;
6. the partitioned fit is checked against the local engine on the same data.

On a real cluster only the Client line changes: ``Client("tcp://scheduler:8786")`` and an ``output``
that every worker can reach (any fsspec URL, e.g. ``s3://bucket/votes``).

Run: python examples/dask_local_cluster.py [--copies 10] [--workers 2]   (needs weaklab[dask])
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from weaklab import (
    DawidSkene,
    LabelMatrix,
    MajorityVote,
    apply_lfs,
    keyword_lf,
    lf_summary,
    load_youtube_spam,
    regex_lf,
)
from weaklab.cleaning import top_label_issues

HAM, SPAM = 0, 1


def make_lfs() -> list:
    return [
        keyword_lf(["subscribe", "my channel", "check out"], SPAM, name="kw_promo"),
        keyword_lf(["song", "love", "voice"], HAM, name="kw_song"),
        regex_lf(r"https?://|www\.", SPAM, name="re_link"),
        keyword_lf(["free", "win", "gift"], SPAM, name="kw_free"),
        regex_lf(r"^.{0,19}$", HAM, name="re_short"),
    ]


def comments_frame(copies: int):
    """The bundled comments ``copies`` times over, with unique ids (row order kept)."""
    import pandas as pd

    comments = load_youtube_spam()[["comment_id", "text", "label"]]
    frames = [comments.assign(item=comments["comment_id"] + f"#{c}") for c in range(copies)]
    return pd.concat(frames, ignore_index=True)


def main(copies: int, workers: int) -> None:
    import dask.dataframe as dd
    from dask.distributed import Client, LocalCluster

    data = comments_frame(copies)
    lfs = make_lfs()
    with tempfile.TemporaryDirectory() as tmp, \
            LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=":0") as cluster, \
            Client(cluster):
        ddf = dd.from_pandas(data[["item", "text"]], npartitions=4 * workers, sort=False)
        votes, report = apply_lfs(lfs, ddf, engine="dask", item_id="item", class_names=["ham", "spam"],
                                  output=Path(tmp) / "votes")
        print(f"{votes.n_items:,} comments in {votes.n_partitions} partitions, {votes.n_sources} sources; "
              f"votes written to {Path(votes.root).name}/ in {report.total_seconds:.1f} s")
        print(lf_summary(votes)[["polarity", "coverage", "overlaps", "conflicts"]].round(3).to_string())

        mv = MajorityVote().fit(votes)
        ds = DawidSkene(random_state=0).fit(votes)
        soft = ds.predict_proba(votes)  # Parquet beside the votes, one file per partition
        print(f"Dawid-Skene fitted from reduced statistics; soft labels in {Path(soft.root).name}/")
        accuracies = {name: round(float(a), 3) for name, a in zip(votes.source_names, ds.source_accuracy_)}
        print("estimated source accuracies:", accuracies)

        issues = top_label_issues(votes, soft, n=5)
        texts = data.set_index("item")["text"]
        print("the 5 weak labels the posterior doubts most (each comment occurs once per copy):")
        for row in issues.itertuples():
            print(f"  {row.item_id}: majority vote {row.given} -> {row.suggested}   {texts[row.item_id][:60]!r}")

        # The check a tutorial can afford: gather the votes (never done in a real run) and fit locally.
        local = LabelMatrix.concat([votes.read_partition(i) for i in range(votes.n_partitions)])
        same = np.allclose(DawidSkene(random_state=0).fit(local).confusion_, ds.confusion_, atol=1e-6)
        print(f"Dawid-Skene on Dask equals the local engine: {same}")
        gold = data["label"].to_numpy()
        covered = (local.to_dense() >= 0).any(axis=1)
        for name, model in (("majority vote", mv), ("Dawid-Skene", ds)):
            pred = model.predict(local, random_state=0)  # ties broken at random
            print(f"{name}: accuracy on the {covered.mean():.0%} of comments with a vote "
                  f"{np.mean(pred[covered] == gold[covered]):.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=10, help="times the 1,953 comments are repeated")
    parser.add_argument("--workers", type=int, default=2, help="worker processes of the LocalCluster")
    args = parser.parse_args()
    main(args.copies, args.workers)
