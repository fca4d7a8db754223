"""A CRF end model for tagging, trained on a label model's token labels (CRFsuite, ``weaklab[sequence]``).

CRFsuite trains on hard tag sequences and takes no per-token weights. The
label model's soft labels therefore enter as their most likely IO tag per
token (``predict_tags``/argmax of ``predict_proba``), learned as IO tags by
default (a run of one type is one span, as in the label models); with
``min_confidence`` set, sentences whose least confident token falls below it
are left out of training (a whole-sentence weight of 0 or 1, the only kind
CRFsuite supports). The model file CRFsuite writes is kept in the state as
bytes, so ``to_state``/``from_state`` need no pickle.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from .._core.constants import STATE_SCHEMA_VERSION
from .._core.state import check_state, to_jsonable
from .._core.validation import check_choice, check_float, check_int, fail
from ..errors import NotFittedError, missing_dependency
from .base import io_ids_to_spans
from .lfs import word_shape
from .spans import Span, spans_to_tags, tags_to_spans

__all__ = ["CRFTagger", "token_features", "sentence_vote_features", "marginal_features"]


def _word_features(tok: str, prefix: str, full: bool) -> dict[str, Any]:
    low = tok.lower()
    feats: dict[str, Any] = {f"{prefix}w": low, f"{prefix}shape": word_shape(tok)}
    if full:
        feats.update({
            f"{prefix}suf2": low[-2:], f"{prefix}suf3": low[-3:], f"{prefix}suf4": low[-4:],
            f"{prefix}pre2": low[:2], f"{prefix}pre3": low[:3], f"{prefix}title": tok.istitle(),
            f"{prefix}upper": tok.isupper(), f"{prefix}digit": any(c.isdigit() for c in tok),
            f"{prefix}hyphen": "-" in tok, f"{prefix}len": min(len(tok), 8),
        })
    return feats


def sentence_vote_features(votes: Any, i: int) -> list[dict[str, Any]]:
    """Vote features of the tokens of sentence ``i``: which source marks each token with which type.

    Examples
    --------
    >>> from weaklab.sequence import TokenVotes
    >>> v = TokenVotes.from_spans([[[(0, 2, "A")]]], [3], source_names=["s"], entity_types=["A"])
    >>> sentence_vote_features(v, 0)
    [{'v:s': 'B-A', 'vt:A': 1.0}, {'v:s': 'I-A', 'vt:A': 1.0}, {}]
    """
    n = int(votes.offsets[i + 1] - votes.offsets[i])
    out: list[dict[str, Any]] = [{} for _ in range(n)]
    for source, spans in votes.sentence_spans(i).items():
        for start, end, typ in spans:
            for k in range(start, end):
                out[k][f"v:{source}"] = ("B-" if k == start else "I-") + typ
                out[k][f"vt:{typ}"] = out[k].get(f"vt:{typ}", 0.0) + 1.0
    return out


def marginal_features(proba: np.ndarray, *, floor: float = 0.01) -> list[dict[str, float]]:
    """A label model's posterior of each token (and of its neighbours) as real-valued features.

    Parameters
    ----------
    proba : ndarray of shape (n_tokens, n_columns)
        The posteriors of one sentence's tokens (column 0 = ``O``).
    floor : float, default 0.01
        Smaller probabilities are left out (sparse features).

    Returns
    -------
    list of dict

    Examples
    --------
    >>> marginal_features(np.array([[0.2, 0.8], [1.0, 0.0]]))
    [{'lm0': 0.2, 'lm1': 0.8, '+1:lm0': 1.0}, {'lm0': 1.0, '-1:lm0': 0.2, '-1:lm1': 0.8}]
    """
    proba = np.asarray(proba, dtype=float)
    own = [{f"lm{k}": round(float(p), 4) for k, p in enumerate(row) if p >= floor} for row in proba]
    out = []
    for i, feats in enumerate(own):
        f = dict(feats)
        if i + 1 < len(own):
            f.update({f"+1:{k}": v for k, v in own[i + 1].items()})
        if i > 0:
            f.update({f"-1:{k}": v for k, v in own[i - 1].items()})
        out.append(f)
    return out


def token_features(tokens: Sequence[str], *, window: int = 2,
                   vote_features: Sequence[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """CRF features of each token: word, shape, affixes, casing, and its neighbours' words and shapes.

    Parameters
    ----------
    tokens : sequence of str
    window : int, default 2
        Neighbours on each side whose word and shape are features.
    vote_features : list of dict, optional
        Per-token vote features (:func:`sentence_vote_features`); the neighbours' types voted are added too.

    Returns
    -------
    list of dict

    Examples
    --------
    >>> f = token_features(["Aspirin", "works"], window=1)
    >>> f[0]["w"], f[0]["suf3"], f[0]["shape"], f[0]["+1:w"], f[0]["BOS"]
    ('aspirin', 'rin', 'Xx', 'works', True)
    """
    n = len(tokens)
    out = []
    for i, tok in enumerate(tokens):
        feats = {"bias": 1.0, **_word_features(tok, "", True)}
        for d in range(1, window + 1):
            for sign, j in (("-", i - d), ("+", i + d)):
                if 0 <= j < n:
                    feats.update(_word_features(tokens[j], f"{sign}{d}:", d == 1))
        feats["BOS"], feats["EOS"] = i == 0, i == n - 1
        if vote_features is not None:
            feats.update(vote_features[i])
            for sign, j in (("-", i - 1), ("+", i + 1)):
                if 0 <= j < n:
                    feats.update({f"{sign}1:{k}": v for k, v in vote_features[j].items() if k.startswith("vt:")})
        out.append(feats)
    return out


def _pycrfsuite() -> Any:
    try:
        import pycrfsuite
    except ImportError:  # pragma: no cover - depends on the environment
        raise missing_dependency("pycrfsuite", "sequence", "CRFTagger") from None
    return pycrfsuite


def _as_tag_sequences(tokens: list[list[str]], labels: Any, entity_types: Sequence[str] | None,
                      scheme: str = "bio") -> list[list[str]]:
    if isinstance(labels, np.ndarray):
        if labels.ndim != 2 or labels.shape[0] != sum(map(len, tokens)):
            raise fail("labels", f"an (n_tokens={sum(map(len, tokens))}, n_types + 1) probability array", labels)
        if entity_types is None or len(entity_types) != labels.shape[1] - 1:
            raise fail("entity_types", f"{labels.shape[1] - 1} type names (columns 1.. of labels)", entity_types)
        offsets = np.concatenate([[0], np.cumsum([len(t) for t in tokens])])
        labels = io_ids_to_spans(np.argmax(labels, axis=1), offsets, tuple(entity_types))
    if len(labels) != len(tokens):
        raise fail("labels", f"one span list per sentence ({len(tokens)})", labels)
    return [spans_to_tags(spans, len(toks), scheme=scheme) for toks, spans in zip(tokens, labels)]


class CRFTagger(BaseEstimator):
    """Linear-chain CRF over word, shape, affix and context features (CRFsuite, L-BFGS, elastic net).

    Parameters
    ----------
    c1, c2 : float, default 0.05, 0.05
        L1 and L2 penalties.
    max_iterations : int, default 100
        L-BFGS iterations.
    window : int, default 2
        Context tokens on each side used as features.
    min_confidence : float, default 0.0
        Train only on sentences whose every token's label confidence is at least this (with soft labels).
    use_votes : bool, default False
        Also use the sources' votes on each token (and the types voted on its neighbours) as features;
        ``fit`` and the predict methods then need ``votes`` (a TokenVotes of the same sentences).
    scheme : {"io", "bio"}, default "io"
        The tags the CRF learns. ``"io"``, the label models' scheme: a run of one type is one span (adjacent
        spans of one type merge, as they do in the label models' output); ``"bio"`` keeps them apart (for
        labels that separate them, such as gold spans).
    use_marginals : bool, default False
        Also use a label model's posterior of each token and its neighbours as features
        (:func:`marginal_features`); ``fit`` takes them from ``labels`` when those are posteriors, and the
        predict methods need ``marginals`` (the label model's ``predict_proba`` on the new sentences).
    random_state : None
        Accepted for the common contract; CRFsuite's L-BFGS is deterministic.

    Attributes
    ----------
    model_ : ndarray of uint8
        The CRFsuite model file's bytes.
    labels_ : list of str
        Tags seen in training (IO or BIO, per ``scheme``).
    n_train_sentences_ : int

    Examples
    --------
    >>> X = [["aspirin", "helps"], ["take", "ibuprofen"], ["aspirin", "now"]] * 5
    >>> y = [[(0, 1, "Chem")], [(1, 2, "Chem")], [(0, 1, "Chem")]] * 5
    >>> crf = CRFTagger(max_iterations=20).fit(X, y)
    >>> crf.predict_spans([["aspirin", "again"]])
    [[(0, 1, 'Chem')]]
    """

    def __init__(self, c1: float = 0.05, c2: float = 0.05, max_iterations: int = 100, window: int = 2,
                 min_confidence: float = 0.0, use_votes: bool = False, use_marginals: bool = False,
                 scheme: str = "io", random_state: Any = None) -> None:
        self.c1 = c1
        self.c2 = c2
        self.max_iterations = max_iterations
        self.window = window
        self.min_confidence = min_confidence
        self.use_votes = use_votes
        self.use_marginals = use_marginals
        self.scheme = scheme
        self.random_state = random_state

    def fit(self, tokens: Sequence[Sequence[str]], labels: Any, *,
            entity_types: Sequence[str] | None = None, votes: Any = None, marginals: Any = None) -> CRFTagger:
        """Train on sentences and their labels.

        Parameters
        ----------
        tokens : sequence of sequence of str
        labels : list of list of (start, end, type), or ndarray of shape (n_tokens, n_types + 1)
            Spans per sentence, or a label model's per-token IO posteriors (flat, sentence after sentence;
            column 0 = ``O``), used through their argmax.
        entity_types : sequence of str, optional
            Type names of the posterior columns 1.. (required with an array).
        votes : TokenVotes, optional
            The sources' votes on these sentences (required with ``use_votes=True``).
        marginals : ndarray of shape (n_tokens, n_columns), optional
            A label model's posteriors on these sentences for ``use_marginals=True`` (default: ``labels``
            when it is an array).

        Returns
        -------
        self
        """
        pycrfsuite = _pycrfsuite()
        check_float("c1", self.c1, low=0.0)
        check_float("c2", self.c2, low=0.0)
        check_int("max_iterations", self.max_iterations, low=1)
        check_int("window", self.window, low=0)
        check_float("min_confidence", self.min_confidence, low=0.0, high=1.0)
        check_choice("scheme", self.scheme, ("io", "bio"))
        toks = [list(map(str, t)) for t in tokens]
        if marginals is None and isinstance(labels, np.ndarray):
            marginals = labels
        if self.use_marginals:
            self.n_marginal_columns_ = int(np.shape(marginals)[1]) if np.ndim(marginals) == 2 else -1
        keep = self._confident(toks, labels)
        tags = _as_tag_sequences(toks, labels, entity_types, self.scheme)
        trainer = pycrfsuite.Trainer(verbose=False)
        n = 0
        for t, y, k, f in zip(toks, tags, keep, self._features(toks, votes, marginals)):
            if k and t:
                trainer.append(f, y)
                n += 1
        if n == 0:
            raise fail("labels", "at least one non-empty training sentence", got_text="none left")
        trainer.set_params({"c1": float(self.c1), "c2": float(self.c2), "max_iterations": int(self.max_iterations),
                            "feature.possible_transitions": True})
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "model.crfsuite")
            trainer.train(path)
            with open(path, "rb") as fh:
                self.model_ = np.frombuffer(fh.read(), dtype=np.uint8).copy()
        self.labels_ = sorted({tag for y in tags for tag in y})
        self.n_train_sentences_ = n
        return self

    def _confident(self, tokens: list[list[str]], labels: Any) -> list[bool]:
        if not isinstance(labels, np.ndarray) or self.min_confidence <= 0:
            return [True] * len(tokens)
        conf = labels.max(axis=1)
        offsets = np.concatenate([[0], np.cumsum([len(t) for t in tokens])]).astype(np.int64)
        return [bool(conf[a:b].min(initial=1.0) >= self.min_confidence) for a, b in itertools.pairwise(offsets)]

    def _features(self, tokens: list[list[str]], votes: Any, marginals: Any) -> Any:
        """Feature dicts of each sentence, lazily (one sentence at a time)."""
        if self.use_votes:
            votes = getattr(votes, "votes", votes)
            if votes is None or getattr(votes, "n_sentences", None) != len(tokens):
                raise fail("votes", f"the TokenVotes of these {len(tokens)} sentences (use_votes=True)", votes)
        offsets = np.concatenate([[0], np.cumsum([len(t) for t in tokens])]).astype(np.int64)
        if self.use_marginals:
            marginals = self._check_marginals(marginals, int(offsets[-1]))
        for i, t in enumerate(tokens):
            vf = sentence_vote_features(votes, i) if self.use_votes else None
            feats = token_features(t, window=self.window, vote_features=vf)
            if self.use_marginals:
                for f, m in zip(feats, marginal_features(marginals[offsets[i]:offsets[i + 1]])):
                    f.update(m)
            yield feats

    def _check_marginals(self, marginals: Any, n_tokens: int) -> np.ndarray:
        columns = getattr(self, "n_marginal_columns_", -1)
        arr = None if marginals is None else np.asarray(marginals, dtype=float)
        if arr is None or arr.ndim != 2 or arr.shape[0] != n_tokens or (columns > 0 and arr.shape[1] != columns):
            want = f"(n_tokens={n_tokens}, {columns if columns > 0 else 'n_types + 1'})"
            raise fail("marginals", f"a label model's posteriors of shape {want} (use_marginals=True)", marginals)
        return arr

    def _tagger(self) -> Any:
        if not hasattr(self, "model_"):
            raise NotFittedError("CRFTagger is not fitted yet; call fit(tokens, labels) first")
        tagger = _pycrfsuite().Tagger()
        # CRFsuite reads the model from this buffer while the tagger lives: keep it referenced alongside
        self._model_buffer = self.model_.tobytes()
        tagger.open_inmemory(self._model_buffer)
        return tagger

    def predict_tags(self, tokens: Sequence[Sequence[str]], *, votes: Any = None,
                     marginals: Any = None) -> list[list[str]]:
        """Most likely tag sequence (IO or BIO, per ``scheme``) of each sentence."""
        tagger = self._tagger()
        toks = [list(map(str, t)) for t in tokens]
        return [tagger.tag(f) if t else [] for t, f in zip(toks, self._features(toks, votes, marginals))]

    def predict_spans(self, tokens: Sequence[Sequence[str]], *, votes: Any = None,
                      marginals: Any = None) -> list[list[Span]]:
        """Predicted spans of each sentence.

        Parameters
        ----------
        tokens : sequence of sequence of str
        votes : TokenVotes, optional
            The sources' votes on these sentences (required with ``use_votes=True``).
        marginals : ndarray of shape (n_tokens, n_types + 1), optional
            The label model's posteriors on these sentences (required with ``use_marginals=True``).

        Returns
        -------
        list of list of (int, int, str)
        """
        return [tags_to_spans(tags) for tags in self.predict_tags(tokens, votes=votes, marginals=marginals)]

    def predict_proba(self, tokens: Sequence[Sequence[str]], *, votes: Any = None,
                      marginals: Any = None) -> list[np.ndarray]:
        """Marginal probability of each tag (columns in ``labels_`` order), one array per sentence."""
        tagger = self._tagger()
        out = []
        toks = [list(map(str, t)) for t in tokens]
        for t, f in zip(toks, self._features(toks, votes, marginals)):
            tagger.set(f)
            out.append(np.array([[tagger.marginal(y, i) for y in self.labels_] for i in range(len(t))])
                       .reshape(len(t), len(self.labels_)))
        return out

    def to_state(self) -> dict[str, Any]:
        """Parameters, tags and the CRFsuite model bytes (no pickle)."""
        self._tagger()
        return {"schema_version": STATE_SCHEMA_VERSION, "class": "CRFTagger", "module": type(self).__module__,
                "params": to_jsonable(self.get_params(deep=False)),
                "attributes": {"labels_": list(self.labels_), "n_train_sentences_": int(self.n_train_sentences_),
                               "n_marginal_columns_": int(getattr(self, "n_marginal_columns_", -1))},
                "arrays": {"model_": self.model_}}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> CRFTagger:
        """Rebuild a fitted tagger from :meth:`to_state` output."""
        check_state(state, "CRFTagger")
        model = cls(**state["params"])
        model.labels_ = list(state["attributes"]["labels_"])
        model.n_train_sentences_ = int(state["attributes"]["n_train_sentences_"])
        if model.use_marginals:
            model.n_marginal_columns_ = int(state["attributes"].get("n_marginal_columns_", -1))
        model.model_ = np.asarray(state["arrays"]["model_"], dtype=np.uint8)
        return model
