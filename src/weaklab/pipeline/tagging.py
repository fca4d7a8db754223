"""A tagging project's run (``[task] kind = "tagging"``): span LFs → tag label model → CRF tagger, all recorded.

The steps, as one run in the store:

* ``apply`` runs the span LFs (:func:`~weaklab.sequence.apply_span_lfs`) over
  every item's tokens; each LF is recorded as a source version (its
  fingerprint), and every source's spans as the run's ``"sources"`` span set
  (with the items' tokens); gold spans of the data, where given, are the
  ``"gold"`` span set;
* ``analyse`` is :func:`~weaklab.sequence.span_lf_summary` (span coverage,
  overlap, conflict; precision, recall and F1 on the dev gold), kept as the
  run's source statistics;
* ``fit`` fits the tag label model (``[label_model].name``, any class of
  :mod:`weaklab.sequence`; default :class:`~weaklab.sequence.HMMLabelModel`)
  on the votes of every item (no gold is used), and records its state, its
  span F1 on the dev gold next to token-level majority vote's, and its
  proposed spans with their confidence (the mean posterior of the span's
  type over its tokens) as the ``"label_model"`` span set; each item's score
  is the posterior of its least certain token;
* ``train`` (``[end_model].name = "crf"``, the default) trains
  :class:`~weaklab.sequence.CRFTagger` on the label model's tags of the
  non-dev items (people's latest answered spans replace them on the items
  they answered in the review queue) and records its spans on every item
  and its span F1 on the dev gold (``"none"`` skips it);
* ``issues`` does nothing for tagging; ``query`` lists the unanswered
  non-dev items whose least certain token is least certain (the review
  queue's order).

People's answers on spans (the review queue) are kept by the store
(:meth:`~weaklab.store.Store.add_span_answer`); ``explain`` shows an item's
tokens with every source's spans, the proposed spans and the answers.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._core import fingerprint
from .._core.hashing import function_source
from .._core.validation import fail
from ..errors import ValidationError
from ..store import Store
from .loading import item_ids_of, load_data, load_span_lfs
from .record import recorded_run, run_steps
from .tagging_data import TaggingItems, tagging_items

if TYPE_CHECKING:
    from ..sequence import TagLabelModel, TokenVotes
    from .project import Project, RunResult

__all__ = ["run_tagging", "tag_label_model_class", "span_confidence", "least_token_confidence",
           "DEFAULT_TAG_MODEL"]

#: The tag label model a tagging project uses unless ``[label_model].name`` says otherwise.
DEFAULT_TAG_MODEL = "HMMLabelModel"
_TAG_MODELS = ("HMMLabelModel", "MajorityVoteTagger", "TokenDawidSkene")


def tag_label_model_class(name: str) -> type[TagLabelModel]:
    """The tag label model class ``name`` of :mod:`weaklab.sequence`."""
    from .. import sequence

    cls = getattr(sequence, name, None)
    if not isinstance(cls, type) or not issubclass(cls, sequence.TagLabelModel):
        raise fail("label_model.name", f"a tag label model of weaklab.sequence, e.g. {list(_TAG_MODELS)}", name)
    return cls


def span_confidence(proba: np.ndarray, votes: TokenVotes, spans: list[list[tuple[int, int, str]]]) -> np.ndarray:
    """Mean posterior of each span's type over its tokens, spans in sentence order.

    Examples
    --------
    >>> from weaklab.sequence import TokenVotes
    >>> v = TokenVotes.from_spans([[[(0, 2, "A")]]], [2], source_names=["s"], entity_types=["A"])
    >>> span_confidence(np.array([[0.2, 0.8], [0.4, 0.6]]), v, [[(0, 2, "A")]]).round(2).tolist()
    [0.7]
    """
    types = {t: i + 1 for i, t in enumerate(votes.entity_types)}
    out = [float(proba[votes.offsets[i] + s: votes.offsets[i] + e, types[t]].mean())
           for i, sentence in enumerate(spans) for s, e, t in sentence]
    return np.asarray(out, dtype=np.float64)


def least_token_confidence(proba: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Per sentence, the highest posterior of its least certain token (1.0 for an empty sentence).

    Examples
    --------
    >>> least_token_confidence(np.array([[0.9, 0.1], [0.6, 0.4], [1.0, 0.0]]), np.array([0, 2, 3])).tolist()
    [0.6, 1.0]
    """
    top = proba.max(axis=1) if len(proba) else np.zeros(0)
    out = np.ones(len(offsets) - 1)
    nonempty = np.diff(offsets) > 0
    if nonempty.any():
        out[nonempty] = np.minimum.reduceat(top, offsets[:-1][nonempty])
    return out


