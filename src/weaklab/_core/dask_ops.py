"""Map-reduce over the partitions of a dataset on the current Dask scheduler.

Every partial result is combined pairwise-in-order by a tree of
``dask.delayed`` tasks (``split_every`` partials per task), so the client only
ever receives the final, reduced value. The computation runs on the active
``distributed.Client`` when there is one, else on Dask's default scheduler.
Dask is imported on first use (``pip install 'weaklab[dask]'``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from ..errors import missing_dependency
from .validation import check_int

__all__ = ["import_dask", "tree_reduce", "map_reduce", "map_partitions", "load_partitions", "keep_on_workers",
           "reduce_loaded", "share"]

T = TypeVar("T")


def import_dask(feature: str = "engine='dask'") -> Any:
    """The ``dask`` module, or the missing-dependency error naming ``feature``."""
    try:
        import dask
    except ImportError:
        raise missing_dependency("dask", "dask", feature) from None
    return dask


def tree_reduce(parts: Sequence[Any], combine: Callable[[T, T], T], *, split_every: int = 8) -> Any:
    """A delayed value combining delayed ``parts`` left to right by a tree of tasks.

    ``combine`` must be associative; the order of the parts is kept (the
    result equals ``functools.reduce(combine, parts)`` up to float rounding).

    Examples
    --------
    >>> import dask
    >>> parts = [dask.delayed(x) for x in range(10)]
    >>> tree_reduce(parts, lambda a, b: a + b, split_every=3).compute()
    45
    """
    dask = import_dask()
    split_every = check_int("split_every", split_every, low=2)
    if not parts:
        raise ValueError("tree_reduce needs at least one part")
    level = list(parts)
    while len(level) > 1:
        level = [dask.delayed(_combine_all)(combine, *level[a:a + split_every])
                 for a in range(0, len(level), split_every)]
    return level[0]


def _combine_all(combine: Callable[[T, T], T], *parts: T) -> T:
    return functools.reduce(combine, parts)


def map_reduce(n_parts: int, func: Callable[[int], T], combine: Callable[[T, T], T], *,
               split_every: int = 8) -> T:
    """``combine`` of ``func(i)`` over partitions ``i = 0 .. n_parts - 1``, computed by Dask.

    Parameters
    ----------
    n_parts : int
        Number of partitions (at least 1).
    func : callable
        ``func(i)`` -> the partial result of partition ``i`` (runs on a worker).
    combine : callable
        Associative ``combine(a, b)`` of two partial results (runs on workers).
    split_every : int, default=8
        Partials combined by one task of the tree.

    Returns
    -------
    object
        The reduced value (the only thing sent to the client).

    Examples
    --------
    >>> map_reduce(4, lambda i: i * i, lambda a, b: a + b)
    14
    """
    dask = import_dask()
    parts = [dask.delayed(func)(i) for i in range(n_parts)]
    (result,) = dask.compute(tree_reduce(parts, combine, split_every=split_every))
    return result


def map_partitions(n_parts: int, func: Callable[[int], T]) -> list[T]:
    """``[func(i) for i in range(n_parts)]`` run as Dask tasks; each result should be small.

    Examples
    --------
    >>> map_partitions(3, lambda i: i + 1)
    [1, 2, 3]
    """
    dask = import_dask()
    return list(dask.compute(*[dask.delayed(func)(i) for i in range(n_parts)]))


def load_partitions(n_parts: int, load: Callable[[int], Any]) -> list[Any]:
    """Delayed ``load(i)`` of every partition, kept in the workers' memory when a distributed Client is active.

    An iterative algorithm (distributed EM) then reads each partition once
    rather than once per iteration; a lost worker's partitions are loaded
    again by the scheduler. Without a distributed Client the loads stay lazy
    (each use reads again), so nothing accumulates in the client process.

    Examples
    --------
    >>> parts = load_partitions(3, lambda i: [i] * 2)
    >>> reduce_loaded(parts, len, lambda a, b: a + b)
    6
    """
    dask = import_dask()
    return keep_on_workers([dask.delayed(load)(i) for i in range(n_parts)])


def keep_on_workers(parts: Sequence[Any]) -> list[Any]:
    """``parts`` (delayed values, or plain ones) computed once and kept in the workers' memory when a distributed
    Client is active, so every later ``compute`` that reads them reads the kept results instead of computing them
    again; without one they stay as they are (lazy: nothing accumulates in the client process).

    Examples
    --------
    >>> import dask
    >>> parts = keep_on_workers([dask.delayed(sum)([1, 2]), 3])
    >>> dask.compute(*parts)
    (3, 3)
    """
    dask = import_dask()
    parts = list(parts)
    client = _distributed_client()
    lazy = [i for i, part in enumerate(parts) if dask.is_dask_collection(part)]
    if client is None or not lazy:
        return parts
    for i, kept in zip(lazy, client.persist([parts[i] for i in lazy])):
        parts[i] = kept
    return parts


def reduce_loaded(parts: Sequence[Any], func: Callable[[Any], T], combine: Callable[[T, T], T], *,
                  split_every: int = 8) -> T:
    """``combine`` of ``func(part)`` over parts from :func:`load_partitions`, computed by Dask."""
    dask = import_dask()
    partials = [dask.delayed(func)(part) for part in parts]
    (result,) = dask.compute(tree_reduce(partials, combine, split_every=split_every))
    return result


def share(value: Any) -> Any:
    """``value`` put in the task graph once, for every task that reads it (a large array, a fitted model).

    A plain value passed to many ``dask.delayed`` calls is embedded in each
    of their tasks: sent with every task and held by it, so the graph's
    payload grows with the number of partitions. Shared, it is one key that
    the tasks refer to: with an active distributed Client it is scattered to
    every worker once (``client.scatter(value, broadcast=True)``, Dask's
    way for large inputs); otherwise it is one ``dask.delayed`` node.

    Examples
    --------
    >>> import dask, numpy as np
    >>> idf = share(np.ones(4))
    >>> dask.compute(*[dask.delayed(lambda v, i: float(v.sum()) * i)(idf, i) for i in range(3)])
    (0.0, 4.0, 8.0)
    """
    dask = import_dask()
    client = _distributed_client()
    if client is not None:
        return client.scatter(value, broadcast=True, hash=False)  # a fresh key: never one being released
    return dask.delayed(value, pure=True)


def _distributed_client() -> Any:
    try:
        from distributed import get_client
    except ImportError:
        return None
    try:
        return get_client()
    except ValueError:  # no client is active
        return None
