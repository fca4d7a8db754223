"""Localisation and segmentation from image-level labels on cluttered canvases with known truth.

Canvases (64x64, no downloads) are built from the real MNIST and Fashion-MNIST images: 1-3 objects (28x28
images resized to 20-34 px, bilinear) at random positions (boxes overlap by IoU < 0.2), plus 4-6 clutter
fragments (random 7-12 px crops of other images of the same set, kept off the objects' boxes). An
object's mask is its pixels above 0.3 (intensity in [0, 1]); its box is the tight box of the mask; the
label map is 0 for background (clutter included) and ``1 + class`` on object pixels. Image-level labels
are the multi-hot set of classes present. Train / validation / test canvases use disjoint source images
(the MNIST train split for train and validation, its test split for test).

Pipeline (weaklab.vision), per data set:

1. ``CAMClassifier`` (GAP CNN, 4 conv layers 16-32-64-64, stride 4) trained on the train canvases with
   image-level labels only (multi-label BCE). Class activation maps of each present class on the test
   canvases -> ``cam_to_box`` at 0.2 of the max (Zhou et al.). **CorLoc** = fraction of (test canvas,
   present class) cases whose box has IoU >= 0.5 with a true box of that class. **MaxBoxAcc**
   (Choe et al. 2020) = the best accuracy over thresholds 0.05..0.95 swept on the test maps; the CorLoc
   at the threshold swept on the *validation* canvases (Choe et al.'s held-out protocol) is also given.
   Baselines: the centre box (mean train box size, centred), the whole image, and the mask-supervised
   upper bound (a SegmentationNet trained on the true label maps; a class's box is the largest
   connected region it predicts).
2. Seeds: ``cam_to_seeds`` (foreground >= 0.4 of the max, background < 0.1, ignore between) on the train
   canvases; ``refine_seeds`` (appearance + affinity CRF, growth limited to 3 px beyond the class's
   seeds, only classes in the image). Seed mIoU is measured on the labelled pixels (coverage given).
3. ``self_train_segmentation`` (EM, 2 rounds x 5 epochs; the E-step relabels only the pixels the refined
   seeds leave unlabelled) from the refined seeds; BoxSup-style: a net trained on ``box_to_mask`` of the
   true boxes (box supervision); upper bound: a net on the true maps. Every SegmentationNet gets the same
   40 epochs (the self-trained one as 2 rounds x 20). mIoU (background + 10 classes) on the test canvases.

Two more weakly supervised boxes use the test canvases' image-level labels as CorLoc does: the largest
region of a class in the refined CAM seeds, and in the self-trained net's prediction.

Training lengths, batch sizes and batch normalisation were set on development canvases drawn from the
MNIST train split (images 40,000-49,999, never the test canvases); every setting is fixed here before
the run. The segmentation length comes from the mask-supervised net on 1,000 development canvases, scored
on 300 others: mIoU 0.227 / 0.469 / 0.694 / 0.755 after 10 / 20 / 30 / 40 epochs (an earlier version of
this script used 10 epochs, which left the "upper bound" below the self-trained net).

Usage::

    .venv/bin/python benchmarks/vision_localization.py              # rewrites the vision_localization section
    .venv/bin/python benchmarks/vision_localization.py --quick      # tiny sizes; BENCHMARKS.md untouched
"""

from __future__ import annotations

import argparse
import gzip
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import add_tree_args, check_tree, command_line, machine_info, machine_markdown, md_table, publish

from weaklab.vision import (
    CAMClassifier,
    SegmentationNet,
    box_iou,
    box_to_mask,
    cam_to_box,
    cam_to_seeds,
    corloc,
    mask_to_box,
    max_box_acc,
    mean_iou,
    refine_seeds,
    self_train_segmentation,
)