def run_tagging(project: Project, steps: list[str], on_step: Callable[[str, str], None] | None,
                descriptions: dict[str, str]) -> RunResult:
    """Run ``steps`` of a tagging ``project`` as one recorded run (see the module docstring)."""
    from .project import RunResult

    config = project.config
    frame = load_data(config)
    run = _TaggingRun(project, frame, tagging_items(config, frame), load_span_lfs(config))
    with project.open_store() as store:
        run.dataset_id = store.add_dataset(
            config.dataset_name, item_ids=run.ids, fingerprint=run.data_fp,
            item_hashes=[fingerprint(t) for t in run.items.tokens],
            meta={"path": str(config.data_path), "project": str(config.file), "kind": "tagging",
                  "id_column": config.get("data", "id_column"), "text_field": config.get("data", "text_field"),
                  "gold_column": config.get("data", "gold_column"), "split_column": config.get("data", "split_column"),
                  "dev_value": config.get("data", "dev_value", "dev") if config.get("data", "split_column") else None,
                  "entity_types": run.types})
        with recorded_run(store, run.dataset_id, run.run_config(steps)) as recorded:
            result = RunResult(run_id=recorded.run_id, dataset_id=run.dataset_id, metrics=recorded.metrics)
            result.metrics["task"] = "tagging"
            run_steps(run, steps, store, result, on_step, descriptions)
    result.item_ids = [v.item() if isinstance(v, np.generic) else v for v in run.ids[:5]]
    return result


