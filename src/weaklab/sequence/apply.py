"""Running span labeling functions over sentences: votes, timing, fingerprints and faults."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._core.validation import check_choice, fail
from ..errors import LFExecutionError
from .corpus import Corpus
from .lfs import SpanLF, SpanRows
from .spans import check_spans
from .votes import TokenVotes

__all__ = ["apply_span_lfs", "SpanApplyReport"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SpanApplyReport:
    """What applying span LFs did: per-LF time, spans, coverage, fingerprints and faults.

    Attributes
    ----------
    lf_names, fingerprints : tuple of str
    seconds : tuple of float
        Wall time of each LF.
    n_spans : tuple of int
    sentence_coverage : tuple of float
        Share of sentences where the LF marked at least one span.
    faults : dict of str to int
        Number of sentences (or whole batches) each LF failed on (``on_error="abstain"``).
    fault_rows : dict of str to list of int
        The failing sentence positions per LF (at most 100 kept per LF).

    Examples
    --------
    >>> from weaklab.sequence import apply_span_lfs, gazetteer_lf
    >>> _, report = apply_span_lfs([gazetteer_lf(["flu"], "Dis")], [["flu"], ["cold"]])
    >>> report.to_frame()[["n_spans", "sentence_coverage", "faults"]].to_dict("records")
    [{'n_spans': 1, 'sentence_coverage': 0.5, 'faults': 0}]
    """

    lf_names: tuple[str, ...]
    fingerprints: tuple[str, ...]
    seconds: tuple[float, ...]
    n_spans: tuple[int, ...]
    sentence_coverage: tuple[float, ...]
    faults: dict[str, int] = field(default_factory=dict)
    fault_rows: dict[str, list[int]] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """One row per LF."""
        return pd.DataFrame({
            "fingerprint": self.fingerprints, "seconds": self.seconds, "n_spans": self.n_spans,
            "sentence_coverage": self.sentence_coverage,
            "faults": [self.faults.get(n, 0) for n in self.lf_names],
        }, index=pd.Index(self.lf_names, name="lf"))


def _preview(tokens: list[str]) -> str:
    text = " ".join(tokens)
    return text if len(text) <= 80 else text[:77] + "..."


def _run_per_sentence(lf: SpanLF, func: Any, corpus: Corpus, ids: Sequence[str], on_error: str,
                      faults: list[int]) -> SpanRows:
    starts: list[int] = []
    ends: list[int] = []
    types: list[str] = []
    for i, tokens in enumerate(corpus.sentences):
        try:
            spans = check_spans(func(list(tokens)), len(tokens), name=f"{lf.name} output")
        except Exception as exc:  # an LF may raise anything; it is reported with the sentence
            if on_error == "raise":
                raise LFExecutionError(
                    f"span LF {lf.name!r} failed on sentence {ids[i]!r} ({_preview(tokens)!r}): "
                    f"{type(exc).__name__}: {exc}", lf_name=lf.name, item_id=ids[i], row=i, original=exc,
                ) from exc
            faults.append(i)
            continue
        base = int(corpus.offsets[i])
        for s, e, t in spans:
            starts.append(base + s)
            ends.append(base + e)
            types.append(t)
    return np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64), types


def _run_batch(lf: SpanLF, func: Any, corpus: Corpus, on_error: str, faults: list[int]) -> SpanRows:
    try:
        return func(corpus)
    except Exception as exc:  # reported with the LF's name; no single sentence is at fault
        if on_error == "raise":
            raise LFExecutionError(f"span LF {lf.name!r} failed on the batch of {corpus.n_sentences} sentences: "
                                   f"{type(exc).__name__}: {exc}", lf_name=lf.name, original=exc) from exc
        faults.extend(range(corpus.n_sentences))
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), []


def _check_lfs(lfs: Any) -> list[SpanLF]:
    lfs = list(lfs) if isinstance(lfs, (list, tuple)) else [lfs]
    for lf in lfs:
        if not isinstance(lf, SpanLF):
            raise fail("lfs", "SpanLF objects (gazetteer_lf, regex_span_lf, shape_lf, model_span_lf)", lf)
    names = [lf.name for lf in lfs]
    if len(set(names)) != len(names) or not names:
        raise fail("lfs", "a non-empty list of LFs with unique names", got_text=repr(names))
    return lfs


def apply_span_lfs(
    lfs: Sequence[SpanLF],
    sentences: Any,
    *,
    entity_types: Sequence[str] | None = None,
    on_error: str = "raise",
) -> tuple[TokenVotes, SpanApplyReport]:
    """Apply span LFs to sentences and collect their votes.

    Parameters
    ----------
    lfs : sequence of SpanLF
    sentences : sequence of list of str, Corpus or TaggingDataset
        The token sequences (a TaggingDataset gives its ``.tokens`` and ids).
    entity_types : sequence of str, optional
        Type order of the votes; default: the LFs' types in order of first appearance.
    on_error : {"raise", "abstain"}, default "raise"
        ``"raise"``: an LF that raises stops with :class:`~weaklab.errors.LFExecutionError` naming the LF
        and the sentence. ``"abstain"``: the LF marks nothing on that sentence and the fault is counted.

    Returns
    -------
    votes : TokenVotes
    report : SpanApplyReport

    Examples
    --------
    >>> from weaklab.sequence import gazetteer_lf, regex_span_lf
    >>> votes, report = apply_span_lfs([gazetteer_lf(["aspirin"], "Chem"), regex_span_lf(r"\\w+itis", "Dis")],
    ...                                [["aspirin", "for", "arthritis"]])
    >>> votes.entity_types, votes.sentence_spans(0)["regex_Dis"]
    (('Chem', 'Dis'), [(2, 3, 'Dis')])
    """
    lfs = _check_lfs(lfs)
    check_choice("on_error", on_error, ("raise", "abstain"))
    ids = [str(i) for i in getattr(sentences, "ids", [])]
    corpus = sentences if isinstance(sentences, Corpus) else Corpus(getattr(sentences, "tokens", sentences))
    ids = ids if len(ids) == corpus.n_sentences else [str(i) for i in range(corpus.n_sentences)]
    rows, seconds, faults = [], [], {}
    for lf in lfs:
        failed: list[int] = []
        t0 = time.perf_counter()
        if lf.per_sentence is not None:
            out = _run_per_sentence(lf, lf.per_sentence, corpus, ids, on_error, failed)
        else:
            out = _run_batch(lf, lf.func, corpus, on_error, failed)
        seconds.append(time.perf_counter() - t0)
        rows.append(out)
        faults[lf.name] = failed
        if failed:
            logger.warning("span LF %r failed on %d sentence(s)", lf.name, len(failed))
    return _collect(lfs, corpus, rows, seconds, faults, entity_types)


def _collect(lfs: list[SpanLF], corpus: Corpus, rows: list[SpanRows], seconds: list[float],
             faults: dict[str, list[int]], entity_types: Sequence[str] | None) -> tuple[TokenVotes, SpanApplyReport]:
    order: dict[str, int] = {}
    for t in ([] if entity_types is None else entity_types):
        order.setdefault(t, len(order))
    for lf, (_, _, types) in zip(lfs, rows):
        for t in (*lf.types, *types):
            if entity_types is None:
                order.setdefault(t, len(order))
            elif t not in order:
                raise fail("entity_types", f"a list holding every type the LFs emit ({lf.name!r} emits {t!r})",
                           list(entity_types))
    if not order:
        raise fail("lfs", "LFs that declare or emit at least one entity type", got_text="no types")
    starts = np.concatenate([r[0] for r in rows]).astype(np.int64)
    ends = np.concatenate([r[1] for r in rows]).astype(np.int64)
    sources = np.concatenate([np.full(len(r[0]), j, dtype=np.int32) for j, r in enumerate(rows)])
    type_ids = np.fromiter((order[t] for r in rows for t in r[2]), dtype=np.int32, count=len(starts))
    votes = TokenVotes(corpus.offsets, starts, ends, sources, type_ids, tuple(lf.name for lf in lfs), tuple(order))
    sent = corpus.sentence_ids[starts] if len(starts) else np.zeros(0, dtype=np.int64)
    n = max(corpus.n_sentences, 1)
    coverage = [len(np.unique(sent[sources == j])) / n for j in range(len(lfs))]
    report = SpanApplyReport(
        lf_names=tuple(lf.name for lf in lfs), fingerprints=tuple(lf.fingerprint for lf in lfs),
        seconds=tuple(seconds), n_spans=tuple(len(r[0]) for r in rows), sentence_coverage=tuple(coverage),
        faults={k: len(v) for k, v in faults.items()}, fault_rows={k: v[:100] for k, v in faults.items()},
    )
    return votes, report
