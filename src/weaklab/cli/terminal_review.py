"""``weaklab annotate``: answer a run's review queue in the terminal.

Each item shows its text, the sources' votes and the soft label (the text
alone with ``[review].show_suggestion = false``: blind review); keys
``1``..``k`` answer with a class, ``s`` skips, ``u`` undoes the last answer
or skip, ``q`` quits. On a terminal a key press is enough (classes 1-9);
otherwise (a pipe, more than nine classes) each answer is a line.

Every answer and skip is on disk the moment it is given: it is appended to
the session's journal beside the store (flushed and ``fsync``-ed before the
next item shows; :mod:`weaklab.pipeline.answer_journal`), and the journal is
saved as annotations (annotator name, origin ``"terminal"``, time of the
answer, class name) every :data:`SAVE_EVERY` answers and when the session
ends, so the store is opened for writing only briefly. The session also ends,
and saves, when the process is asked to stop: Ctrl-C, a closed terminal
(``SIGHUP``) or ``kill`` (``SIGTERM``). After an uncatchable stop (``kill
-9``, a crash) or a final save that found the store busy, the journal stays,
and the next ``weaklab annotate`` saves its answers before it starts. A skip
is recorded as the store records every skip (an annotation with no label,
status ``"skipped"``, as the dashboard's skip button and a Label Studio
import record theirs): it is kept in the item's history, is not gold, and
takes the item out of the review queue. Undo reaches back to the last save.
A multi-label run's session asks which labels apply instead (:mod:`.terminal_labels`).
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from ..errors import WeaklabError
from ..pipeline.answer_journal import AnswerJournal, recover_journals
from ._common import open_store, resolve_store, store_wait

__all__ = ["SAVE_EVERY", "review_session"]

#: Answers are saved to the store in batches of this many (and when the session ends).
SAVE_EVERY = 10


class _Stopped(Exception):
    """The process was asked to stop (a closed terminal, ``kill``): end the session, saving its answers."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class _StopSignals:
    """While installed, ``SIGTERM`` and ``SIGHUP`` raise :class:`_Stopped` (main thread only).

    A signal that arrives while answers are being written is held until the
    write is done (:meth:`writing`), so a save is never cut in half.
    """

    def __init__(self) -> None:
        self.armed = True
        self.held: int | None = None

    def _handle(self, signum: int, frame: Any) -> None:
        if not self.armed:
            self.held = signum
            return
        raise _Stopped(signum)

    @contextmanager
    def installed(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        wanted = [getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)]
        previous = {sig: signal.signal(sig, self._handle) for sig in wanted}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    @contextmanager
    def writing(self, final: bool = False) -> Iterator[None]:
        self.armed = False
        try:
            yield
        finally:
            self.armed = not final
        if self.held is not None and not final:
            raise _Stopped(self.held)


@dataclass
class _Session:
    """What a session holds: the queue, where it is, and the answers not saved yet."""

    run_id: int
    dataset_id: int
    annotator: str
    names: list[str]
    items: list[Any]
    journal: AnswerJournal
    position: int = 0
    pending: list[tuple[Any, int | None, datetime]] = field(default_factory=list)  # None: a skip
    history: list[int] = field(default_factory=list)  # the position of each pending answer or skip
    signals: _StopSignals = field(default_factory=_StopSignals)
    saved: int = 0
    skipped: int = 0
    show_suggestion: bool = True  # [review].show_suggestion: false hides the votes and the soft label

    def record(self, label: int | None) -> None:
        """Journal an answer (a class id) or a skip (None) of the current item (on disk when this returns)."""
        item = self.items[self.position]
        when = datetime.now(UTC).replace(tzinfo=None)
        with self.signals.writing():  # a stop signal waits until the line is written and counted
            self.journal.record(item.item_id, label, when)
            self.pending.append((item.item_id, label, when))
            self.history.append(self.position)
            self.position += 1


