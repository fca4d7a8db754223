"""Train the network of weaklab's HyperLabelModel on synthetic label matrices (developer tool).

The model (``weaklab.models.hyper_net``) is a learned, unrolled EM: each step
streams the votes, computes statistics of every ``(source, class)`` pair
against leave-one-out posteriors, and a small permutation-invariant network
turns them into new vote weights, abstention terms and class prior. This
script fits that network on tasks drawn from ``hyper_synthetic.sample_task``
and writes the weights as plain arrays (``.npz``, no pickle) to
``src/weaklab/models/hyper_label_model.npz``.

Training uses the *same numpy feature code* as inference; only the small
network and the item posteriors are mirrored in torch to get gradients.
Gradients do not flow back through the statistics of earlier steps
(every step is supervised on its own posteriors), so each step is trained
on the statistics that the previous, trained steps actually produce.

It lives in ``scripts/`` (not ``benchmarks/``): it produces a package
artifact and compares nothing against peer libraries.

Before it writes the weights, the script runs a fixed real-data acceptance check
(``hyper_acceptance.py``: WRENCH valid splits, never test, and the ``weaklab init`` YouTube votes; AutoLabelModel
with and without gold): when a check of the new weights is more than ``--tolerance`` (1 point) below the same
check of the reference weights (``--out`` if it exists, else the shipped ones), the new weights are kept beside
``--out`` as ``*.rejected.npz`` and ``--out`` is left unchanged (exit status 1). Weights that lose on real
votes are never written.

Run from the repository root (torch needed). The shipped weights (version ``765a578fb481ea52``) are this
command's output with the defaults (family ``v1``, one abstention gate per ``(source, class)``): 3,000 steps of
4 tasks, 11 min on the shared 2-core machine at a load average of 5-12::

    OMP_NUM_THREADS=1 PYTHONPATH=src:scripts .venv/bin/python scripts/train_hyper_label_model.py --seed 0 --steps 3000
    ... --steps 200 --out /tmp/hlm.npz --skip-acceptance  # a quick smoke run
    ... --family v2 --shared-gate --out /tmp/hlm.npz      # 'independent' LF tasks, one abstention gate per source
    ... --init src/weaklab/models/hyper_label_model.npz --steps 400 --lr 3e-4 --shared-gate --out /tmp/hlm.npz
                                                          # fine-tune the shipped weights

The weights file's ``meta.minutes`` records the wall time, so its bytes (and version hash) differ between
runs of the same command even when the arrays are the same.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

import hyper_acceptance as A
import numpy as np
import torch
from hyper_synthetic import DEFAULT_FAMILY, FAMILIES, sample_task
from torch import nn

from weaklab import LabelMatrix
from weaklab.models import hyper_net as H

log = logging.getLogger("train_hyper")
HIDDEN, CLASS_HIDDEN, N_ITER = 48, 32, 5


class Net(nn.Module):
    """The torch mirror of ``hyper_net.network_step`` (same layer names, transposed weights on export)."""

    def __init__(self, abstain_gate: float = -3.0, shared_gate: bool = False) -> None:
        super().__init__()
        self.shared_gate = shared_gate
        self.s1 = nn.Linear(len(H.GAIN_INPUTS), HIDDEN)
        self.s2 = nn.Linear(4 * HIDDEN, HIDDEN)
        self.s3 = nn.Linear(HIDDEN, 3)
        self.c1 = nn.Linear(H.N_CLASS_FEATURES + HIDDEN, CLASS_HIDDEN)
        self.c2 = nn.Linear(2 * CLASS_HIDDEN, CLASS_HIDDEN)
        self.c3 = nn.Linear(CLASS_HIDDEN, 1)
        with torch.no_grad():
            self.s3.weight.mul_(0.1)
            # gain softplus(.) = 1; abstention gate sigmoid(abstain_gate) (0.05 at -3)
            self.s3.bias.copy_(torch.tensor([0.5413, abstain_gate, 0.0]))
            self.c3.weight.mul_(0.1)

    def forward(self, F: torch.Tensor, G: torch.Tensor,
                hints: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        act = nn.functional.leaky_relu
        h = act(self.s1(F[..., torch.from_numpy(H.GAIN_INPUTS)]), 0.1)
        pooled = [h, h.mean(dim=1, keepdim=True).expand_as(h), h.mean(dim=0, keepdim=True).expand_as(h),
                  h.mean(dim=(0, 1), keepdim=True).expand_as(h)]
        h2 = act(self.s2(torch.cat(pooled, dim=2)), 0.1)
        out = self.s3(h2)
        W = nn.functional.softplus(out[..., 0]) * hints[..., 0] + out[..., 2]
        gate = out[..., 1].mean(dim=1, keepdim=True) if self.shared_gate else out[..., 1]
        A = hints[..., 1] * torch.sigmoid(gate)
        hc = act(self.c1(torch.cat([G, h2.mean(dim=0)], dim=1)), 0.1)
        hc2 = torch.cat([hc, hc.mean(dim=0, keepdim=True).expand_as(hc)], dim=1)
        b = self.c3(act(self.c2(hc2), 0.1))[:, 0]
        return W, A, b - b.mean()

    def load(self, path: Path) -> None:
        """Start from the layers of a weights file (``--init``): fine-tuning instead of training from scratch."""
        arrays = H.load_weights(path).arrays
        if not np.array_equal(arrays.get("s1.inputs", H.GAIN_INPUTS), H.GAIN_INPUTS):
            raise SystemExit(f"--init {path}: trained on other input columns")
        with torch.no_grad():
            for name in ("s1", "s2", "s3", "c1", "c2", "c3"):
                layer = getattr(self, name)
                layer.weight.copy_(torch.from_numpy(arrays[name + ".w"].T.copy()))
                layer.bias.copy_(torch.from_numpy(arrays[name + ".b"].copy()))

    def export(self) -> dict[str, np.ndarray]:
        out = {"s1.inputs": H.GAIN_INPUTS.astype(np.float64),
               "gate.shared": np.array([float(self.shared_gate)])}
        for name in ("s1", "s2", "s3", "c1", "c2", "c3"):
            layer = getattr(self, name)
            out[name + ".w"] = layer.weight.detach().numpy().T.astype(np.float64)
            out[name + ".b"] = layer.bias.detach().numpy().astype(np.float64)
        return out


def torch_logits(rows, cols, labels, n, W, A, b) -> torch.Tensor:
    """Item logits ``b + sum_all A + sum_votes (W[j, v] e_v - A[j])`` in torch (differentiable)."""
    k = W.shape[1]
    Z = (b + A.sum(dim=0)).expand(n, k).clone()
    Z = Z.index_put((rows, labels), W[cols, labels], accumulate=True)
    return Z.index_add(0, rows, -A[cols])


def task_loss(net: Net, task, n_iter: int) -> tuple[torch.Tensor, float, float, np.ndarray]:
    """Summed per-step cross-entropy on the non-gold items, and final / majority-vote expected accuracy."""
    L = LabelMatrix(task.votes, n_classes=task.k)
    gold = task.gold if (task.gold >= 0).any() else None
    r, c, v = (torch.from_numpy(np.asarray(a, dtype=np.int64)) for a in L.coo())
    y = torch.from_numpy(task.y.astype(np.int64))
    scored = torch.from_numpy(task.gold < 0)
    W, A, b = H.initial_params(L.n_sources, L.n_classes)
    total = torch.zeros(())
    company = None
    for t in range(n_iter):
        step = t / max(n_iter - 1, 1)
        stats = H.vote_pass(L, W, A, b, gold, company)
        company = (stats.co_same, stats.co_other)
        dtype = next(net.parameters()).dtype
        F = torch.from_numpy(H.source_features(stats, W, A, step)).to(dtype)
        G = torch.from_numpy(H.class_features(stats, b, step)).to(dtype)
        hints = torch.from_numpy(H.source_hints(stats)).to(dtype)
        Wt, At, bt = net(F, G, hints)
        Z = torch_logits(r, c, v, L.n_items, Wt, At, bt)
        loss = nn.functional.cross_entropy(Z[scored], y[scored])
        total = total + loss * (t + 1) / n_iter
        W, A, b = (x.detach().double().numpy() for x in (Wt, At, bt))
    P = torch.softmax(Z.detach().double(), dim=1).numpy()
    return total, expected_accuracy(P, task.y), expected_accuracy(L.class_counts().astype(float), task.y), P


def expected_accuracy(P: np.ndarray, y: np.ndarray) -> float:
    top = P >= P.max(axis=1, keepdims=True) - 1e-9
    return float((top[np.arange(y.size), y] / top.sum(axis=1)).mean())


def validate(net: Net, tasks, n_iter: int) -> dict[str, float]:
    with torch.no_grad():
        res = [task_loss(net, t, n_iter) for t in tasks]
    loss = float(np.mean([float(r[0]) for r in res]))
    acc = np.array([r[1] for r in res])
    mv = np.array([r[2] for r in res])
    return {"loss": loss, "acc": float(acc.mean()), "mv": float(mv.mean()),
            "worse_than_mv_by_1pt": float(np.mean(acc < mv - 0.01))}


def check_numpy_matches(net: Net, tasks, path: Path) -> float:
    """Max |P_numpy - P_torch| of the exported weights run by weaklab's numpy code."""
    weights = H.load_weights(path)
    twin = Net(shared_gate=net.shared_gate).double()
    twin.load_state_dict(net.state_dict())
    worst = 0.0
    with torch.no_grad():
        for task in tasks:
            L = LabelMatrix(task.votes, n_classes=task.k)
            gold = task.gold if (task.gold >= 0).any() else None
            W, A, b, _ = H.run_network(L, gold, weights)
            Pt = task_loss(twin, task, weights.n_iter)[3]
            worst = max(worst, float(np.abs(H.posterior(L, W, A, b) - Pt).max()))
    return worst