class _TaggingRun:
    """The steps of one tagging run and what they pass to each other."""

    def __init__(self, project: Project, frame: pd.DataFrame, items: TaggingItems, lfs: list[Any]) -> None:
        self.project, self.config, self.items, self.lfs = project, project.config, items, lfs
        self.ids = item_ids_of(self.config, frame)
        self.types = list(self.config.entity_types or [])
        self.data_fp = fingerprint("tagging-data", frame, items.tokens)
        self.dataset_id = -1
        self.votes: TokenVotes | None = None
        self.proba: np.ndarray | None = None
        self.spans: list[list[tuple[int, int, str]]] | None = None

    def run_config(self, steps: list[str]) -> dict[str, Any]:
        values = self.config.values
        return {"project": str(self.config.file), "steps": steps, "task": values.get("task", {}),
                "data_fingerprint": self.data_fp,
                "label_model": {"name": self.config.get("label_model", "name", DEFAULT_TAG_MODEL),
                                "params": dict(self.config.get("label_model", "params", {}))},
                "end_model": {"name": self.config.get("end_model", "name", "crf"),
                              "params": dict(self.config.get("end_model", "params", {}))},
                "sources": {lf.name: lf.fingerprint for lf in self.lfs}}

    @property
    def applied(self) -> TokenVotes:
        if self.votes is None:
            raise ValidationError("until: expected a run that applies the span labeling functions first, got none")
        return self.votes

    def _dev_gold(self) -> tuple[np.ndarray, list[list[tuple[int, int, str]]]]:
        rows = np.flatnonzero(self.items.dev)
        return rows, [self.items.gold[r] or [] for r in rows]

    def _record_spans(self, store: Store, result: RunResult, role: str, spans: list[list[tuple[int, int, str]]],
                      **extra: Any) -> int:
        rows = np.array([i for i, sentence in enumerate(spans) for _ in sentence], dtype=np.int64)
        flat = [s for sentence in spans for s in sentence]
        index = {t: i for i, t in enumerate(self.types)}
        return store.add_span_set(self.dataset_id, role, run_id=result.run_id, rows=rows,
                                  starts=[s for s, _, _ in flat], ends=[e for _, e, _ in flat],
                                  types=[index[t] for _, _, t in flat], entity_types=self.types, **extra)

    # ------------------------------------------------------------------ steps
    def apply(self, store: Store, result: RunResult) -> None:
        from ..sequence import apply_span_lfs

        sources = []
        for lf in self.lfs:
            func = lf.per_sentence if lf.per_sentence is not None else lf.func
            code = function_source(func) if func is not None else None
            store.add_source(lf.name, lf.fingerprint, kind="span_lf", code=code, params={"types": list(lf.types)})
            sources.append({"name": lf.name, "version": lf.fingerprint})
        sentences = SimpleNamespace(tokens=self.items.tokens, ids=list(map(str, self.ids)))
        votes, report = apply_span_lfs(self.lfs, sentences, entity_types=self.types,
                                       on_error=self.config.get("lfs", "on_error", "raise"))
        self.votes = votes
        sent = votes.sentence_of(votes.starts)
        base = votes.offsets[sent]
        set_id = store.add_span_set(
            self.dataset_id, "sources", run_id=result.run_id, rows=sent, starts=votes.starts - base,
            ends=votes.ends - base, types=votes.types, source=votes.sources, sources=sources,
            entity_types=self.types, tokens=self.items.tokens, producer="span LFs",
            metrics={"report": report.to_frame().reset_index().to_dict("records")})
        if self.items.has_gold.any():
            self._record_spans(store, result, "gold", [g or [] for g in self.items.gold], producer="data")
        result.metrics.update(sources_span_set_id=set_id, n_items=votes.n_sentences, n_sources=votes.n_sources,
                              n_spans=votes.n_spans, n_tokens=votes.n_tokens,
                              apply_report={"total_seconds": float(sum(report.seconds)),
                                            "n_faults": int(sum(report.faults.values()))})

    def analyse(self, store: Store, result: RunResult) -> None:
        from ..sequence import span_lf_summary

        rows, gold = self._dev_gold()
        if len(rows):
            summary = span_lf_summary(self.applied.subset(rows), gold)
            whole = span_lf_summary(self.applied)  # counts and coverage over every item, accuracy on the dev gold
            summary[["n_spans", "token_coverage", "overlap", "conflict"]] = whole[
                ["n_spans", "token_coverage", "overlap", "conflict"]]
        else:
            summary = span_lf_summary(self.applied)
        numeric = summary.drop(columns=["types"]).astype(np.float64)
        store.add_source_stats(result.run_id, numeric)
        result.summary = summary
        result.metrics["n_dev"] = len(rows)

    def fit(self, store: Store, result: RunResult) -> None:
        from ..sequence import MajorityVoteTagger, TaggingDataset, span_f1_report

        name = self.config.get("label_model", "name", DEFAULT_TAG_MODEL)
        params = dict(self.config.get("label_model", "params", {}))
        cls = tag_label_model_class(name)
        try:
            model = cls(**params)
        except TypeError as exc:
            raise fail("label_model.params", f"parameters of {cls.__name__}", got_text=str(exc)) from None
        votes = self.applied
        data = TaggingDataset(tokens=self.items.tokens, gold=None, votes=votes, ids=[str(v) for v in self.ids])
        model.fit(data)  # the dataset carries the tokens too, for models that read them
        proba = model.predict_proba(data)
        spans = model.predict_spans(data)
        self.proba, self.spans = proba, spans
        metrics: dict[str, Any] = {"class": name, "n_proposed": sum(map(len, spans))}
        rows, gold = self._dev_gold()
        if len(rows):
            mv = MajorityVoteTagger().fit(votes).predict_spans(votes.subset(rows))
            metrics["span_f1"] = span_f1_report([spans[r] for r in rows], gold)
            metrics["majority_vote_span_f1"] = span_f1_report(mv, gold)["micro"]["f1"]
        lm_id = store.add_label_model_run(result.run_id, model.to_state(), metrics=metrics)
        scores = least_token_confidence(proba, votes.offsets)
        set_id = self._record_spans(store, result, "label_model", spans,
                                    confidence=span_confidence(proba, votes, spans), tokens=self.items.tokens,
                                    scores=scores, producer=name, metrics=metrics)
        result.metrics.update(label_model=metrics, label_model_run_id=lm_id, proposed_span_set_id=set_id)

    def train(self, store: Store, result: RunResult) -> None:
        from ..sequence import CRFTagger, span_f1_report

        name = self.config.get("end_model", "name", "crf")
        if name == "none":
            result.metrics["end_model"] = {"name": "none"}
            return
        if self.proba is None or self.spans is None:
            raise ValidationError("until: expected a run that fits the tag label model first, got none")
        params = dict(self.config.get("end_model", "params", {}))
        votes = self.applied
        train = np.flatnonzero(~self.items.dev)
        tokens = [self.items.tokens[r] for r in train]
        take = np.concatenate([np.arange(votes.offsets[r], votes.offsets[r + 1]) for r in train]) if len(train) \
            else np.zeros(0, dtype=np.int64)
        labels, n_answered = self._with_answers(store, self.proba, train)
        tagger = CRFTagger(**params, random_state=self.project.random_state).fit(
            tokens, labels[take], entity_types=self.types)
        spans = tagger.predict_spans(self.items.tokens)
        metrics: dict[str, Any] = {"name": name, "n_train": len(train), "n_answered_used": n_answered}
        rows, gold = self._dev_gold()
        if len(rows):
            metrics["span_f1"] = span_f1_report([spans[r] for r in rows], gold)
            metrics["label_model_span_f1"] = span_f1_report([self.spans[r] for r in rows], gold)["micro"]["f1"]
        store.add_end_model_run(result.run_id, name, params=tagger.get_params(), metrics=metrics)
        self._record_spans(store, result, "end_model", spans, producer=name, metrics=metrics)
        result.metrics["end_model"] = metrics

    def _answered_spans(self, store: Store) -> dict[str, list[list[Any]]]:
        """The latest answered spans of each item people answered (skips left out), by item key."""
        answers = store.span_answers(self.dataset_id)
        given = answers[answers["status"] == "answered"]
        return {str(k): list(s) for k, s in zip(given["item_key"], given["spans"])}  # later answers win

    def _with_answers(self, store: Store, proba: np.ndarray, train: np.ndarray) -> tuple[np.ndarray, int]:
        """The label model's posteriors, with the tokens of answered training items set to people's spans."""
        answered = self._answered_spans(store)
        if not answered:
            return proba, 0
        out, votes, used = proba.copy(), self.applied, 0
        index = {t: i + 1 for i, t in enumerate(self.types)}
        for row in train.tolist():
            spans = answered.get(str(self.ids[row]))
            if spans is None:
                continue
            first = int(votes.offsets[row])
            block = np.zeros((int(votes.offsets[row + 1]) - first, len(self.types) + 1))
            block[:, 0] = 1.0
            for start, end, kind in spans:
                block[start:end] = 0.0
                block[start:end, index[kind]] = 1.0
            out[first:first + len(block)] = block
            used += 1
        return out, used

    def issues(self, store: Store, result: RunResult) -> None:
        result.metrics["n_label_issues"] = 0  # label-issue detection is for whole-item labels

    def query(self, store: Store, result: RunResult) -> None:
        if self.proba is None:
            raise ValidationError("until: expected a run that fits the tag label model first, got none")
        scores = least_token_confidence(self.proba, self.applied.offsets)
        done = set(store.span_answers(self.dataset_id)["item_key"].astype(str))
        open_rows = np.array([str(v) not in done for v in self.ids.tolist()], dtype=bool) & ~self.items.dev
        order = [r for r in np.argsort(scores, kind="stable").tolist() if open_rows[r]]
        picked = self.ids[order[: int(self.config.get("query", "n", 20))]]
        result.query = [v.item() if isinstance(v, np.generic) else v for v in picked]
        result.metrics["query"] = result.query
