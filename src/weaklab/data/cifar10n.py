"""Loader for the CIFAR-10N human labels (Wei et al., ICLR 2022), labels only."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from .._core.label_matrix import LabelMatrix
from .._core.validation import fail
from ._io import PathLike, file_in
from .dataset import WeakLabelDataset

__all__ = ["load_cifar10n", "CIFAR10_CLASSES"]

CIFAR10_CLASSES: tuple[str, ...] = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)
_ANNOTATORS = ("random_label1", "random_label2", "random_label3")
_KEYS = ("clean_label", "aggre_label", "worse_label", *_ANNOTATORS)


def load_cifar10n(path: PathLike) -> WeakLabelDataset:
    """Load CIFAR-10N: three human labels per training image, plus the clean label.

    Parameters
    ----------
    path : str or os.PathLike
        ``CIFAR-10_human.npz`` or the folder holding it. The file holds int
        arrays of 50,000: ``clean_label``, ``aggre_label``, ``worse_label``
        and ``random_label1..3``.

    Returns
    -------
    WeakLabelDataset
        ``L`` dense ``(50000, 3)`` with sources ``"random_label1"``..
        ``"random_label3"`` (the three separate annotations of each image)
        and the ten CIFAR-10 class names; ``gold`` the ``clean_label``;
        ``items`` has columns ``id`` (the training-image index),
        ``aggre_label`` (the published majority label) and ``worse_label``.

    Notes
    -----
    The release also has ``side_info_cifar10N.csv`` with three worker ids per
    batch of ten images. Which worker column belongs to which
    ``random_label`` array is not documented, so the annotators are kept as
    three anonymous slots rather than mapped to workers.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> from weaklab.data import load_cifar10n
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "CIFAR-10_human.npz"
    >>> labels = {name: np.array([3, 5, 3]) for name in ("clean_label", "aggre_label", "worse_label")}
    >>> np.savez(path, random_label1=np.array([3, 5, 1]), random_label2=np.array([3, 3, 3]),
    ...          random_label3=np.array([3, 5, 3]), **labels)
    >>> data = load_cifar10n(path)
    >>> data.L.shape, data.L.source_names, data.gold.tolist()
    ((3, 3), ('random_label1', 'random_label2', 'random_label3'), [3, 5, 3])
    """
    file = file_in(path, "CIFAR-10_human.npz")
    arrays = _read_npz(file)
    n = arrays["clean_label"].shape[0]
    votes = np.column_stack([arrays[k] for k in _ANNOTATORS])
    L = LabelMatrix(votes, n_classes=10, class_names=CIFAR10_CLASSES, source_names=_ANNOTATORS,
                    item_ids=np.arange(n, dtype=np.int64))
    items = pd.DataFrame({
        "id": np.arange(n, dtype=np.int64),
        "aggre_label": arrays["aggre_label"],
        "worse_label": arrays["worse_label"],
    })
    return WeakLabelDataset(name="cifar10n", split=None, items=items, L=L, gold=arrays["clean_label"])


def _read_npz(file: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(file, allow_pickle=False) as npz:
            names = list(npz.files)
            arrays = {k: np.asarray(npz[k]) for k in _KEYS if k in names}
    except (zipfile.BadZipFile, OSError) as exc:
        raise fail(str(file), "a readable .npz archive", got_text=str(exc)) from None
    except ValueError as exc:  # object arrays need pickle, which is refused
        raise fail(str(file), "numeric arrays (no pickled objects)", got_text=str(exc)) from None
    missing = [k for k in _KEYS if k not in arrays]
    if missing:
        raise fail(str(file), f"arrays {list(_KEYS)}", got_text=f"arrays {names} (missing {missing})")
    n = arrays["clean_label"].shape[0]
    for key, arr in arrays.items():
        if arr.ndim != 1 or arr.shape[0] != n or not np.issubdtype(arr.dtype, np.integer):
            raise fail(f"{file}[{key!r}]", f"a 1-d integer array of length {n}", arr)
        if arr.size and (arr.min() < 0 or arr.max() > 9):
            raise fail(f"{file}[{key!r}]", "class ids 0..9", got_text=f"values in [{arr.min()}, {arr.max()}]")
    return arrays
