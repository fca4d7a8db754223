"""A transient progress bar that only shows on interactive terminals."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def progress_bar(enabled: bool, total: int) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(n)``; draws a bar only when enabled and interactive.

    In non-interactive runs (logs, CI, captured output) nothing is printed.
    """
    if not enabled or total == 0:
        yield _ignore
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(stderr=True)
    if not (console.is_terminal or console.is_jupyter):
        yield _ignore
        return
    columns = (TextColumn("labeling"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("labeling", total=total)
        yield lambda n: bar.advance(task, n)


def _ignore(n: int) -> None:
    """Progress sink that does nothing."""
