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
    """Base class of every error raised by weaklab."""


class ValidationError(WeaklabError, ValueError):
    """An argument or input has the wrong type, shape, range or content.

    The message names the parameter, what was expected and what arrived.
    """


class NotFittedError(WeaklabError, ValueError, AttributeError):
    """A fitted attribute or method was used before ``fit``."""


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
    """

    def __init__(
        self,
        message: str,
        *,
        lf_name: str,
        item_id: object = None,
        row: int | None = None,
        original: BaseException | None = None,
    ) -> None:
        super().__init__(message)
        self.lf_name = lf_name
        self.item_id = item_id
        self.row = row
        self.original = original

    def __reduce__(self):  # keeps the error intact across process pools
        return (
            _rebuild_lf_error,
            (str(self), self.lf_name, self.item_id, self.row, self.original),
        )


def _rebuild_lf_error(
    message: str,
    lf_name: str,
    item_id: object,
    row: int | None,
    original: BaseException | None,
) -> LFExecutionError:
    return LFExecutionError(
        message, lf_name=lf_name, item_id=item_id, row=row, original=original
    )


class StoreError(WeaklabError):
    """The lineage store cannot be opened, read or written."""


class SchemaVersionError(StoreError):
    """The store file has a schema version this weaklab cannot use."""


class MissingDependencyError(WeaklabError, ImportError):
    """An optional dependency (an *extra*) is not installed."""


class ConvergenceWarning(RuntimeWarning):
    """An iterative fit stopped at its iteration limit (``max_iter``) before meeting its tolerance.

    A ``RuntimeWarning``, so filters written for the warning weaklab emitted
    before it had its own class keep working.
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
    """
    return MissingDependencyError(
        f"{feature} needs the optional package {package!r}, which is not installed. "
        f"Install it with: pip install 'weaklab[{extra}]'"
    )
