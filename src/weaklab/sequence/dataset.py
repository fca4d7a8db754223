"""Loading weakly labelled tagging data sets (span format and WRENCH token format).

Two layouts are read, detected from the first item of the split:

* **span format** (the CHMM authors'): ``{"<i>": {"label": [[start, end, type], ...],
  "data": {"text": [token, ...]}, "weak_labels": [[span, ...] per source]}}``;
* **token format** (WRENCH's): ``{"<i>": {"data": {"text": [...]}, "label": [tag per token],
  "weak_labels": [[tag per source] per token]}}`` with BIO tag strings.

Both come with a ``meta.json`` holding ``entity_types``, ``lf`` (source names,
in vote order) and, optionally, ``lf_rec`` (WRENCH's recommended subset).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._core.validation import fail
from .spans import Span, check_spans, tags_to_spans
from .votes import TokenVotes

__all__ = ["TaggingDataset", "load_tagging", "TAGGING_FORMATS"]

TAGGING_FORMATS = ("span", "token")


@dataclass(frozen=True, eq=False)
class TaggingDataset:
    """Sentences, gold spans and the sources' span votes of one split.

    Attributes
    ----------
    tokens : list of list of str
        The tokens of each sentence.
    gold : list of list of (int, int, str) or None
        Gold spans per sentence (``None`` when the split has no gold).
    votes : TokenVotes
        The sources' votes, run-length encoded.
    ids : list of str
        Item ids as in the file.
    format : {"span", "token"}
        The file layout that was read.

    Examples
    --------
    >>> ds = TaggingDataset.from_spans([["aspirin", "helps"]], [[(0, 1, "Chem")]],
    ...                                [[[(0, 1, "Chem")]]], source_names=["dict"], entity_types=["Chem"])
    >>> ds.n_sentences, ds.votes.n_sources, ds.gold
    (1, 1, [[(0, 1, 'Chem')]])
    """

    tokens: list[list[str]]
    gold: list[list[Span]] | None
    votes: TokenVotes
    ids: list[str]
    format: str = "span"

    @classmethod
    def from_spans(
        cls,
        tokens: Sequence[Sequence[str]],
        gold: Sequence[Sequence[Sequence[Any]]] | None,
        spans: Sequence[Sequence[Sequence[Sequence[Any]]]],
        *,
        source_names: Sequence[str],
        entity_types: Sequence[str],
        ids: Sequence[str] | None = None,
    ) -> TaggingDataset:
        """Build from tokens, gold spans and ``spans[sentence][source]`` votes."""
        toks = [list(map(str, t)) for t in tokens]
        lengths = [len(t) for t in toks]
        votes = TokenVotes.from_spans(spans, lengths, source_names=source_names, entity_types=entity_types)
        gold_spans = None
        if gold is not None:
            if len(gold) != len(toks):
                raise fail("gold", f"one span list per sentence ({len(toks)})", gold)
            gold_spans = [check_spans(g, n, name=f"gold[{i}]") for i, (g, n) in enumerate(zip(gold, lengths))]
        item_ids = [str(i) for i in range(len(toks))] if ids is None else [str(i) for i in ids]
        return cls(tokens=toks, gold=gold_spans, votes=votes, ids=item_ids)

    @property
    def n_sentences(self) -> int:
        """Number of sentences."""
        return len(self.tokens)

    @property
    def entity_types(self) -> tuple[str, ...]:
        """Entity type names."""
        return self.votes.entity_types

    @property
    def source_names(self) -> tuple[str, ...]:
        """Source names."""
        return self.votes.source_names

    def select_sources(self, names: Sequence[str]) -> TaggingDataset:
        """The same data with only the named sources' votes."""
        return TaggingDataset(self.tokens, self.gold, self.votes.select_sources(names), self.ids, self.format)


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise fail(what, "an existing file", got_text=repr(str(path))) from None
    except json.JSONDecodeError as exc:
        raise fail(what, "valid JSON", got_text=f"{path}: {exc}") from None


