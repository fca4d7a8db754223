"""``weaklab annotate`` on a multi-label run: tick the labels that apply to each item, in the terminal.

Items come least certain first (:func:`~weaklab.pipeline.multilabel_review.label_review_queue`:
the dashboard's order), without items someone answered or skipped and,
unless ``--include-gold``, the dev items. Each shows its text and, per label,
the sources voting it present and absent and ``P(applies)``, the labels at
0.5 or more marked. An answer is one line: the numbers or names of the labels
that apply, separated by spaces or commas (``1 3``, ``sport tech``); ``-``
for none of them; an empty line accepts the marked labels; ``s`` skips;
``b`` goes back to the previous item to answer it again (the latest answer
on an item counts); ``q`` quits. Every answer and skip is written to the
store as it is given (:meth:`~weaklab.store.Store.add_label_set_answer`:
the annotator, origin ``"terminal"``, the run and the label set shown), so
quitting, or a crash, loses nothing that was answered. With
``[review].show_suggestion = false`` (blind review) an item shows its text
and the label numbers alone, and an empty line is not an answer.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from ._common import open_store

__all__ = ["label_review_session", "parse_label_answer"]

#: What a line may say besides labels.
_COMMANDS = {"s": "skip", "b": "back", "q": "quit"}


def parse_label_answer(line: str, names: list[str], marked: list[str] | None) -> list[str] | str:
    """The labels a typed line says apply (in label order), or the command it names ("skip", "back", "quit").

    An empty line accepts ``marked``; in blind review (``marked`` None) it
    is refused, as is a word that is not a label: ``click.BadParameter``
    naming what was typed and what is expected.

    Examples
    --------
    >>> parse_label_answer("3, sport", ["sport", "politics", "tech"], [])
    ['sport', 'tech']
    >>> parse_label_answer("", ["sport", "tech"], ["tech"]), parse_label_answer("-", ["sport"], ["sport"])
    (['tech'], [])
    >>> parse_label_answer("q", ["sport"], [])
    'quit'
    """
    text = line.strip()
    if text.lower() in _COMMANDS:
        return _COMMANDS[text.lower()]
    if text == "":
        if marked is None:
            raise click.BadParameter("expected the labels that apply ('-' for none; blind review marks none), "
                                     "got an empty line")
        return list(marked)
    if text == "-":
        return []
    chosen = set()
    for word in re.split(r"[\s,]+", text):
        if word.isdigit() and 1 <= int(word) <= len(names):
            chosen.add(names[int(word) - 1])
        elif word in names:
            chosen.add(word)
        else:
            raise click.BadParameter(f"expected label numbers 1-{len(names)} or names of {names}, '-' for none, "
                                     f"or s/b/q; got {word!r}")
    return [n for n in names if n in chosen]


def label_review_session(store_path: Path | None, run_id: int, annotator: str, limit: int,
                         include_gold: bool) -> None:
    """Run one terminal review session of a multi-label run (see the module docstring)."""
    from ..pipeline.multilabel_review import label_review_queue
    from ..pipeline.review import TextLookup, shows_suggestion

    console = Console(highlight=False)
    with open_store(store_path) as store:
        queue = label_review_queue(store, run_id, include_gold=include_gold)
        ids = queue.item_ids[:limit].tolist()
        stories = [store.explain(v, run_id=run_id) for v in ids]
        texts = TextLookup(store, queue.dataset_id)
        shown = [texts.get(v) for v in ids]
        suggest = shows_suggestion(store, queue.dataset_id)
    if not ids:
        left = f" ({queue.n_dev} dev items are not offered: --include-gold offers them)" if queue.n_dev else ""
        console.print(f"Nothing to review in run {run_id}: every item has an answer or a skip{left}.")
        return
    console.print(f"Reviewing multilabel run {run_id} as [bold]{escape(annotator)}[/bold]: {len(ids)} item(s), "
                  "least certain label sets first. Each answer goes to the store as you give it.")
    counts = _loop(console, store_path, queue, annotator, ids, stories if suggest else None, shown)
    text = f"Saved {counts['answered']} answer(s) as {escape(annotator)}"
    text += f" ({counts['skipped']} skipped)." if counts["skipped"] else "."
    if counts["answered"]:
        text += (" `weaklab explain` and `export` take them as the items' labels; the next `weaklab train` trains "
                 "the end model on them.")
    console.print(text)


def _loop(console: Console, store_path: Path | None, queue: Any, annotator: str, ids: list[Any],
          stories: list[dict[str, Any]] | None, texts: list[str | None]) -> dict[str, int]:
    """Ask about each item in turn (``stories`` None: blind review, no votes or probabilities shown)."""
    names = list(queue.label_names)
    counts = {"answered": 0, "skipped": 0}
    position = 0
    while position < len(ids):
        story = None if stories is None else stories[position]
        marked = _show(console, position, len(ids), ids[position], story, texts[position], names)
        line = sys.stdin.readline()
        if line == "":
            break  # end of input: quit
        try:
            answer = parse_label_answer(line, names, marked)
        except click.BadParameter as exc:
            console.print(f"[red]{escape(exc.format_message())}[/red]")
            continue
        if answer == "quit":
            break
        if answer == "back":
            position = max(position - 1, 0)
            continue
        skipped = answer == "skip"
        with open_store(store_path, read_only=False) as store:
            store.add_label_set_answer(queue.dataset_id, ids[position], annotator, [] if skipped else answer,
                                       label_names=names, status="skipped" if skipped else "answered",
                                       label_set_id=queue.label_set_id, run_id=queue.run_id, origin="terminal")
        counts["skipped" if skipped else "answered"] += 1
        position += 1
    else:
        console.print("End of the queue.")
    return counts


def _show(console: Console, position: int, total: int, item_id: Any, story: dict[str, Any] | None,
          text: str | None, names: list[str]) -> list[str] | None:
    """Print one item (text; per label its voters and P(applies)); return the labels at 0.5 or more.

    Blind review (``story`` None): the text and the label numbers alone; nothing is marked (None).
    """
    console.rule(f"[{position + 1}/{total}] item {escape(str(item_id))}", align="left")
    console.print(f"  {escape(text) if text is not None else '(no text recorded for this item)'}")
    if story is None:
        console.print("  [dim]blind review: votes and P(applies) hidden (\\[review].show_suggestion = false)[/dim]")
        console.print("  " + "  ".join(f"[bold]{j + 1}[/bold] {escape(n)}" for j, n in enumerate(names)))
        console.print("  labels that apply (numbers or names; -: none), s skip, b back, q quit")
        return None
    proba = (story.get("label_model") or {}).get("proba") or {}
    marked = []
    for j, name in enumerate(names):
        p = proba.get(name)
        votes = [v for v in story.get("votes", []) if v["label"] == name]
        present = ", ".join(v["source"] for v in votes if v["vote"] == "present") or "-"
        absent = ", ".join(v["source"] for v in votes if v["vote"] == "absent") or "-"
        mark = "x" if p is not None and p >= 0.5 else " "
        if mark == "x":
            marked.append(name)
        shown = "-" if p is None else f"{p:.2f}"
        console.print(f"  {escape(f'[{mark}]')} [bold]{j + 1}[/bold] {escape(name)}  P {shown}  "
                      f"[dim]present: {escape(present)}; absent: {escape(absent)}[/dim]")
    console.print("  labels that apply (numbers or names; Enter: the marked ones; -: none), s skip, b back, q quit")
    return marked
