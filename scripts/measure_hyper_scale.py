"""Time and peak memory of HyperLabelModel fit + predict_proba at 1M items x 100 sources (developer check).

Generates a dense int8 matrix with ``weaklab.synthetic.make_label_matrix``, then
fits and predicts in the same process; prints wall times, the matrix's own
size and the process's peak resident memory (``ru_maxrss``) before and after.

    OMP_NUM_THREADS=1 PYTHONPATH=src .venv/bin/python scripts/measure_hyper_scale.py --n 1000000 --m 100 --k 2
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

from weaklab.models import HyperLabelModel, MajorityVote
from weaklab.synthetic import make_label_matrix


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--m", type=int, default=100)
    ap.add_argument("--k", type=int, default=2)
    ap.add_argument("--coverage", type=float, nargs=2, default=(0.1, 0.9))
    args = ap.parse_args()
    data = make_label_matrix(args.n, args.m, args.k, coverage=tuple(args.coverage), accuracy=(0.55, 0.9),
                             random_state=0)
    L = data.L
    base = peak_mib()
    print(f"matrix {L.shape} k={L.n_classes} votes={L.nnz:,} ({L.to_dense().nbytes / 2**20:.0f} MiB); "
          f"peak RSS after generating {base:.0f} MiB")
    t0 = time.perf_counter()
    model = HyperLabelModel().fit(L)
    t1 = time.perf_counter()
    P = model.predict_proba(L)
    t2 = time.perf_counter()
    acc = float(np.mean(P.argmax(axis=1) == data.y))
    mv = float(np.mean(MajorityVote().fit(L).predict(L, random_state=0) == data.y))
    print(f"fit {t1 - t0:.1f} s ({model.n_iter_} passes), predict_proba {t2 - t1:.1f} s; "
          f"peak RSS {peak_mib():.0f} MiB (+{peak_mib() - base:.0f} MiB over the generated matrix); "
          f"accuracy {acc:.4f} vs majority vote {mv:.4f}")


if __name__ == "__main__":
    main()