def _detect_format(item: Any, where: str) -> str:
    if not isinstance(item, dict) or "weak_labels" not in item or "data" not in item:
        raise fail(where, "an item with 'data' and 'weak_labels'", item)
    label = item.get("label")
    if isinstance(label, list) and label and isinstance(label[0], str):
        return "token"
    weak = item["weak_labels"]
    if weak and isinstance(weak[0], list) and weak[0] and isinstance(weak[0][0], str):
        return "token"
    return "span"


def _select(meta: dict[str, Any], sources: str | Sequence[str] | None) -> list[int]:
    names = list(meta["lf"])
    if sources is None or sources == "all":
        return list(range(len(names)))
    wanted = list(meta.get("lf_rec", names)) if sources == "recommended" else list(sources)
    missing = [n for n in wanted if n not in names]
    if missing:
        raise fail("sources", f"'all', 'recommended' or names among {names}", got_text=repr(missing))
    return [names.index(n) for n in wanted]


def load_tagging(
    folder: str | Path,
    split: str,
    *,
    sources: str | Sequence[str] | None = "all",
) -> TaggingDataset:
    """Load one split of a tagging folder, in span or token format (detected).

    Parameters
    ----------
    folder : str or Path
        Folder with ``meta.json`` and ``<split>.json``.
    split : str
        ``"train"``, ``"valid"`` or ``"test"`` (any file name stem works).
    sources : "all", "recommended" or sequence of str, default "all"
        Which sources to keep: all of ``meta["lf"]``, WRENCH's ``lf_rec``
        subset, or the named ones in the given order.

    Returns
    -------
    TaggingDataset

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "meta.json").write_text(json.dumps({"lf": ["a"], "entity_types": ["Dis"]}))
    >>> item = {"label": [[0, 1, "Dis"]], "data": {"text": ["flu", "now"]}, "weak_labels": [[[0, 1, "Dis"]]]}
    >>> _ = (d / "test.json").write_text(json.dumps({"0": item}))
    >>> ds = load_tagging(d, "test")
    >>> ds.format, ds.gold, ds.votes.sentence_spans(0)
    ('span', [[(0, 1, 'Dis')]], {'a': [(0, 1, 'Dis')]})
    """
    base = Path(folder)
    if not isinstance(split, str) or not split:
        raise fail("split", "a split name such as 'train', 'valid' or 'test'", split)
    meta = _read_json(base / "meta.json", "folder")
    if not isinstance(meta, dict) or "lf" not in meta or "entity_types" not in meta:
        raise fail("folder", "a meta.json with 'lf' and 'entity_types'", got_text=str(base / "meta.json"))
    if not (base / f"{split}.json").exists():
        raise fail("split", f"a split with a file in {base}", got_text=f"{split!r} (no {split}.json)")
    data = _read_json(base / f"{split}.json", "split")
    if not isinstance(data, dict):
        raise fail("split", "a JSON object of items", data)
    keep = _select(meta, sources)
    names = [meta["lf"][j] for j in keep]
    items = list(data.items())
    fmt = _detect_format(items[0][1], f"{split}.json") if items else "span"
    tokens, gold, spans = [], [], []
    for key, item in items:
        toks = [str(t) for t in item["data"]["text"]]
        tokens.append(toks)
        if fmt == "token":
            gold.append(tags_to_spans(item["label"], name=f"{split}.json[{key!r}].label"))
            columns = [[row[j] for row in item["weak_labels"]] for j in keep]
            spans.append([tags_to_spans(col, name=f"{split}.json[{key!r}].weak_labels") for col in columns])
        else:
            gold.append([tuple(s) for s in item.get("label", [])])
            spans.append([item["weak_labels"][j] for j in keep])
    ds = TaggingDataset.from_spans(tokens, gold, spans, source_names=names,
                                   entity_types=list(meta["entity_types"]), ids=[k for k, _ in items])
    return TaggingDataset(ds.tokens, ds.gold, ds.votes, ds.ids, fmt)
