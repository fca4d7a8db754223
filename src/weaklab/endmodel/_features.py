"""Feature and loss-parameter checks of :class:`~weaklab.endmodel.TorchClassifier`."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from .._core.validation import check_float, check_int, describe, fail

__all__ = ["as_features", "check_loss_params"]

# Allowed loss_params per loss: name -> (low, high, high_open) for real-valued parameters.
_LOSS_PARAMS: dict[str, dict[str, tuple[float | None, float | None, bool]]] = {
    "ce": {},
    "label_smoothing": {"smoothing": (0.0, 1.0, False)},
    "gce": {"q": (0.0, 1.0, False)},
    "sce": {"alpha": (0.0, None, False), "beta": (0.0, None, False), "log_zero": (None, 0.0, True)},
    "bootstrap_soft": {"beta": (0.0, 1.0, False)},
    "bootstrap_hard": {"beta": (0.0, 1.0, False)},
    "elr": {"lam": (0.0, None, False), "beta": (0.0, 1.0, True)},
    "forward": {"quantile": (0.0, 1.0, False)},
}


def check_loss_params(name: str, loss: str, params: Any) -> dict[str, Any]:
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise fail(name, "a dict of loss parameters or None", params)
    allowed = _LOSS_PARAMS[loss]
    extra = {"transition", "folds"} if loss == "forward" else set()
    unknown = sorted(set(params) - set(allowed) - extra)
    if unknown:
        names = ", ".join(sorted(set(allowed) | extra)) or "none"
        raise fail(name, f"parameters of loss {loss!r} ({names})", got_text=f"unknown key(s) {unknown}")
    out: dict[str, Any] = {}
    for key, (low, high, high_open) in allowed.items():
        if key in params:
            out[key] = check_float(f"{name}[{key!r}]", params[key], low=low, high=high, high_open=high_open)
    if "folds" in params:
        check_int(f"{name}['folds']", params["folds"], low=2)
    return out


def as_features(X: Any, name: str) -> Any:
    """``X`` as a CSR float32 matrix or a float32 array of >= 2 dimensions, all finite."""
    if sp.issparse(X):
        out = sp.csr_matrix(X, dtype=np.float32)
        values = out.data
    else:
        if hasattr(X, "to_numpy"):
            X = X.to_numpy()
        raw = np.asarray(X) if not isinstance(X, np.ndarray) else X
        if raw.dtype.kind in "cUSV":
            raise fail(
                name,
                "real-valued numeric features",
                got_text=f"{describe(raw)} (Complex data not supported)"
                if raw.dtype.kind == "c"
                else describe(raw),
            )
        try:
            out = np.asarray(raw, dtype=np.float32)
        except (TypeError, ValueError) as exc:
            raise fail(
                name,
                "numeric features (a numpy array or scipy sparse matrix)",
                got_text=f"{describe(raw)} ({exc})",
            ) from None
        values = out
    if out.ndim < 2:
        raise fail(
            name,
            "a 2-d array of shape (n_items, n_features) or images (n_items, ...)",
            got_text=f"{describe(out)}; Reshape your data with X.reshape(-1, 1) for one feature "
            "or X.reshape(1, -1) for one item",
        )
    if out.shape[0] == 0 or int(np.prod(out.shape[1:])) == 0:
        raise fail(
            name,
            "at least one item and one feature",
            got_text=f"{out.shape[0]} sample(s), {int(np.prod(out.shape[1:]))} feature(s) "
            f"(shape={out.shape}) while a minimum of 1 is required.",
        )
    if not np.all(np.isfinite(values)):
        raise fail(
            name, "finite feature values", got_text=f"{int((~np.isfinite(values)).sum())} NaN or infinite"
        )
    return out