def review_session(store_path: Path | None, run_id: int | None, annotator: str, limit: int,
                   strategy: str, include_gold: bool = False) -> None:
    """Run one terminal review session (see the module docstring); ``include_gold`` offers gold items too."""
    from ..pipeline.review import GoldItems, gold_items, review_batch, shows_suggestion

    console = Console(highlight=False)
    recovered = recover_journals(resolve_store(store_path), timeout=store_wait())
    if recovered:
        console.print(f"Saved {recovered} answer(s) and skip(s) of an earlier session that ended without saving "
                      "(kept in its journal).")
    with open_store(store_path, read_only=False) as store:  # the queue records its slots (random checks)
        run = run_id if run_id is not None else store.latest_run_id()
        if run is None:
            raise click.ClickException("the store has no runs yet: run `weaklab fit` first")
        dataset_id = int(store.run(int(run))["dataset_id"])
        multilabel = store.is_multilabel_run(int(run))
        if not multilabel and len(store.span_sets(int(run))):
            raise click.ClickException(
                f"run {run} is a tagging run: review its spans in the dashboard (`weaklab serve`, then Review: "
                "accept, reject or fix each proposed span with the keyboard) or in Label Studio "
                "(`weaklab annotate export`, then `weaklab annotate import EXPORT.json`)")
        if not multilabel:
            gold = GoldItems(frozenset()) if include_gold else gold_items(store, dataset_id, int(run))
            items, names = review_batch(store, int(run), limit=limit, strategy=strategy, gold=gold, queue="terminal")
            suggest = shows_suggestion(store, dataset_id)
    if multilabel:  # tick the labels that apply (terminal_labels)
        from .terminal_labels import label_review_session

        label_review_session(store_path, int(run), annotator, limit, include_gold)
        return
    if len(gold):
        console.print(escape(gold.describe("`weaklab annotate --include-gold` offers them too, to re-check their "
                                           "gold")))  # plain text: "[data].fit_gold" is no markup
    elif include_gold:
        console.print("Items that hold gold are offered too (--include-gold).")
    if not items:
        console.print(f"Nothing to review in run {run}: every item has a human answer"
                      f"{' or holds gold' if len(gold) else ''}.")
        return
    console.print(f"Reviewing run {run} as [bold]{escape(annotator)}[/bold]: {len(items)} item(s), "
                  f"{strategy.replace('_', ' ')} first. Each answer is on disk as you give it; answers go to the "
                  f"store every {SAVE_EVERY} and when you quit.")
    journal = AnswerJournal(resolve_store(store_path), run_id=int(run), dataset_id=dataset_id, annotator=annotator,
                            class_names=names)
    session = _Session(int(run), dataset_id, annotator, names, items, journal, show_suggestion=suggest)
    stopped: _Stopped | None = None
    with session.signals.installed():
        try:
            _loop(session, console, store_path)
        except _Stopped as exc:
            stopped = exc
        finally:
            _end(session, console, store_path)
    if stopped is not None:
        console.print(f"Stopped ({stopped}).")
    console.print(_farewell(session))
    if stopped is not None:
        raise SystemExit(128 + stopped.signum)


def _loop(session: _Session, console: Console, store_path: Path | None) -> None:
    keys = _keys(len(session.names))
    while session.position < len(session.items):
        _show(console, session)
        key = _read(console, len(session.names))
        if key in ("q", ""):
            return
        if key == "u":
            _undo(session, console)
        elif key == "s" or key in keys:
            session.record(keys.get(key))
            if len(session.pending) >= SAVE_EVERY:
                _save(session, store_path)
        else:
            console.print(f"[red]{escape(key)!r} is not a key here:[/red] {_legend(session.names)}")
    console.print("End of the queue.")


def _keys(k: int) -> dict[str, int]:
    return {str(i + 1): i for i in range(k)}


