"""The image end model of a project (``[end_model] name = "cnn"``) and the class activation maps it leaves.

In an image project (``[data].image_column``) the ``train`` step can train a
small global-average-pooling CNN (:class:`~weaklab.vision.CAMClassifier`) on
the label model's soft labels, on CPU, from the pictures themselves. Besides
its probabilities, metrics and calibration (recorded like any end model), the
step stores every item's class activation map of the class the CNN predicts.

Design: the maps are computed once, at train time, and kept beside the store,
not the network. ``<store folder>/cams/<digest>.npy`` holds a float16
``(n_items, h, w)`` array in the dataset's row order (``h, w`` = the CNN's
last feature map, e.g. 7 x 7 for 28-pixel inputs), each map scaled to
``[0, 1]``; the file is named by the BLAKE2b digest of its bytes, written
atomically, and the end-model record names it in ``metrics["cam"]`` with that
digest, its shape and the class it shows. So the dashboard and the report read
maps from the store's folder without torch and without running a model (no
pickled network, nothing executed on a page view), a rerun with unchanged
inputs reuses the recorded file, and an overlay is cached by the picture's
content and the maps' digest (:class:`~weaklab.pipeline.images.CamLookup`).

The network's weights are recorded too, as the end model's state (its
tensors as arrays in the store's Parquet, never pickled:
:meth:`~weaklab.vision.CAMClassifier.to_state`), so ``weaklab predict``
labels new pictures with it (:class:`ImageEndModel`); only ``predict``
loads them, never a page.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._core import SoftLabels, fingerprint
from .._core.validation import fail
from ..data import read_images
from ..errors import ValidationError
from ..store import Store
from ..vision import CAMClassifier
from .config import ProjectConfig
from .reuse import find_previous_run, recorded_end_model
from .training import EndModelResult, calibration, dev_metrics

__all__ = ["CAM_FOLDER", "IMAGE_MODEL_DEFAULTS", "IMAGE_STATE_VERSION", "ImageEndModel", "cam_maps", "file_digest",
           "image_inputs", "image_model_params", "load_cam_map", "save_cam_maps", "train_image_model",
           "trained_image_model"]

#: Parameters of the cnn end model when weaklab.toml leaves them out (small and CPU-fast).
IMAGE_MODEL_DEFAULTS: dict[str, Any] = {"size": 28, "widths": [16, 32, 64], "n_pool": 2, "max_epochs": 10,
                                        "batch_size": 32, "lr": 2e-3, "weight_decay": 0.0}
#: Folder beside the store's DuckDB file that holds the recorded class activation maps.
CAM_FOLDER = "cams"
#: Version of the image end model's state layout (:class:`ImageEndModel`).
IMAGE_STATE_VERSION = 1
#: The keys an image end-model state holds besides ``class`` and ``version``.
_IMAGE_STATE_KEYS = ("size", "n_classes", "network", "arrays")


def image_model_params(params: dict[str, Any]) -> dict[str, Any]:
    """``params`` completed with :data:`IMAGE_MODEL_DEFAULTS`; unknown keys are an error naming them.

    Examples
    --------
    >>> image_model_params({"max_epochs": 3})["max_epochs"], image_model_params({})["size"]
    (3, 28)
    """
    unknown = set(params) - set(IMAGE_MODEL_DEFAULTS)
    if unknown:
        raise fail("end_model.params", f"keys among {', '.join(IMAGE_MODEL_DEFAULTS)} for the cnn end model",
                   got_text=str(sorted(unknown)))
    full = {**IMAGE_MODEL_DEFAULTS, **params}
    size = full["size"]
    if isinstance(size, bool) or not isinstance(size, int) or not 8 <= size <= 256:
        raise fail("end_model.params.size", "an int in 8..256 (pictures are resized to size x size)", size)
    return full


def image_inputs(refs: pd.Series, *, root: Path, size: int) -> np.ndarray:
    """The pictures named by ``refs`` as float32 ``(n, 1, size, size)`` grey images in ``[0, 1]``.

    A missing reference is a ValidationError naming its row: the CNN reads
    every item's picture.
    """
    empty = refs.isna() | (refs.astype(str).str.strip() == "")
    if empty.any():
        raise ValidationError(f"data.image_column {refs.name!r}: expected a picture on every row for the cnn end "
                              f"model, got none on row {int(np.flatnonzero(empty.to_numpy())[0])}")
    pixels = read_images(refs.astype(str).tolist(), size=(size, size), mode="L", root=root)
    return (pixels.astype(np.float32) / 255.0)[:, None]


def train_image_model(images: np.ndarray, soft: np.ndarray, train: np.ndarray, gold: np.ndarray,
                      params: dict[str, Any], *, random_state: int = 0) -> tuple[EndModelResult, np.ndarray]:
    """A GAP CNN trained on the soft labels of the ``train`` items, measured on the dev gold; and its maps.

    Parameters
    ----------
    images : ndarray of shape (n, 1, s, s)
        Every item's picture (:func:`image_inputs`).
    soft : ndarray of shape (n, k)
        Soft labels of every item.
    train : ndarray of bool, shape (n,)
        Items to train on.
    gold : ndarray of shape (n,)
        Gold class ids on the dev items, -1 elsewhere.
    params : dict
        Completed by :func:`image_model_params`.
    random_state : int, default=0

    Returns
    -------
    (EndModelResult, ndarray)
        The result (``features`` = the CNN's pooled embeddings) and every item's map of its predicted
        class (:func:`cam_maps`).
    """
    if train.sum() < 2:
        raise fail("train", "at least two items with a vote outside the dev set to train on",
                   got_text=f"{int(train.sum())} item(s)")
    model = CAMClassifier(tuple(int(w) for w in params["widths"]), int(params["n_pool"]),
                          lr=float(params["lr"]), weight_decay=float(params["weight_decay"]),
                          max_epochs=int(params["max_epochs"]), batch_size=int(params["batch_size"]),
                          random_state=random_state)
    model.fit(images[train], soft[train], soft=True)
    proba = model.predict_proba(images)
    result = EndModelResult(proba=proba, params=params, features=model.transform(images),
                            state=_image_state(model, int(params["size"])))
    result.metrics = {**dev_metrics(proba, gold, np.ones(len(gold), dtype=bool)), "n_train": int(train.sum())}
    result.metrics.pop("coverage_dev", None)
    result.metrics.pop("accuracy_covered", None)
    result.calibration = calibration(proba, gold, random_state=random_state)
    maps = model.class_activation_maps(images, upsample=False)
    return result, cam_maps(maps, np.argmax(proba, axis=1))


def _image_state(model: CAMClassifier, size: int) -> dict[str, Any]:
    """The end-model state of a fitted CNN: the pictures' size, the network's state, its tensors as arrays."""
    network = model.to_state()
    return {"class": "cnn", "version": IMAGE_STATE_VERSION, "size": int(size), "n_classes": int(model.n_classes_),
            "network": {k: v for k, v in network.items() if k != "arrays"}, "arrays": dict(network["arrays"])}


class ImageEndModel:
    """A recorded image end model (the project's cnn), rebuilt from its state to label new pictures.

    Parameters
    ----------
    state : dict
        The recorded state (``class`` ``"cnn"``, the picture ``size``, the
        network's parameters and its tensors among ``arrays``); a
        calibrator's arrays may sit beside them.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> images = rng.random((6, 1, 12, 12)).astype(np.float32)
    >>> result, _ = train_image_model(images, np.eye(2)[[0, 1] * 3], np.ones(6, dtype=bool), np.full(6, -1),
    ...                               image_model_params({"size": 12, "widths": [4, 8], "max_epochs": 1}))
    >>> model = ImageEndModel.from_state(result.state)
    >>> bool(np.allclose(model.predict_proba(images, None), result.proba))
    True
    """

    reads_votes = False  # the CNN reads the pictures only

    def __init__(self, state: dict[str, Any], network: CAMClassifier) -> None:
        self.state, self.network = state, network

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> ImageEndModel:
        """Check and rebuild a recorded state (a ValidationError names another model's or another version's)."""
        if state.get("class") != "cnn" or state.get("version") != IMAGE_STATE_VERSION:
            raise fail("state", f"an image end-model state of version {IMAGE_STATE_VERSION}",
                       got_text=f"{state.get('class')!r} version {state.get('version')!r}")
        missing = [key for key in _IMAGE_STATE_KEYS if key not in state]
        if missing:
            raise fail("state", f"an image end-model state with {list(_IMAGE_STATE_KEYS)}", got_text=f"no {missing}")
        network = dict(state["network"])
        network["arrays"] = dict(state["arrays"])
        return cls(dict(state), CAMClassifier.from_state(network))

    @property
    def size(self) -> int:
        """The side the pictures are resized to (``end_model.params.size`` at training)."""
        return int(self.state["size"])

    def predict_proba(self, images: np.ndarray, votes: Any = None) -> np.ndarray:
        """Class probabilities of ``images`` (:func:`image_inputs`), ``(n, n_classes)``; ``votes`` is not read."""
        return self.network.predict_proba(images)


def cam_maps(maps: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Each item's map of one class, scaled to ``[0, 1]`` by its own minimum and maximum (float16).

    Min-max scaling (as CAM figures are drawn) rather than cutting negative parts: a small CNN's map of
    the class it predicts can be negative everywhere (its bias decides), and would then show nothing.

    Parameters
    ----------
    maps : ndarray of shape (n, k, h, w)
        Class activation maps of every class.
    classes : ndarray of shape (n,)
        The class whose map to keep per item.

    Returns
    -------
    ndarray of float16, shape (n, h, w)
        A constant map becomes all zeros.

    Examples
    --------
    >>> m = np.zeros((1, 2, 2, 2)); m[0, 1] = [[-1, 1], [2, 4]]
    >>> cam_maps(m, np.array([1])).tolist()
    [[[0.0, 0.39990234375], [0.60009765625, 1.0]]]
    """
    chosen = np.asarray(maps, dtype=np.float64)[np.arange(len(maps)), np.asarray(classes, dtype=np.int64)]
    flat = chosen.reshape(len(chosen), -1)
    low = flat.min(axis=1) if flat.size else np.zeros(0)
    span = (flat.max(axis=1) - low) if flat.size else np.zeros(0)
    scaled = (chosen - low[:, None, None]) / np.where(span > 0, span, 1.0)[:, None, None]
    return scaled.astype(np.float16)


def save_cam_maps(store_dir: Path, maps: np.ndarray, classes: str = "predicted") -> dict[str, Any]:
    """Write the maps to ``store_dir/cams/<digest>.npy`` (atomically) and return the reference to record.

    Returns
    -------
    dict
        ``file`` (relative to ``store_dir``), ``digest`` (BLAKE2b-128 of the file's bytes), ``shape``,
        ``dtype`` and ``classes`` (whose map each row holds).
    """
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(maps), allow_pickle=False)
    data = buffer.getvalue()
    digest = hashlib.blake2b(data, digest_size=16).hexdigest()
    folder = Path(store_dir) / CAM_FOLDER
    target = folder / f"{digest}.npy"
    if not target.exists():
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    return {"file": f"{CAM_FOLDER}/{digest}.npy", "digest": digest, "shape": list(maps.shape),
            "dtype": str(maps.dtype), "classes": classes}


def load_cam_map(store_dir: Path, ref: dict[str, Any], row: int) -> np.ndarray:
    """One item's map (float32 ``(h, w)``) from the file a recorded reference names.

    The file is memory-mapped (only the item's map is read); a missing file, or one whose shape is not
    the recorded one, is a ValidationError saying so.
    """
    path = Path(store_dir) / str(ref.get("file", ""))
    try:
        maps = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ValidationError(f"cam: the recorded class activation maps {path} cannot be read ({exc}); "
                              "run `weaklab train` again") from None
    if list(maps.shape) != list(ref.get("shape", [])):
        raise ValidationError(f"cam: expected maps of shape {ref.get('shape')} in {path}, got {list(maps.shape)}")
    if not 0 <= row < maps.shape[0]:
        raise ValidationError(f"row: expected a row below {maps.shape[0]}, got {row}")
    return np.asarray(maps[row], dtype=np.float32)


def file_digest(path: Path) -> str:
    """BLAKE2b-128 hex digest of a file's bytes (how a recorded map file is checked)."""
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def trained_image_model(store: Store, dataset_id: int, config: ProjectConfig, frame: pd.DataFrame,
                        soft: SoftLabels, train: np.ndarray, gold: np.ndarray, item_hashes: np.ndarray, *,
                        random_state: int) -> tuple[EndModelResult, str, int | None]:
    """The project's cnn end model: reused from the run that recorded the same key, else trained now.

    The key covers the parameters, every item's picture content (``item_hashes``), the soft labels,
    the training items, the dev gold and the seed. A reused model needs its recorded maps file intact
    (same digest); its features (for the issue judge) are computed again only when asked for.

    Returns
    -------
    (EndModelResult, str, int or None)
        The result (``metrics["cam"]`` names the maps file), the key, and the run it was reused from.
    """
    column = config.get("data", "image_column")
    if column is None:
        raise ValidationError(f"{config.file}: end_model.name: expected [data].image_column for the cnn end model "
                              "(it reads each item's picture), got no image column")
    params = image_model_params(dict(config.get("end_model", "params", {})))
    key = fingerprint("end_model", "cnn", params, np.asarray(item_hashes), soft.fingerprint,
                      np.asarray(train, dtype=bool), np.asarray(gold), int(random_state))
    store_dir = Path(store.path).parent

    def fit() -> tuple[EndModelResult, np.ndarray]:
        images = image_inputs(frame[column], root=config.data_path.parent, size=int(params["size"]))
        return train_image_model(images, soft.proba, train, gold, params, random_state=random_state)

    found = find_previous_run(store, dataset_id, "end_model_key", key)
    if found is not None:
        reused = recorded_end_model(store, found[0], lambda: fit()[0].features)
        if reused is not None and reused.proba.shape == soft.proba.shape and _maps_intact(store_dir, reused) \
                and reused.state is not None:  # a model recorded before its weights were kept is trained again
            return reused, key, found[0]
    fitted, maps = fit()
    fitted.metrics["cam"] = save_cam_maps(store_dir, maps)
    return fitted, key, None


def _maps_intact(store_dir: Path, result: EndModelResult) -> bool:
    ref = result.metrics.get("cam")
    if not isinstance(ref, dict):
        return False
    path = store_dir / str(ref.get("file", ""))
    return path.is_file() and file_digest(path) == ref.get("digest")
