"""The threshold template: ``threshold_lf`` votes when a numeric column lies beyond a threshold."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..._core.validation import check_float, fail
from .._batch import Batch, FieldError
from ..lf import LabelingFunction
from ._base import TemplateLF, check_field, check_label, check_name, slug, votes_where

__all__ = ["threshold_lf"]


class _ThresholdLF(TemplateLF):
    _thread_safe = True

    def _compute(self, batch: Batch) -> np.ndarray:
        field = self.params["field"]
        values = _numeric(batch.frame[field], field, self.name)
        above, below = self.params["above"], self.params["below"]
        hits = ~np.isnan(values)
        with np.errstate(invalid="ignore"):
            if above is not None:
                hits &= values > above
            if below is not None:
                hits &= values < below
        return votes_where(hits, self._label_id(batch))


def threshold_lf(
    field: str,
    *,
    above: float | None = None,
    below: float | None = None,
    label: int | str,
    name: str | None = None,
) -> LabelingFunction:
    """Vote ``label`` when a numeric column lies beyond a threshold (exclusive).

    Parameters
    ----------
    field : str
        Numeric column; missing values (NaN, None, NA) abstain.
    above : float, optional
        Vote when ``value > above`` (strictly).
    below : float, optional
        Vote when ``value < below`` (strictly). With both, vote when
        ``above < value < below`` (requires ``above < below``).
    label : int or str
        Class to vote: an id, or a class name looked up in the class list
        when the LF is applied.
    name : str, optional
        Defaults to ``"threshold_<field>_..."``.

    Examples
    --------
    >>> import pandas as pd
    >>> from weaklab import apply_lfs, threshold_lf
    >>> short = threshold_lf("n_words", below=4, label=0, name="short_comment")
    >>> data = pd.DataFrame({"n_words": [2, 12, None]})
    >>> apply_lfs([short], data, progress=False)[0].to_dense().ravel().tolist()
    [0, -1, -1]
    """
    field = check_field(field)
    if above is None and below is None:
        raise fail("above/below", "at least one threshold", None)
    above = None if above is None else check_float("above", above)
    below = None if below is None else check_float("below", below)
    if above is not None and below is not None and not above < below:
        raise fail("above", f"a value below below={below:g} (the band is above < value < below)", above)
    label = check_label(label)
    parts = [f"above_{above:g}" if above is not None else "", f"below_{below:g}" if below is not None else ""]
    default = slug(f"threshold_{field}_" + "_".join(p for p in parts if p), 60)
    params = {"field": field, "above": above, "below": below, "label": label}
    return _ThresholdLF(check_name(name, default), "threshold_lf", params, (field,))


def _numeric(series: pd.Series, field: str, lf_name: str) -> np.ndarray:
    kind = pd.api.types.infer_dtype(series, skipna=True)
    numeric = pd.api.types.is_numeric_dtype(series.dtype) or kind in (
        "integer", "floating", "mixed-integer-float", "decimal", "boolean", "empty",
    )
    if not numeric or pd.api.types.is_complex_dtype(series.dtype):
        raise FieldError(
            f"labeling function {lf_name!r}: column {field!r}: expected numbers or missing values, "
            f"got values of kind {kind!r} (dtype {series.dtype})"
        )
    return series.to_numpy(dtype=np.float64, na_value=np.nan)