def _read(console: Console, k: int) -> str:
    """One answer: a key press on a terminal with at most 9 classes, else a line (EOF reads as quit)."""
    stdin = sys.stdin  # one stream for the whole session (a new text wrapper per read would lose buffered lines)
    if k <= 9 and stdin.isatty() and sys.stdout.isatty():
        console.print("> ", end="")
        try:
            key = click.getchar()
        except (EOFError, KeyboardInterrupt):  # Ctrl-D, Ctrl-C: quit (what was answered is saved)
            key = "q"
        console.print(key if key.isprintable() else "")
        return key.strip().lower()
    line = stdin.readline()
    return "q" if line == "" else line.strip().lower()


def _show(console: Console, session: _Session) -> None:
    item = session.items[session.position]
    console.rule(f"[{session.position + 1}/{len(session.items)}] item {escape(str(item.item_id))}", align="left")
    text = item.text if item.text is not None else "(no text recorded for this item)"
    console.print(f"  {escape(text)}")
    if not session.show_suggestion:
        console.print("  [dim]blind review: votes and soft label hidden (\\[review].show_suggestion = false)[/dim]")
    else:
        votes = " · ".join(f"{escape(s)} → {escape(c)}" for s, c in item.votes) or "no source voted"
        console.print(f"  [dim]votes:[/dim] {votes}")
        soft = "  ".join(f"{escape(n)} {p:.2f}" for n, p in zip(session.names, item.proba))
        console.print(f"  [dim]soft label:[/dim] {soft}")
    console.print(f"  {_legend(session.names)}")


def _legend(names: list[str]) -> str:
    choices = "  ".join(f"[bold]{i + 1}[/bold] {escape(n)}" for i, n in enumerate(names))
    return f"{choices}   [bold]s[/bold] skip  [bold]u[/bold] undo  [bold]q[/bold] quit"


def _undo(session: _Session, console: Console) -> None:
    if not session.history:
        console.print("[yellow]Nothing to undo[/yellow] since the last save (answers are saved every "
                      f"{SAVE_EVERY} and when you quit).")
        return
    with session.signals.writing():
        session.journal.undo()
        position = session.history.pop()
        item_id, label, _ = session.pending.pop()
    if label is None:
        console.print(f"Undone: skip of {escape(str(item_id))}.")
    else:
        console.print(f"Undone: {escape(str(item_id))} → {escape(session.names[label])}.")
    session.position = position


def _save(session: _Session, store_path: Path | None, final: bool = False) -> None:
    """Write the pending answers and skips as annotations in one transaction; undo cannot reach past this.

    A stop signal during the write waits for its end (``final``: the session
    is ending anyway, so it is ignored).
    """
    with session.signals.writing(final):
        if session.pending:
            with open_store(store_path, read_only=False) as store:
                written = session.journal.save(store)
            n_skips = sum(entry.label is None for entry in written)
            session.skipped += n_skips
            session.saved += len(written) - n_skips
            session.pending.clear()
        session.history.clear()


def _end(session: _Session, console: Console, store_path: Path | None) -> None:
    """The last save; the journal is removed once it is saved, kept (and said where) when the store is busy."""
    try:
        _save(session, store_path, final=True)
    except (WeaklabError, click.ClickException) as exc:
        session.journal.close(remove=False)
        message = exc.format_message() if isinstance(exc, click.ClickException) else str(exc).splitlines()[0]
        console.print(f"[red]The last {len(session.pending)} answer(s) could not be saved to the store:[/red] "
                      f"{escape(message)}. They are kept in {escape(str(session.journal.path))}; the next "
                      "`weaklab annotate` saves them.")
        return
    session.journal.close()


def _farewell(session: _Session) -> str:
    text = f"Saved {session.saved} answer(s) as {escape(session.annotator)}"
    text += f" ({session.skipped} skipped)." if session.skipped else "."
    if session.saved:
        text += " The next `weaklab fit` uses them as gold."
    return text