def save(net: Net, path: Path, n_iter: int, meta: dict[str, float]) -> None:
    arrays = net.export()
    arrays["n_iter"] = np.array([n_iter], dtype=np.float64)
    for key, value in meta.items():
        arrays["meta." + key] = np.array([value], dtype=np.float64)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        np.savez_compressed(fh, **arrays)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--n-val", type=int, default=150)
    ap.add_argument("--abstain-gate", type=float, default=-3.0,
                    help="initial logit of the gate on the abstention hint (sigmoid(-3) = 0.05)")
    ap.add_argument("--family", choices=sorted(FAMILIES), default=DEFAULT_FAMILY,
                    help="the synthetic family (hyper_synthetic.FAMILIES; v2 adds 'independent' LF tasks)")
    ap.add_argument("--shared-gate", action="store_true",
                    help="one abstention gate per source, shared by its classes (default: one per (source, class))")
    ap.add_argument("--init", type=Path, default=None,
                    help="start from these weights (fine-tuning; the result is reproducible from them and the seed)")
    ap.add_argument("--max-minutes", type=float, default=None,
                    help="stop early after this wall time (the result then depends on the machine's speed)")
    ap.add_argument("--out", type=Path, default=H.WEIGHTS_FILE)
    ap.add_argument("--reference", type=Path, default=None,
                    help="weights the acceptance check compares with (default: --out if it exists, else the "
                         "shipped ones)")
    ap.add_argument("--tolerance", type=float, default=A.TOLERANCE,
                    help="largest drop of an AutoLabelModel check the acceptance allows (default 0.01)")
    ap.add_argument("--acceptance-cache", type=Path, default=Path(tempfile.gettempdir()) / "weaklab_hyper_acceptance",
                    help="folder caching the reference weights' acceptance scores (keyed by weights and source)")
    ap.add_argument("--skip-acceptance", action="store_true",
                    help="write without the real-data check (refused for the shipped weights file)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.skip_acceptance and args.out.resolve() == H.WEIGHTS_FILE.resolve():
        ap.error("--skip-acceptance: the shipped weights file is only written by weights that pass the check")
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    rng = np.random.default_rng(args.seed)
    val_tasks = [sample_task(np.random.default_rng([args.seed, 10_000 + i]), args.family) for i in range(args.n_val)]
    net = Net(args.abstain_gate, shared_gate=args.shared_gate)
    if args.init is not None:
        net.load(args.init)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.steps, pct_start=0.05)
    t0 = time.perf_counter()
    for step in range(1, args.steps + 1):
        opt.zero_grad()
        loss = sum(task_loss(net, sample_task(rng, args.family), N_ITER)[0] for _ in range(args.batch)) / args.batch
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % 100 == 0 or step == args.steps:
            minutes = (time.perf_counter() - t0) / 60
            log.info("step %d loss %.4f (%.1f min)", step, float(loss.detach()), minutes)
        if step % 500 == 0 or step == args.steps:
            log.info("validation %s", validate(net, val_tasks, N_ITER))
        if args.max_minutes is not None and (time.perf_counter() - t0) / 60 > args.max_minutes:
            log.info("stopping at step %d: --max-minutes reached", step)
            break
    result = validate(net, val_tasks, N_ITER)
    minutes = (time.perf_counter() - t0) / 60
    candidate = args.out.with_name(args.out.stem + ".candidate.npz")
    meta = {"seed": args.seed, "steps": step, "minutes": minutes, "lr": args.lr, **result}
    if args.init is not None:
        meta["init_version"] = int(H.load_weights(args.init).version[:12], 16)
    save(net, candidate, N_ITER, meta)
    log.info("final validation %s; %.1f min; wrote %s (%d bytes)", result, minutes, candidate,
             candidate.stat().st_size)
    log.info("numpy vs torch max |dP| = %.2e", check_numpy_matches(net, val_tasks[:20], candidate))
    if not args.skip_acceptance and not accept(candidate, args):
        rejected = args.out.with_name(args.out.stem + ".rejected.npz")
        candidate.replace(rejected)
        log.error("acceptance check failed: kept %s, left the weights at %s unchanged", rejected, args.out)
        raise SystemExit(1)
    candidate.replace(args.out)
    log.info("wrote %s", args.out)


def accept(candidate: Path, args: argparse.Namespace) -> bool:
    """The real-data acceptance check (``hyper_acceptance``) of the candidate against the reference weights."""
    reference = args.reference or (args.out if args.out.is_file() else H.WEIGHTS_FILE)
    cases = A.all_cases()
    ok, lines = A.compare(A.score_cases(candidate, cases), A.cached_scores(reference, cases, args.acceptance_cache),
                          args.tolerance)
    log.info("acceptance check against %s (tolerance %.3f):\n  %s\n%s", reference, args.tolerance,
             "\n  ".join(lines), "PASS" if ok else "FAIL")
    return ok

if __name__ == "__main__":
    main()
