"""Caption-like metadata for labelled images, with planted noise (the web-mining case)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._core.validation import check_float, check_random_state, fail

__all__ = ["NoisyCaptions", "make_captions", "FASHION_MNIST_SYNONYMS", "MNIST_SYNONYMS", "CAPTION_TEMPLATES"]

#: Words a person might use for each Fashion-MNIST class (class order of the data set).
FASHION_MNIST_SYNONYMS: tuple[tuple[str, ...], ...] = (
    ("t-shirt", "tee", "top"),
    ("trousers", "pants", "jeans"),
    ("pullover", "sweater", "jumper"),
    ("dress", "gown", "frock"),
    ("coat", "jacket", "parka"),
    ("sandal", "sandals", "flip-flops"),
    ("shirt", "blouse", "button-down"),
    ("sneaker", "sneakers", "trainers"),
    ("bag", "handbag", "purse"),
    ("ankle boot", "boots", "booties"),
)
#: Words for the MNIST digits.
MNIST_SYNONYMS: tuple[tuple[str, ...], ...] = tuple(
    (word, str(d), f"number {d}") for d, word in
    enumerate(("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"))
)
#: Caption patterns; ``{}`` is replaced by a synonym.
CAPTION_TEMPLATES: tuple[str, ...] = (
    "{}", "a {}", "photo of a {}", "new {} for sale", "my favourite {}", "{} - great condition",
    "cheap {} free shipping", "look at this {}!", "vintage {}", "{} in size M",
)


@dataclass(frozen=True)
class NoisyCaptions:
    """Captions and the truth planted in them.

    Attributes
    ----------
    captions : ndarray of object, shape (n,)
        A caption per item, or None where the caption is missing.
    caption_class : ndarray of int, shape (n,)
        The class whose synonym the caption uses (-1 where missing).
    wrong : ndarray of bool, shape (n,)
        Captions about another class than the item's.

    Examples
    --------
    >>> from weaklab.synthetic import make_captions
    >>> caps = make_captions([0, 1, 1, 0, 1, 0], [("shirt", "tee"), ("shoe", "sneaker")], random_state=1)
    >>> type(caps).__name__, len(caps.captions), caps.caption_class.shape, caps.wrong.dtype
    ('NoisyCaptions', 6, (6,), dtype('bool'))
    """

    captions: np.ndarray
    caption_class: np.ndarray
    wrong: np.ndarray


def make_captions(labels: Any, synonyms: Sequence[Sequence[str]] | Mapping[int, Sequence[str]], *,
                  missing_rate: float = 0.2, wrong_rate: float = 0.1,
                  templates: Sequence[str] = CAPTION_TEMPLATES, random_state: Any = None) -> NoisyCaptions:
    """Captions derived from class names with missing and wrong captions at known rates.

    Each item independently: with probability ``missing_rate`` it has no
    caption; otherwise, with probability ``wrong_rate``, the caption is
    about a class drawn uniformly from the *other* classes; the caption is a
    random template filled with a random synonym of the (true or wrong)
    class. So ``(1 - missing_rate) * wrong_rate`` of all items carry a wrong
    caption, and a keyword rule that reads the captions is at best
    ``1 - wrong_rate`` accurate on the items it covers.

    Parameters
    ----------
    labels : array-like of int, shape (n,)
        True class ids ``0..k-1``.
    synonyms : sequence (or mapping by class id) of sequences of str
        Words for each class, e.g. :data:`FASHION_MNIST_SYNONYMS`.
    missing_rate, wrong_rate : float in [0, 1]
    templates : sequence of str
        Patterns holding one ``{}``.
    random_state : int, Generator or None

    Returns
    -------
    NoisyCaptions

    Examples
    --------
    >>> caps = make_captions([0, 1, 1, 0], [("cat", "kitten"), ("dog",)], missing_rate=0.0, wrong_rate=0.0,
    ...                      templates=("a {}",), random_state=0)
    >>> caps.captions.tolist()[1:3], bool(caps.wrong.any())
    (['a dog', 'a dog'], False)
    """
    y = np.asarray(labels)
    if y.ndim != 1 or y.dtype.kind not in "iu" or (y.size and y.min() < 0):
        raise fail("labels", "class ids 0..k-1 of shape (n,)", y)
    words = [tuple(synonyms[c]) for c in range(len(synonyms))]
    k = len(words)
    if k < 2 or any(not w or not all(isinstance(s, str) and s for s in w) for w in words):
        raise fail("synonyms", "at least two classes, each with one or more non-empty words", synonyms)
    if y.size and y.max() >= k:
        raise fail("labels", f"class ids below {k} (one synonym list per class)", got_text=f"max {int(y.max())}")
    if not templates or any(t.count("{}") != 1 for t in templates):
        raise fail("templates", "patterns holding exactly one '{}'", templates)
    missing_rate = check_float("missing_rate", missing_rate, low=0.0, high=1.0)
    wrong_rate = check_float("wrong_rate", wrong_rate, low=0.0, high=1.0)
    rng = check_random_state(random_state)
    n = y.size
    missing = rng.random(n) < missing_rate
    wrong = ~missing & (rng.random(n) < wrong_rate)
    cls = y.astype(np.int64).copy()
    cls[wrong] = (y[wrong] + rng.integers(1, k, int(wrong.sum()))) % k  # uniform over the other classes
    word_pick, template_pick = rng.random(n), rng.integers(0, len(templates), n)
    captions = np.empty(n, dtype=object)
    for i in np.flatnonzero(~missing):
        options = words[cls[i]]
        captions[i] = templates[template_pick[i]].format(options[int(word_pick[i] * len(options))])
    cls[missing] = -1
    return NoisyCaptions(captions, cls, wrong)
