"""A write-ahead journal of a review session's answers: each answer is on disk the moment it is given.

``weaklab annotate`` opens the store for writing only briefly (every few
answers), so that ``weaklab fit`` or the dashboard are not kept waiting. The
answers given in between live in the session's journal: a JSON-lines file in
the folder beside the store (``<store>.journal/``), one line per answer, undo
or skip, flushed and ``fsync``-ed before the next item is shown. A save
(:meth:`AnswerJournal.save`) writes the journal's answers to the store and
empties it; the end of the session removes it.

A session that ends without its last save (``kill -9``, a crash, a power cut,
a store that stayed busy) leaves its journal behind: the next session
(:func:`recover_journals`) writes those answers to the store and removes the
file. Each line holds everything its answer means: run, dataset, item,
annotator, the class *name* given with the class list it was chosen from
(answers are stored by name, so a later change of ``[labels].classes`` does
not change their meaning) and the time. Each answer carries its own id
(``external_id`` ``journal:<session>:<n>``), so writing a journal twice (a
crash between the store's commit and the emptying of the file) stores every
answer once.

While its session runs, a journal is locked (``flock``; released by the
operating system however the process ends), so another session never
recovers the journal of a live one.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from .._core.hashing import fingerprint
from ..errors import ValidationError
from ..store import Store

try:  # POSIX: a lock the kernel releases when the process dies, however it dies
    import fcntl
except ImportError:  # pragma: no cover - Windows: an open file cannot be removed, which protects it instead
    fcntl = None  # type: ignore[assignment]

__all__ = ["AnswerJournal", "JournalEntry", "journal_folder", "recover_journals"]

logger = logging.getLogger(__name__)

#: Journal files are ``<prefix><session id>.jsonl`` in :func:`journal_folder`.
PREFIX = "answers-"


def journal_folder(store_path: str | os.PathLike[str]) -> Path:
    """The folder beside the store that holds the answer journals (``<store file>.journal``).

    Examples
    --------
    >>> journal_folder("proj/.weaklab/weaklab.duckdb").name
    'weaklab.duckdb.journal'
    """
    path = Path(store_path)
    return path.with_name(path.name + ".journal")


@dataclass(frozen=True)
class JournalEntry:
    """One answer (or skip: ``label`` None) read back from a journal, with what it means.

    Attributes
    ----------
    answer_id : str
        ``journal:<session>:<n>``: stored as the answer's ``external_id``.
    run_id, dataset_id : int
    item_id : int or str
    annotator : str
    label : str or None
        The class name given (None: a skip).
    class_names : tuple of str
        The class list the answer was chosen from.
    at : datetime
        When it was given (UTC, naive).
    origin : str
    """

    answer_id: str
    run_id: int
    dataset_id: int
    item_id: Any
    annotator: str
    label: str | None
    class_names: tuple[str, ...]
    at: datetime
    origin: str


class AnswerJournal:
    """The journal of one review session: :meth:`record` and :meth:`undo` append, :meth:`save` writes to the store.

    Parameters
    ----------
    store_path : str or Path
        The store the answers belong to (the journal goes in :func:`journal_folder`).
    run_id, dataset_id : int
        The run whose queue is answered, and its dataset.
    annotator : str
    class_names : sequence of str
        The classes a label id refers to (kept by name in every line).
    origin : str, default="terminal"

    Examples
    --------
    >>> journal = AnswerJournal(path, run_id=1, dataset_id=1, annotator="ann",
    ...                         class_names=["fine", "junk"])            # doctest: +SKIP
    >>> journal.record("m7", 1, when)            # on disk when this returns  # doctest: +SKIP
    >>> with Store(path) as store:                                             # doctest: +SKIP
    ...     journal.save(store)
    >>> journal.close()                                                        # doctest: +SKIP
    """

    def __init__(self, store_path: str | os.PathLike[str], *, run_id: int, dataset_id: int, annotator: str,
                 class_names: Any, origin: str = "terminal") -> None:
        self.session = uuid.uuid4().hex
        self.path = journal_folder(store_path) / f"{PREFIX}{self.session}.jsonl"
        self._classes = [str(c) for c in class_names]
        self._base: dict[str, Any] = {"run_id": int(run_id), "dataset_id": int(dataset_id),
                                      "annotator": str(annotator), "classes": self._classes,
                                      "classes_version": fingerprint(self._classes)[:16], "origin": str(origin)}
        self._n = 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o600)
        if fcntl is not None:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        _sync_folder(self.path.parent)  # the file itself survives a crash

    def record(self, item_id: Any, label: int | None, when: datetime) -> None:
        """Append an answer (a class id of ``class_names``) or a skip (None); on disk when this returns."""
        self._n += 1
        self._write({"op": "answer", **self._base, "n": self._n, "item_id": _plain(item_id),
                     "label": None if label is None else self._classes[int(label)],
                     "label_id": None if label is None else int(label), "at": when.isoformat()})

    def undo(self) -> None:
        """Append that the last answer or skip not saved yet is taken back."""
        self._write({"op": "undo"})

    def save(self, store: Store) -> list[JournalEntry]:
        """Write the journal's answers and skips to ``store`` (open for writing), then empty the journal.

        Returns the answers and skips written.
        """
        entries = read_journal(self.path)
        write_entries(store, entries)
        os.ftruncate(self._fd, 0)
        os.fsync(self._fd)
        return entries

    def close(self, *, remove: bool = True) -> None:
        """Close the journal; ``remove`` deletes its file (only once everything in it is saved)."""
        if self._fd < 0:
            return
        if remove:
            self.path.unlink(missing_ok=True)
        os.close(self._fd)
        self._fd = -1

    def _write(self, line: dict[str, Any]) -> None:
        data = (json.dumps({"session": self.session, **line}, ensure_ascii=False) + "\n").encode("utf-8")
        os.write(self._fd, data)
        os.fsync(self._fd)


def read_journal(path: Path) -> list[JournalEntry]:
    """The answers of a journal file that are not undone, in order (a torn last line is ignored)."""
    entries: list[JournalEntry] = []
    session = path.stem[len(PREFIX):]
    for number, raw in enumerate(_lines(path), start=1):
        try:
            line = json.loads(raw)
        except json.JSONDecodeError:
            logger.warning("%s: line %d is not JSON (cut by a crash?): ignored", path, number)
            continue
        if line.get("op") == "undo":
            if entries:
                entries.pop()
            continue
        try:
            entries.append(JournalEntry(
                answer_id=f"journal:{session}:{line['n']}", run_id=int(line["run_id"]),
                dataset_id=int(line["dataset_id"]), item_id=line["item_id"], annotator=str(line["annotator"]),
                label=line["label"], class_names=tuple(line["classes"]), at=datetime.fromisoformat(line["at"]),
                origin=str(line.get("origin") or "terminal")))
        except (KeyError, TypeError, ValueError) as exc:
            logger.warning("%s: line %d is not a journalled answer (%r): ignored", path, number, exc)
    return entries


def write_entries(store: Store, entries: list[JournalEntry]) -> int:
    """Store journal answers as annotations (by class name, with the class list they were given from).

    An answer already stored (same ``external_id`` and time) is not stored again.
    """
    groups: dict[tuple[Any, ...], list[JournalEntry]] = {}
    for entry in entries:
        key = (entry.dataset_id, entry.run_id, entry.annotator, entry.class_names, entry.origin)
        groups.setdefault(key, []).append(entry)
    for (dataset_id, run_id, annotator, classes, origin), group in groups.items():
        store.add_annotations(dataset_id, [e.item_id for e in group], annotator, [e.label for e in group],
                              origin=origin, run_id=run_id, when=[e.at for e in group],
                              external_ids=[e.answer_id for e in group], class_names=list(classes))
    return len(entries)


def recover_journals(store_path: str | os.PathLike[str], *, timeout: float = 10.0) -> int:
    """Store the answers of journals left by sessions that ended without saving, and remove those files.

    Journals of running sessions are left alone (they are locked). The store
    is opened for writing (waiting up to ``timeout`` seconds for another
    process) only when a journal holds answers. A journal the store refuses
    (its dataset or items are not in this store, e.g. a store made anew) is
    kept as ``<file>.rejected`` with a warning, so it never blocks a run.

    Returns
    -------
    int
        The number of answers and skips recovered.

    Examples
    --------
    >>> recover_journals(".weaklab/weaklab.duckdb")          # doctest: +SKIP
    3
    """
    total = 0
    if not Path(store_path).is_file():  # no store to add answers to (and none is made here)
        return total
    for path, fd in _orphans(journal_folder(store_path)):
        try:
            entries = read_journal(path)
            if entries:
                with Store(store_path, timeout=timeout) as store:
                    total += write_entries(store, entries)
            path.unlink(missing_ok=True)
        except ValidationError as exc:
            kept = path.with_name(path.name + ".rejected")
            path.rename(kept)
            logger.warning("the answers journalled in %s were not stored (%s); the file is kept as %s",
                           path, str(exc).splitlines()[0], kept)
        finally:
            os.close(fd)
    if total:
        logger.info("stored %d answer(s) and skip(s) left in the journal of a review session that ended "
                    "without saving", total)
    return total


def _orphans(folder: Path) -> Iterator[tuple[Path, int]]:
    """Journal files no running session holds, each opened and locked (the caller closes the descriptor)."""
    if not folder.is_dir():
        return
    for path in sorted(folder.glob(f"{PREFIX}*.jsonl")):
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:  # recovered by another session meanwhile
            continue
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:  # a running session's journal
                os.close(fd)
                continue
            if not path.exists():  # recovered and removed while this one waited for the lock
                os.close(fd)
                continue
        yield path, fd


def _lines(path: Path) -> list[str]:
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return []
    return [line for line in text.splitlines() if line.strip()]


def _plain(value: Any) -> Any:
    """An item id as JSON keeps it (numpy scalars to Python ints/strs)."""
    value = value.item() if hasattr(value, "item") and not isinstance(value, (str, bytes)) else value
    return value if isinstance(value, (int, str)) else str(value)


def _sync_folder(folder: Path) -> None:
    """Make a new file's name durable (POSIX; a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - Windows
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