DATA = Path(os.environ.get("WEAKLAB_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
SIZE, N_CLASSES = 64, 10
SEG_EPOCHS, EM_ROUNDS, EM_EPOCHS = 40, 2, 20
FG, BG = 0.4, 0.1
TARGET_CORLOC, TARGET_RATIO = 0.80, 0.80


# ------------------------------------------------------------------------------------------ canvases
def load_idx(folder: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    prefix = "train" if split == "train" else "t10k"
    with gzip.open(DATA / folder / f"{prefix}-images-idx3-ubyte.gz") as fh:
        X = np.frombuffer(fh.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(DATA / folder / f"{prefix}-labels-idx1-ubyte.gz") as fh:
        y = np.frombuffer(fh.read(), np.uint8, offset=8)
    return X.astype(np.float32) / 255.0, y.astype(np.int64)


def _place(rng: np.random.Generator, s: int, taken: list[tuple[int, int, int, int]], max_iou: float,
           tries: int = 30) -> tuple[int, int] | None:
    for _ in range(tries):
        x, y = int(rng.integers(0, SIZE - s + 1)), int(rng.integers(0, SIZE - s + 1))
        if all(box_iou((x, y, x + s, y + s), t) < max_iou for t in taken):
            return x, y
    return None


def make_canvas(X: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> dict[str, Any]:
    canvas = np.zeros((SIZE, SIZE), np.float32)
    label_map = np.zeros((SIZE, SIZE), np.int16)
    squares: list[tuple[int, int, int, int]] = []
    objects = []
    for _ in range(int(rng.integers(1, 4))):
        s = int(rng.integers(20, 35))
        pos = _place(rng, s, squares, 0.2)
        if pos is None:
            continue
        i = int(rng.integers(len(X)))
        patch = np.clip(ndimage.zoom(X[i], s / 28.0, order=1), 0, 1)[:s, :s]
        x0, y0 = pos
        region = canvas[y0:y0 + s, x0:x0 + s]
        mask = patch > 0.3
        label_map[y0:y0 + s, x0:x0 + s][mask & (patch >= region)] = y[i] + 1
        canvas[y0:y0 + s, x0:x0 + s] = np.maximum(region, patch)
        full = np.zeros((SIZE, SIZE), bool)
        full[y0:y0 + s, x0:x0 + s] = mask
        squares.append((x0, y0, x0 + s, y0 + s))
        objects.append((int(y[i]), mask_to_box(full)))
    for _ in range(int(rng.integers(4, 7))):
        f = int(rng.integers(7, 13))
        grown = [(a - 2, b - 2, c + 2, d + 2) for a, b, c, d in squares]
        pos = _place(rng, f, grown, 1e-9)
        if pos is None:
            continue
        src = X[int(rng.integers(len(X)))]
        r0, c0 = int(rng.integers(0, 28 - f + 1)), int(rng.integers(0, 28 - f + 1))
        x0, y0 = pos
        canvas[y0:y0 + f, x0:x0 + f] = np.maximum(canvas[y0:y0 + f, x0:x0 + f], src[r0:r0 + f, c0:c0 + f])
    return {"image": canvas, "label_map": label_map, "objects": objects}


def make_split(X: np.ndarray, y: np.ndarray, n: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    items = [make_canvas(X, y, rng) for _ in range(n)]
    present = np.zeros((n, N_CLASSES), np.int64)
    for k, it in enumerate(items):
        for c, _ in it["objects"]:
            present[k, c] = 1
    return {"images": np.stack([it["image"] for it in items]), "maps": np.stack([it["label_map"] for it in items]),
            "objects": [it["objects"] for it in items], "present": present}


def cases(split: dict[str, Any]) -> tuple[list[tuple[int, int]], list[list[tuple[int, int, int, int]]]]:
    """(canvas, class) for every class present, and the true boxes of that class in that canvas."""
    keys, boxes = [], []
    for k, objs in enumerate(split["objects"]):
        for c in sorted({c for c, _ in objs}):
            keys.append((k, c))
            boxes.append([b for cc, b in objs if cc == c])
    return keys, boxes


# ------------------------------------------------------------------------------------------- running
def localisation(cam_model: CAMClassifier, mask_net: SegmentationNet, self_trained: SegmentationNet,
                 train: dict, val: dict, test: dict) -> dict:
    keys, gt = cases(test)
    cams = cam_model.class_activation_maps(test["images"])
    refined = refine_seeds(test["images"], cam_to_seeds(cams, test["present"], fg_threshold=FG, bg_threshold=BG),
                           test["present"])
    self_pred = self_trained.predict(test["images"])
    maps = [cams[k, c] for k, c in keys]
    cam_boxes = [cam_to_box(m, 0.2) for m in maps]
    vkeys, vgt = cases(val)
    vcams = cam_model.class_activation_maps(val["images"])
    _, val_t, _ = max_box_acc([vcams[k, c] for k, c in vkeys], vgt)
    best_acc, best_t, _ = max_box_acc(maps, gt)
    sizes = np.array([[b[2] - b[0], b[3] - b[1]] for objs in train["objects"] for _, b in objs]).mean(axis=0)
    w, h = (round(v) for v in sizes)
    centre = ((SIZE - w) // 2, (SIZE - h) // 2, (SIZE - w) // 2 + w, (SIZE - h) // 2 + h)
    pred = mask_net.predict(test["images"])
    upper = [_largest_box(pred[k] == c + 1) for k, c in keys]
    return {
        "cases": len(keys),
        "corloc_cam@0.2": corloc(cam_boxes, gt),
        "corloc_cam@val_threshold": corloc([cam_to_box(m, val_t) for m in maps], gt),
        "val_threshold": val_t,
        "maxboxacc": best_acc, "maxboxacc_threshold": best_t,
        "corloc_centre_box": corloc([centre] * len(keys), gt),
        "corloc_whole_image": corloc([(0, 0, SIZE, SIZE)] * len(keys), gt),
        "corloc_mask_supervised": corloc(upper, gt),
        "corloc_refined_seeds": corloc([_largest_box(refined[k] == c + 1) for k, c in keys], gt),
        "corloc_self_trained": corloc([_largest_box(self_pred[k] == c + 1) for k, c in keys], gt),
        "classifier_mean_ap": _mean_ap(cam_model.predict_proba(test["images"]), test["present"]),
    }


def _largest_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    labels, n = ndimage.label(mask, structure=np.ones((3, 3), bool))
    if n == 0:
        return (0, 0, SIZE, SIZE)
    return mask_to_box(labels == 1 + int(np.argmax(np.bincount(labels.ravel())[1:])))


def _mean_ap(proba: np.ndarray, present: np.ndarray) -> float:
    from sklearn.metrics import average_precision_score

    return float(np.mean([average_precision_score(present[:, c], proba[:, c]) for c in range(present.shape[1])
                          if 0 < present[:, c].sum() < len(present)]))


def labelled_miou(labels: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """mIoU on the labelled pixels of a (possibly partial) label map, and the fraction labelled."""
    keep = labels >= 0
    return mean_iou(labels[keep], truth[keep], N_CLASSES + 1)[0], float(keep.mean())


def run_dataset(folder: str, n_train: int, n_val: int, n_test: int, epochs: int, seed: int) -> dict[str, Any]:
    Xtr, ytr = load_idx(folder, "train")
    Xte, yte = load_idx(folder, "test")
    train = make_split(Xtr[:50000], ytr[:50000], n_train, seed)
    val = make_split(Xtr[50000:], ytr[50000:], n_val, seed + 1)
    test = make_split(Xte, yte, n_test, seed + 2)
    out: dict[str, Any] = {"dataset": folder, "n_train": n_train, "n_val": n_val, "n_test": n_test,
                           "objects_per_canvas": float(np.mean([len(o) for o in test["objects"]]))}
    t = {}
    t0 = time.perf_counter()
    cam_model = CAMClassifier(max_epochs=epochs, random_state=seed).fit(train["images"], train["present"])
    t["cam_classifier"] = time.perf_counter() - t0
    print(f"{folder}: CAM classifier {t['cam_classifier']:.0f} s", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    seg_epochs = SEG_EPOCHS
    upper = SegmentationNet(N_CLASSES + 1, max_epochs=seg_epochs, random_state=seed).fit(train["images"], train["maps"])
    t["mask_supervised"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    cams = cam_model.class_activation_maps(train["images"])
    seeds = cam_to_seeds(cams, train["present"], fg_threshold=FG, bg_threshold=BG)
    refined = refine_seeds(train["images"], seeds, train["present"])
    t["seeds"] = time.perf_counter() - t0
    seg: dict[str, Any] = {}
    seg["seed_miou"], seg["seed_coverage"] = labelled_miou(seeds, train["maps"])
    seg["refined_miou"], seg["refined_coverage"] = labelled_miou(refined, train["maps"])
    t0 = time.perf_counter()
    model, history = self_train_segmentation(train["images"], train["present"], refined, rounds=EM_ROUNDS,
                                             epochs_per_round=EM_EPOCHS, random_state=seed)
    t["self_training"] = time.perf_counter() - t0
    seg["em_label_miou"] = [labelled_miou(h, train["maps"])[0] for h in history]
    seg["self_trained_miou"] = mean_iou(model.predict(test["images"]), test["maps"], N_CLASSES + 1)[0]
    t0 = time.perf_counter()
    box_maps = np.zeros_like(train["maps"])
    for k, objs in enumerate(train["objects"]):
        for c, b in objs:
            box_maps[k][box_to_mask(train["images"][k], b) & (box_maps[k] == 0)] = c + 1
    seg["boxsup_label_miou"] = labelled_miou(box_maps, train["maps"])[0]
    boxsup = SegmentationNet(N_CLASSES + 1, max_epochs=seg_epochs, random_state=seed).fit(train["images"], box_maps)
    t["box_supervised"] = time.perf_counter() - t0
    seg["box_supervised_miou"] = mean_iou(boxsup.predict(test["images"]), test["maps"], N_CLASSES + 1)[0]
    seg["mask_supervised_miou"] = mean_iou(upper.predict(test["images"]), test["maps"], N_CLASSES + 1)[0]
    seg["ratio_self_trained_to_upper"] = seg["self_trained_miou"] / seg["mask_supervised_miou"]
    out["segmentation"], out["seconds"] = seg, t
    out["localisation"] = localisation(cam_model, upper, model, train, val, test)
    print(f"{folder}: {out['localisation']}", file=sys.stderr, flush=True)
    print(f"{folder}: {seg}", file=sys.stderr, flush=True)
    return out


def markdown(results: list[dict[str, Any]], info: dict[str, Any], wall: float, epochs: int) -> str:
    names = [r["dataset"] for r in results]
    loc_rows = [
        ("CAM -> box at 0.2 of max (CorLoc)", "corloc_cam@0.2"),
        ("CAM -> box at the validation-swept threshold", "corloc_cam@val_threshold"),
        ("MaxBoxAcc (threshold swept on the test maps)", "maxboxacc"),
        ("centre box (mean train box size)", "corloc_centre_box"),
        ("whole image", "corloc_whole_image"),
        ("CAM seeds refined on the image (refine_seeds) -> largest region's box", "corloc_refined_seeds"),
        ("self-trained SegmentationNet (from refined seeds) -> largest region's box", "corloc_self_trained"),
        ("mask-supervised upper bound (SegmentationNet on true maps)", "corloc_mask_supervised"),
    ]
    loc = md_table(["method (IoU >= 0.5)", *names],
                   [[label] + [f"{r['localisation'][key]:.3f}" for r in results] for label, key in loc_rows])
    seg_rows = [
        ("CAM seeds (train canvases, labelled pixels only)", "seed_miou", "seed_coverage"),
        ("refined seeds (train canvases, labelled pixels only)", "refined_miou", "refined_coverage"),
        ("self-trained net from refined seeds, EM 2 rounds (test)", "self_trained_miou", None),
        ("box-supervised net, box_to_mask of true boxes (test)", "box_supervised_miou", None),
        ("mask-supervised upper bound (test)", "mask_supervised_miou", None),
    ]

    def cell(r: dict, key: str, cov: str | None) -> str:
        s = r["segmentation"]
        return f"{s[key]:.3f}" + (f" (coverage {s[cov]:.0%})" if cov else "")

    seg = md_table(["mIoU (background + 10 classes)", *names],
                   [[label] + [cell(r, key, cov) for r in results] for label, key, cov in seg_rows]
                   + [["self-trained / upper bound"] + [f"**{r['segmentation']['ratio_self_trained_to_upper']:.2f}**"
                                                         for r in results]])
    verdicts = []
    for r in results:
        c = r["localisation"]["corloc_cam@0.2"]
        s = r["localisation"]["corloc_refined_seeds"]
        q = r["segmentation"]["ratio_self_trained_to_upper"]
        verdicts.append(f"{r['dataset']}: CorLoc of CAM -> box {c:.3f} ({'met' if c >= TARGET_CORLOC else 'missed'}), "
                        f"of refined seeds -> box {s:.3f} ({'met' if s >= TARGET_CORLOC else 'missed'}); "
                        f"self-trained/upper {q:.2f} ({'met' if q >= TARGET_RATIO else 'missed'})")
    r0 = results[0]
    sizes = (f"{r0['n_train']} train / {r0['n_val']} validation / {r0['n_test']} test canvases of 64x64 per data "
             f"set ({r0['objects_per_canvas']:.2f} objects per test canvas)")
    timing = "; ".join(f"{r['dataset']}: " + ", ".join(f"{k} {v:.0f} s" for k, v in r["seconds"].items())
                       for r in results)
    return "\n\n".join([
        "## Localisation and segmentation from image-level labels (`benchmarks/vision_localization.py`): "
        + ", ".join(names),
        f"Command: `{command_line()}`. {sizes}; CAM classifier {epochs} epochs; CPU only. Settings fixed in the "
        f"script's docstring (nothing tuned on the test canvases). Wall time {wall:.0f} s ({timing}).",
        "Localisation, (test canvas, present class) cases: "
        + ", ".join(f"{r['dataset']} {r['localisation']['cases']}" for r in results)
        + ". Classifier mean AP on the test canvases: "
        + ", ".join(f"{r['dataset']} {r['localisation']['classifier_mean_ap']:.3f}" for r in results) + ".",
        loc,
        seg,
        f"Targets: CorLoc ≥ {TARGET_CORLOC}; self-trained mIoU ≥ {TARGET_RATIO:.0%} of the mask-supervised upper "
        f"bound. " + "; ".join(verdicts) + ".",
        machine_markdown(info),
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny sizes; BENCHMARKS.md untouched")
    parser.add_argument("--n-train", type=int, default=1000)
    parser.add_argument("--n-val", type=int, default=200)
    parser.add_argument("--n-test", type=int, default=300)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--budget", type=float, default=3600.0,
                        help="wall-clock seconds; a further data set is started only within 45 %% of it")
    parser.add_argument("--datasets", nargs="+", default=["mnist", "fashion_mnist"])
    parser.add_argument("--name", default="vision_localization",
                        help="BENCHMARKS.md section and results file (to run the data sets as separate processes)")
    add_tree_args(parser)
    args = parser.parse_args(argv)
    if not args.quick:
        check_tree(args.allow_dirty)
    import torch

    torch.set_num_threads(1)
    info, t0 = machine_info(), time.perf_counter()
    n_train, n_val, n_test, epochs = ((200, 50, 50, 2) if args.quick
                                      else (args.n_train, args.n_val, args.n_test, args.epochs))
    results = []
    for d in args.datasets:
        if results and time.perf_counter() - t0 > 0.45 * args.budget:
            print(f"skipping {d}: over 45 % of the {args.budget:.0f} s budget", file=sys.stderr)
            continue
        results.append(run_dataset(d, n_train, n_val, n_test, epochs, seed=0))
    skipped = [d for d in args.datasets if d not in {r["dataset"] for r in results}]
    body = markdown(results, info, time.perf_counter() - t0, epochs)
    if skipped:
        body += (f"\n\nNot run within the wall-clock budget ({args.budget:.0f} s, shared 2-core machine): "
                 f"{', '.join(skipped)}.")
    publish(args.name, {"machine": info, "command": command_line(), "results": results}, body,
            quick=args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
