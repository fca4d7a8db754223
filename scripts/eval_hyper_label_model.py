"""Score HyperLabelModel weights on a validation family of synthetic tasks (developer tool, numpy only).

The tasks come from ``hyper_synthetic.sample_task`` with seeds ``[seed, 20_000 + i]``, disjoint from the
training stream (``default_rng(seed)``) and from the training script's own validation tasks
(``[seed, 10_000 + i]``). Prints, per task kind and overall, the expected accuracy (ties split) of the
weights against majority vote, and the share of tasks more than 1 point below majority vote.
Nothing here looks at real data sets: choices about the generator, network and training are made on these
numbers only.

    OMP_NUM_THREADS=1 PYTHONPATH=src:scripts .venv/bin/python scripts/eval_hyper_label_model.py --n 300
    ... --weights /tmp/hlm.npz --abstain-scale 0.5   # the same weights with damped abstention terms
"""

from __future__ import annotations

import argparse
from collections import defaultdict

import numpy as np
from hyper_synthetic import DEFAULT_FAMILY, FAMILIES, Task, sample_task

from weaklab import LabelMatrix
from weaklab.models import hyper_net as H


def expected_accuracy(P: np.ndarray, y: np.ndarray) -> float:
    """Accuracy of the argmax with exact ties split evenly."""
    top = P >= P.max(axis=1, keepdims=True) - 1e-9
    return float((top[np.arange(y.size), y] / top.sum(axis=1)).mean())


def score_task(task: Task, weights: H.HyperWeights, abstain_scale: float) -> tuple[float, float]:
    """(model, majority vote) expected accuracy on the task's non-gold items."""
    L = LabelMatrix(task.votes, n_classes=task.k)
    gold = task.gold if (task.gold >= 0).any() else None
    W, A, b, _ = H.run_network(L, gold, weights)
    rest = task.gold < 0
    P = H.posterior(L, W, abstain_scale * A, b)
    mv = L.class_counts().astype(float)
    return expected_accuracy(P[rest], task.y[rest]), expected_accuracy(mv[rest], task.y[rest])


def validation_tasks(seed: int, n: int, family: str = DEFAULT_FAMILY) -> list[Task]:
    """The validation family: ``n`` tasks seeded ``[seed, 20_000 + i]``."""
    return [sample_task(np.random.default_rng([seed, 20_000 + i]), family) for i in range(n)]


def summary(rows: list[tuple[str, int, float, float]]) -> dict[str, str]:
    """Mean model / majority-vote accuracy and share of tasks > 1 point below majority vote, per group."""
    groups: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for kind, k, acc, mv in rows:
        groups[kind].append((acc, mv))
        groups["k>=5 " + ("topic/lf" if kind in ("topic", "lf") else "other")].append((acc, mv)) if k >= 5 else None
        groups["all"].append((acc, mv))
    out = {}
    for name, vals in sorted(groups.items()):
        a = np.array(vals)
        out[name] = (f"n={len(a)} model {100 * a[:, 0].mean():.2f} mv {100 * a[:, 1].mean():.2f} "
                     f"below_mv_1pt {100 * np.mean(a[:, 0] < a[:, 1] - 0.01):.1f}%")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--weights", default=None, help="a weights .npz (default: the shipped one)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--family", choices=sorted(FAMILIES), default=DEFAULT_FAMILY)
    ap.add_argument("--abstain-scale", type=float, nargs="+", default=[1.0])
    args = ap.parse_args()
    weights = H.load_weights(args.weights)
    tasks = validation_tasks(args.seed, args.n, args.family)
    for scale in args.abstain_scale:
        rows = [(t.kind, t.k, *score_task(t, weights, scale)) for t in tasks]
        print(f"weights {weights.version} abstain-scale {scale}")
        for name, line in summary(rows).items():
            print(f"  {name:>16}: {line}")


if __name__ == "__main__":
    main()
