"""Saving and restoring a fitted TorchClassifier as JSON plus arrays (no pickle)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._core.constants import STATE_SCHEMA_VERSION
from .._core.state import check_state, state_params, to_jsonable
from .._core.validation import fail
from ._torch import import_torch
from .correction import CorrectionLog
from .networks import CNNBuilder, MLPBuilder

__all__ = ["model_to_state", "model_from_state"]


def model_to_state(model: Any) -> dict[str, Any]:
    """State dict of a fitted :class:`~weaklab.endmodel.TorchClassifier`."""
    params = model.get_params(deep=False)
    params["module"] = _builder_spec(model.module)
    arrays: dict[str, np.ndarray] = {"classes_": np.asarray(np.asarray(model.classes_).tolist())}
    for i, net in enumerate(model.networks_):
        for name, value in net.state_dict().items():
            arrays[f"net{i}/{name}"] = value.detach().cpu().numpy()
    if hasattr(model, "transition_"):
        arrays["transition_"] = model.transition_
    attributes = {"input_shape_": list(model.input_shape_), "history_": model.history_}
    if hasattr(model, "correction_log_"):
        attributes["correction_log_"] = model.correction_log_.to_records()
    return {
        "schema_version": STATE_SCHEMA_VERSION,
        "class": type(model).__name__,
        "params": state_params(params),
        "attributes": to_jsonable(attributes),
        "arrays": arrays,
    }


def model_from_state(cls: Any, state: dict[str, Any], module: Any) -> Any:
    """Rebuild a fitted ``cls`` (a TorchClassifier class) from ``state``."""
    torch = import_torch("TorchClassifier")
    check_state(state, cls.__name__)
    params = dict(state["params"])
    spec = params.pop("module")
    if spec == "custom" and module is None:
        raise fail("module", "the network builder the model was fitted with", got_text="None")
    params["module"] = module if module is not None else _builder_from_spec(spec)
    model = cls(**params)
    arrays = state["arrays"]
    model.classes_ = np.asarray(arrays["classes_"])
    model.input_shape_ = tuple(int(v) for v in state["attributes"]["input_shape_"])
    if len(model.input_shape_) == 1:
        model.n_features_in_ = model.input_shape_[0]
    model.history_ = list(state["attributes"]["history_"])
    if "transition_" in arrays:
        model.transition_ = np.asarray(arrays["transition_"])
    if "correction_log_" in state["attributes"]:
        records = state["attributes"]["correction_log_"]
        model.correction_log_ = CorrectionLog(
            **{key: [r[key] for r in records] for key in ("round", "item", "old", "new", "confidence")}
        )
    n_nets = 1 + max(int(key.split("/")[0][3:]) for key in arrays if key.startswith("net"))
    networks = []
    for i in range(n_nets):
        net = model._build(model.input_shape_, len(model.classes_))
        prefix = f"net{i}/"
        weights = {
            k[len(prefix) :]: torch.from_numpy(np.asarray(v))
            for k, v in arrays.items()
            if k.startswith(prefix)
        }
        try:
            net.load_state_dict(weights)
        except RuntimeError as exc:  # missing keys or arrays of another shape than the network's
            raise fail("state", f"network weights that fit {cls.__name__}'s network (n_features_in_, classes_)",
                       got_text=str(exc).splitlines()[-1].strip()[:200] or "weights of other shapes") from None
        net.eval()
        networks.append(net)
    model.networks_ = networks
    return model


def _builder_spec(module: Any) -> Any:
    if module is None:
        return None
    if isinstance(module, MLPBuilder):
        return {"builder": "mlp", "hidden_sizes": list(module.hidden_sizes), "dropout": module.dropout}
    if isinstance(module, CNNBuilder):
        return {
            "builder": "cnn",
            "channels": list(module.channels),
            "hidden": module.hidden,
            "dropout": module.dropout,
            "pooling": module.pooling,
        }
    return "custom"


def _builder_from_spec(spec: Any) -> Any:
    if spec is None:
        return None
    if isinstance(spec, dict) and spec.get("builder") == "mlp":
        return MLPBuilder(tuple(spec["hidden_sizes"]), spec["dropout"])
    if isinstance(spec, dict) and spec.get("builder") == "cnn":
        return CNNBuilder(tuple(spec["channels"]), spec["hidden"], spec["dropout"], spec.get("pooling", "avg"))
    raise fail("state['params']['module']", "None or a make_mlp/make_cnn description", spec)
