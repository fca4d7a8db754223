"""The abstract label-model bases cannot be built, and the pipeline refuses them by name."""

from __future__ import annotations

import pytest

from weaklab.errors import ValidationError
from weaklab.models import MACE, ConfusionLabelModel, LabelModel


@pytest.mark.parametrize("cls", [LabelModel, ConfusionLabelModel])
def test_abstract_bases_cannot_be_built(cls):
    """The bases declare _fit (and LabelModel _predict_proba) abstract: building one fails at once."""
    with pytest.raises(TypeError, match="abstract"):
        cls()


def test_pipeline_refuses_an_abstract_model_name():
    """label_model.name = "ConfusionLabelModel" fails validation (it used to fail at fit with NotImplementedError)."""
    from weaklab.pipeline.training import label_model_class

    assert label_model_class("MACE") is MACE
    with pytest.raises(ValidationError, match=r"label_model\.name"):
        label_model_class("ConfusionLabelModel")
