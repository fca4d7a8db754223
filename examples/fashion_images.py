"""Weak labels for images with the public API: Fashion-MNIST, noisy captions, a seed set, a CNN end model.

1. 3,000 training images become image items (references into the original IDX file, decoded lazily);
2. captions are made from the class names with 30 % missing and 15 % wrong (the web-mining case);
3. image LFs vote: one keyword LF per class on the captions, and a small CNN trained on 100 gold seed
   images (10 per class) that votes only where it is >= 90 % sure;
4. Dawid-Skene turns the votes into soft labels; a small CNN (``TorchClassifier``) trains on them with
   co-teaching and is scored on 2,000 test images, next to the same CNN trained on the 100 seeds alone.

Needs the Fashion-MNIST IDX files under ``$WEAKLAB_DATA/fashion_mnist`` and ``pip install 'weaklab[vision]'``.
Takes a few minutes on one CPU core; ``--quick`` (800 images, fewer epochs, under a minute) is what the
test suite runs, with lower accuracies.

Run: WEAKLAB_DATA=../shared/data python examples/fashion_images.py [--quick]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from weaklab import DawidSkene, TorchClassifier, apply_lfs, keyword_lf, lf_summary, seed_lf
from weaklab.data import load_mnist
from weaklab.endmodel import make_cnn
from weaklab.features import CNNEmbedder, as_image_batch
from weaklab.synthetic import FASHION_MNIST_SYNONYMS, make_captions

FOLDER = Path(os.environ.get("WEAKLAB_DATA", "../shared/data")) / "fashion_mnist"


#: (training images, test images, seed-CNN epochs, weak-CNN epochs, seed-only CNN epochs)
FULL, QUICK = (3000, 2000, 40, 8, 30), (800, 500, 15, 8, 10)


def main(quick: bool = False) -> None:
    n_train, n_test, seed_epochs, weak_epochs, seed_only_epochs = QUICK if quick else FULL
    train, test = load_mnist(FOLDER, "train"), load_mnist(FOLDER, "test")
    rng = np.random.default_rng(0)
    rows = np.sort(rng.choice(len(train), n_train, replace=False))
    items = train.frame.iloc[rows].reset_index(drop=True)
    y = np.asarray(train.labels)[rows]  # kept only to measure; the LFs never see it
    items["caption"] = make_captions(y, FASHION_MNIST_SYNONYMS, missing_rate=0.3, wrong_rate=0.15,
                                     random_state=0).captions
    seed = np.concatenate([rng.choice(np.flatnonzero(y == c), 10, replace=False) for c in range(10)])
    seed_images = train.pixels(rows[seed])

    lfs = [keyword_lf(list(words), c, field="caption", name=f"caption_{c}")
           for c, words in enumerate(FASHION_MNIST_SYNONYMS)]
    lfs.append(seed_lf(seed_images, y[seed], estimator=CNNEmbedder(n_epochs=seed_epochs, batch_size=32, random_state=0),
                       threshold=0.9, name="seed_cnn"))
    L, _ = apply_lfs(lfs, items, progress=False)
    print(lf_summary(L, y).round(3).to_string())

    soft = DawidSkene(random_state=0).fit(L).predict_proba(L)
    covered = (L.to_dense() >= 0).any(axis=1)
    print(f"label model: {np.mean(soft[covered].argmax(1) == y[covered]):.3f} accuracy on "
          f"{covered.mean():.1%} covered items")

    X = as_image_batch(train.pixels(rows))
    X_test, y_test = as_image_batch(test.pixels(np.arange(n_test))), np.asarray(test.labels)[:n_test]
    cnn = dict(module=make_cnn((16, 32), hidden=128, pooling="flatten"), batch_size=128, random_state=0)
    weak = TorchClassifier(n_epochs=weak_epochs, co_teaching=True, forget_rate=0.2,
                           forget_epochs=max(1, weak_epochs // 2), **cnn)
    weak.fit(X[covered], soft[covered])
    seeds_only = TorchClassifier(n_epochs=seed_only_epochs, **cnn).fit(X[seed], y[seed])
    print(f"CNN on weak labels (co-teaching): {np.mean(weak.predict(X_test) == y_test):.3f} test accuracy")
    print(f"CNN on the 100 seed images only:  {np.mean(seeds_only.predict(X_test) == y_test):.3f} test accuracy")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="600 images and fewer epochs (under a minute)")
    main(parser.parse_args().quick)
