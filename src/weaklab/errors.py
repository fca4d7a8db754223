"""The weaklab exception hierarchy.

Every error weaklab raises on purpose derives from :class:`WeaklabError`, so a
caller can catch all of them at once. Errors about bad input also derive from
the matching builtin (``ValueError``) so generic code keeps working.
"""

from __future__ import annotations

__all__ = [
    "WeaklabError",
    "ValidationError",
    "NotFittedError",
    "LFExecutionError",
    "StoreError",
    "SchemaVersionError",
    "MissingDependencyError",
    "ConvergenceWarning",
    "missing_dependency",
]


class WeaklabError(Exception):
    """Base class of every error raised by weaklab.

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab import MajorityVote, WeaklabError
    >>> try:
    ...     MajorityVote().fit(np.array([[0, 5]]), n_classes=2)
    ... except WeaklabError as exc:
    ...     print(type(exc).__name__)
    ValidationError
    """


class ValidationError(WeaklabError, ValueError):
    """An argument or input has the wrong type, shape, range or content.

    The message names the parameter, what was expected and what arrived.

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab import MajorityVote, ValidationError
    >>> try:
    ...     MajorityVote().fit(np.array([[0, 5]]), n_classes=2)
    ... except ValidationError as exc:
    ...     print(exc)
    L: expected votes in [-1, 2) (-1 = abstain, n_classes=2), got a vote of 5
    >>> issubclass(ValidationError, ValueError)
    True
    """


class NotFittedError(WeaklabError, ValueError, AttributeError):
    """A fitted attribute or method was used before ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from weaklab import DawidSkene, NotFittedError
    >>> try:
    ...     DawidSkene().predict_proba(np.array([[0, 1]]))
    ... except NotFittedError as exc:
    ...     print(exc)
    This DawidSkene is not fitted yet; call fit(L) before using it.
    """


class LFExecutionError(WeaklabError, RuntimeError):
    """A labeling function raised, or returned something that is not a vote.

    Parameters
    ----------
    message : str
        Human-readable description.
    lf_name : str
        Name of the labeling function.
    item_id : object, optional
        Id of the item being labelled when the failure happened (``None`` for
        failures of a whole vectorized batch).
    row : int, optional
        Positional row index of that item.
    original : BaseException, optional
        The exception the labeling function raised.
    partition : int, optional
        On the Dask engine, the partition whose task failed (``row`` is then a
        row of the whole data, as on the local engine).

    Examples
    --------
    >>> import pandas as pd
    >>> from weaklab import LabelingFunction, LFExecutionError, apply_lfs
    >>> def needs_text(row):
    ...     return 1 if "free" in row["text"] else -1
    >>> try:
    ...     apply_lfs([LabelingFunction("needs_text", needs_text)], pd.DataFrame({"body": ["free!", "hi"]}))
    ... except LFExecutionError as exc:
    ...     print(exc.lf_name, exc.row, type(exc.original).__name__)
    needs_text 0 KeyError
    """

    def __init__(
        self,
        message: str,
        *,
        lf_name: str,
        item_id: object = None,
        row: int | None = None,
        original: BaseException | None = None,
        partition: int | None = None,
    ) -> None:
        super().__init__(message)
        self.lf_name = lf_name
        self.item_id = item_id
        self.row = row
        self.original = original
        self.partition = partition

    def __reduce__(self):  # keeps the error intact across process pools
        return (
            _rebuild_lf_error,
            (str(self), self.lf_name, self.item_id, self.row, self.original, self.partition),
        )


def _rebuild_lf_error(
    message: str,
    lf_name: str,
    item_id: object,
    row: int | None,
    original: BaseException | None,
    partition: int | None = None,
) -> LFExecutionError:
    return LFExecutionError(
        message, lf_name=lf_name, item_id=item_id, row=row, original=original, partition=partition
    )


class StoreError(WeaklabError):
    """The lineage store cannot be opened, read or written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from weaklab import Store, StoreError
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "notes.duckdb"
    >>> _ = path.write_text("not a database")
    >>> try:
    ...     Store(path)
    ... except StoreError as exc:
    ...     print(str(exc).split(": ", 1)[1])
    the file is not a DuckDB database (not a weaklab store)
    """


class SchemaVersionError(StoreError):
    """The store file has a schema version this weaklab cannot use.

    Raised when a store written by a newer weaklab is opened by an older
    one; a store of an older schema is migrated in place instead.

    Examples
    --------
    >>> from weaklab import SchemaVersionError, StoreError
    >>> issubclass(SchemaVersionError, StoreError)
    True
    """


class MissingDependencyError(WeaklabError, ImportError):
    """An optional dependency (an *extra*) is not installed.

    Examples
    --------
    >>> from weaklab import MissingDependencyError
    >>> issubclass(MissingDependencyError, ImportError)  # ``except ImportError`` still catches it
    True
    """


class ConvergenceWarning(RuntimeWarning):
    """An iterative fit stopped at its iteration limit (``max_iter``) before meeting its tolerance.

    A ``RuntimeWarning``, so filters written for the warning weaklab emitted
    before it had its own class keep working.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from weaklab import DawidSkene
    >>> from weaklab.errors import ConvergenceWarning
    >>> L = np.array([[0, 1, 0], [1, 1, 0], [0, 0, 1], [1, 0, 1]])
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = DawidSkene(max_iter=1).fit(L, n_classes=2)
    >>> [w.category.__name__ for w in caught]
    ['ConvergenceWarning']
    """


def missing_dependency(package: str, extra: str, feature: str) -> MissingDependencyError:
    """Build the error for a missing optional dependency with an install hint.

    Parameters
    ----------
    package : str
        Import name of the missing package.
    extra : str
        weaklab extra that installs it.
    feature : str
        What the user tried to use.

    Returns
    -------
    MissingDependencyError
        Raise it; its message says which extra to install.

    Examples
    --------
    >>> from weaklab.errors import missing_dependency
    >>> print(missing_dependency("torch", "torch", "TorchClassifier"))  # doctest: +NORMALIZE_WHITESPACE
    TorchClassifier needs the optional package 'torch', which is not installed.
    Install it with: pip install 'weaklab[torch]'
    """
    return MissingDependencyError(
        f"{feature} needs the optional package {package!r}, which is not installed. "
        f"Install it with: pip install 'weaklab[{extra}]'"
    )
