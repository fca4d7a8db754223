"""The family of synthetic label matrices HyperLabelModel is trained on (developer tool, needs numpy only).

One call of :func:`sample_task` draws a whole task: ``k`` in 2..10, an
imbalanced class prior, 150-3,000 items and one of four shapes:

* ``lf``: 3-150 labeling functions, mostly one-class ("unipolar") with
  precision 0.3-0.98 and recall 0.3 %-60 %, the rest multi-class with low
  coverage; items differ in *salience*, so LFs fire together on some items;
* ``crowd``: 3-1,000 workers with heavy-tailed workloads (1.5-10 answers
  per item), class-dependent confusion matrices, spammers, a few
  adversaries, and item difficulty that makes errors agree across workers;
* ``dense``: 3-40 multi-class sources with coverage 0.3-1 (model-like sources);
* ``mixed``: LFs plus a few dense sources;
* ``clean``: 3-40 independent "one-coin" sources (errors spread evenly over
  the other classes), accuracy 0.3-0.95 and coverage 0.1-1, the textbook
  Dawid-Skene setting;
* ``topic``: 5-200 sparse one-class LFs, k mostly 4-10, written against
  *sub-topics*: every class splits into 1-8 sub-topics and every item has
  one; an LF for class c fires on one or two sub-topics of c (recall within
  them 5-90 %) and leaks into a few sub-topics of other classes (precision
  0.25-0.98). LFs of one class then rarely fire together, so an LF's
  abstention says little about the class (unlike the independent ``lf``
  kind, where it is evidence), the shape of WRENCH TREC, SemEval or
  ChemProt;
* ``uninformative``: multi-class sources better than random whose
  abstentions are drawn independently of the class (so the abstention
  pattern carries no class information at all);
* ``independent``: 3-60 labeling functions that are independent given the
  class (no item salience, no sub-topics), the textbook model of Snorkel's
  label model: one-class LFs (20-100 % of them) for every class in turn
  from a random start, so binary tasks have LFs of both polarities, with
  coverage 1-50 % and precision 0.3-0.95 (below the class prior too: such
  an LF misleads), and multi-class LFs firing at a rate that does not
  depend on the class. A one-class LF's abstention is then evidence
  against its class, the more so the wider its coverage.

In ``lf`` and ``topic`` tasks, half the time the classes also differ in
*firing propensity*: every LF fires on the items of class c at a rate
scaled by a per-class factor (some classes are simply covered more).

Elsewhere, confusion matrices spread errors evenly in 40 % of the sources
and concentrate them on a few classes in the rest.

Correlated near-copies of some sources are added to a third of the tasks,
and a quarter of the tasks reveal a few gold labels (1-200 random items).

Two families mix the kinds differently (:data:`FAMILIES`): ``v1`` has no
``independent`` tasks and trained the shipped weights; ``v2`` gives them
15 % of the tasks. ``v1`` draws exactly what this module drew before
``v2`` existed, so its weights stay reproducible from their seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

KINDS = ("lf", "crowd", "dense", "mixed", "clean", "topic", "uninformative", "independent")
# The mix of task kinds of each family: "v1" (no ``independent`` tasks) trained the shipped weights 765a578fb481ea52.
FAMILIES = {
    "v1": (0.22, 0.2, 0.08, 0.1, 0.08, 0.26, 0.06, 0.0),
    "v2": (0.18, 0.18, 0.07, 0.08, 0.07, 0.22, 0.05, 0.15),
}
DEFAULT_FAMILY = "v1"
_K_WEIGHTS = np.array([5.0, 3.5, 2.5, 2.0, 1.5, 1.3, 1.2, 1.1, 1.1])
MAX_VOTES = 80_000


@dataclass
class Task:
    votes: np.ndarray  # (n, m) int16, -1 = abstain
    y: np.ndarray  # (n,)
    gold: np.ndarray  # (n,), -1 where unknown
    k: int
    kind: str


def _loguniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def _prior(rng: np.random.Generator, k: int) -> np.ndarray:
    if rng.random() < 0.25:
        return np.full(k, 1.0 / k)
    p = rng.dirichlet(np.full(k, _loguniform(rng, 0.3, 20.0)))
    p = np.maximum(p, 0.01)
    return p / p.sum()


def _salience(rng: np.random.Generator, y: np.ndarray, k: int) -> np.ndarray:
    """Per-item firing multiplier: item salience (half the time) times a per-class propensity (half the time)."""
    n = y.size
    s = np.ones(n) if rng.random() < 0.5 else rng.lognormal(0.0, rng.uniform(0.3, 1.2), n)
    if rng.random() < 0.5:
        s = s * rng.lognormal(0.0, rng.uniform(0.3, 1.0), k)[y]
    return s / s.mean()


def _unipolar_lf(rng, y, prior, sal, k) -> np.ndarray:
    c = int(rng.choice(k, p=0.5 * prior + 0.5 / k))
    precision = rng.uniform(0.1, 0.4) if rng.random() < 0.07 else rng.uniform(0.3, 0.98)
    recall = _loguniform(rng, 0.003, 0.6)
    pc = prior[c]
    false_rate = pc * recall * (1 - precision) / (precision * (1 - pc))
    spread = rng.dirichlet(np.full(k, 0.4))
    spread[c] = 0.0
    spread = spread / max(spread.sum(), 1e-12) * (k - 1)
    rate = np.where(y == c, recall, false_rate * spread[y]) * sal
    fire = rng.random(y.size) < np.clip(rate, 0.0, 1.0)
    return np.where(fire, c, -1)


def _confusion(rng, k: int, acc: float, jitter: float, concentration: float) -> np.ndarray:
    if rng.random() < 0.4:  # errors spread evenly
        jitter, concentration = jitter / 4, 50.0
    diag = np.clip(acc + rng.normal(0.0, jitter, k), 0.02, 0.995)
    off = rng.dirichlet(np.full(k - 1, concentration), size=k)
    C = np.zeros((k, k))
    for c in range(k):
        C[c, np.arange(k) != c] = off[c] * (1 - diag[c])
        C[c, c] = diag[c]
    return C


def _draw(rng, C: np.ndarray, y: np.ndarray) -> np.ndarray:
    cum = np.cumsum(C[y], axis=1)
    u = rng.random(y.size)[:, None]
    return np.minimum((u > cum).sum(axis=1), C.shape[0] - 1)


def _multiclass_source(rng, y, k, coverage, acc, hard=None, hard_conf=None) -> np.ndarray:
    C = _confusion(rng, k, acc, 0.08, rng.uniform(0.3, 2.0))
    v = _draw(rng, C, y)
    if hard is not None:
        confused = rng.random(y.size) < hard
        v = np.where(confused, _draw(rng, hard_conf, y), v)
    return np.where(rng.random(y.size) < coverage, v, -1)


def _lf_sources(rng, y, prior, k, m) -> list[np.ndarray]:
    sal = _salience(rng, y, k)
    unipolar = rng.uniform(0.5, 1.0)
    out = []
    for _ in range(m):
        if rng.random() < unipolar:
            out.append(_unipolar_lf(rng, y, prior, sal, k))
        else:
            cov = _loguniform(rng, 0.01, 0.6)
            acc = rng.uniform(max(0.2, 1.0 / k), 0.95)
            out.append(_multiclass_source(rng, y, k, np.clip(cov * sal, 0, 1), acc))
    return out


def _topic_lf(rng, y, topic, owner, k, sal) -> np.ndarray:
    """A one-class LF written for one or two sub-topics of its class, leaking into a few of other classes."""
    n_topics = owner.size
    c = int(rng.integers(k))
    own = np.flatnonzero(owner == c)
    home = rng.choice(own, size=min(own.size, 1 + int(rng.random() < 0.3)), replace=False)
    recall = rng.uniform(0.05, 0.9)
    rate = np.zeros(n_topics)
    rate[home] = recall
    precision = rng.uniform(0.1, 0.4) if rng.random() < 0.07 else rng.uniform(0.25, 0.98)
    others = np.flatnonzero(owner != c)
    true_mass = float(np.bincount(topic, minlength=n_topics)[home].sum()) * recall
    leak = rng.choice(others, size=min(others.size, int(rng.integers(1, 4))), replace=False)
    leak_items = float(np.bincount(topic, minlength=n_topics)[leak].sum())
    if leak_items > 0:
        rate[leak] = min(1.0, true_mass * (1 - precision) / precision / leak_items)
    fire = rng.random(y.size) < np.clip(rate[topic] * sal, 0.0, 1.0)
    return np.where(fire, c, -1)


def _topic_sources(rng, y, k, m) -> list[np.ndarray]:
    per_class = rng.integers(1, 9, k)
    owner = np.repeat(np.arange(k), per_class)
    topic = np.empty(y.size, dtype=np.int64)
    for c in range(k):
        idx = np.flatnonzero(y == c)
        share = rng.dirichlet(np.full(per_class[c], 1.0))
        topic[idx] = np.flatnonzero(owner == c)[rng.choice(per_class[c], idx.size, p=share)]
    sal = _salience(rng, y, k)
    return [_topic_lf(rng, y, topic, owner, k, sal) for _ in range(m)]


def _uninformative_sources(rng, y, k, m) -> list[np.ndarray]:
    out = []
    for _ in range(m):
        acc = rng.uniform(1.0 / k + 0.05, 0.95)
        C = _confusion(rng, k, acc, 0.05, rng.uniform(0.3, 2.0))
        out.append(np.where(rng.random(y.size) < _loguniform(rng, 0.05, 1.0), _draw(rng, C, y), -1))
    return out


def _independent_sources(rng, y, prior, k, m) -> list[np.ndarray]:
    """LFs independent given the class: one-class ones dealt round-robin over the classes, the rest multi-class."""
    one_class = rng.random(m) < rng.uniform(0.2, 1.0)
    target = (int(rng.integers(k)) + np.arange(m)) % k
    out = []
    for j in range(m):
        cov = _loguniform(rng, 0.01, 0.5)
        if one_class[j]:
            c = int(target[j])
            precision = rng.uniform(0.3, 0.95)
            alpha = min(1.0, cov * precision / prior[c])
            beta = min(1.0, cov * (1 - precision) / (1 - prior[c]))
            fire = rng.random(y.size) < np.where(y == c, alpha, beta)
            out.append(np.where(fire, c, -1))
        else:
            acc = rng.uniform(max(0.3, 1.0 / k + 0.05), 0.95)
            out.append(_multiclass_source(rng, y, k, cov, acc))
    return out


def _worker_accuracy(rng, k: int) -> tuple[float, bool]:
    u = rng.random()
    if u < 0.6:
        return rng.uniform(0.65, 0.97), False
    if u < 0.85:
        return rng.uniform(1.0 / k, 0.65), False
    if u < 0.97:
        return 1.0 / k, True  # spammer
    return rng.uniform(0.0, 1.0 / k), False  # adversary


def _crowd_sources(rng, y, k, m) -> list[np.ndarray]:
    n = y.size
    redundancy = rng.uniform(1.5, 10.0)
    load = rng.pareto(1.2, m) + 1.0
    coverage = np.minimum(1.0, redundancy * load / load.sum())
    hard = rng.beta(0.5, 3.0, n) if rng.random() < 0.5 else None
    hard_conf = _confusion(rng, k, 0.3, 0.1, 0.5) if hard is not None else None
    out = []
    for j in range(m):
        acc, spam = _worker_accuracy(rng, k)
        if spam:
            fixed = rng.random() < 0.5
            v = np.full(n, rng.integers(k)) if fixed else rng.integers(0, k, n)
            out.append(np.where(rng.random(n) < coverage[j], v, -1))
        else:
            out.append(_multiclass_source(rng, y, k, coverage[j], acc, hard, hard_conf))
    return out


def _dense_sources(rng, y, k, m) -> list[np.ndarray]:
    return [_multiclass_source(rng, y, k, rng.uniform(0.3, 1.0), rng.uniform(max(0.2, 1.0 / k), 0.95))
            for _ in range(m)]


def _clean_sources(rng, y, k, m) -> list[np.ndarray]:
    out = []
    for _ in range(m):
        acc = rng.uniform(0.3, 0.95)
        wrong = (y + rng.integers(1, k, y.size)) % k
        v = np.where(rng.random(y.size) < acc, y, wrong)
        out.append(np.where(rng.random(y.size) < rng.uniform(0.1, 1.0), v, -1))
    return out


def _copies(rng, sources: list[np.ndarray], k: int) -> list[np.ndarray]:
    out = list(sources)
    for _ in range(int(rng.integers(1, 4))):
        base = sources[int(rng.integers(len(sources)))]
        for _ in range(int(rng.integers(1, 6))):
            keep = rng.uniform(0.85, 1.0)
            noisy = rng.random(base.size) > keep
            copy = np.where(noisy & (rng.random(base.size) < 0.5), -1, base)
            flip = noisy & (copy >= 0)
            copy = np.where(flip, rng.integers(0, k, base.size), copy)
            out.append(copy)
    return out


def sample_task(rng: np.random.Generator, family: str = DEFAULT_FAMILY) -> Task:
    """Draw one synthetic task (votes, truth, revealed gold) of a family of :data:`FAMILIES`."""
    if family == "v1":  # the draw of the family's first version, kept so its weights stay reproducible
        kind = str(rng.choice(KINDS[:-1], p=FAMILIES["v1"][:-1]))
    else:
        kind = str(rng.choice(KINDS, p=FAMILIES[family]))
    k_weights = _K_WEIGHTS if kind != "topic" else _K_WEIGHTS[::-1]
    k = int(rng.choice(np.arange(2, 11), p=k_weights / k_weights.sum()))
    prior = _prior(rng, k)
    n = int(_loguniform(rng, 150, 3000))
    y = rng.choice(k, n, p=prior)
    if kind == "lf":
        sources = _lf_sources(rng, y, prior, k, int(_loguniform(rng, 3, 150)))
    elif kind == "crowd":
        sources = _crowd_sources(rng, y, k, int(_loguniform(rng, 3, 1000)))
    elif kind == "dense":
        sources = _dense_sources(rng, y, k, int(_loguniform(rng, 3, 40)))
    elif kind == "clean":
        sources = _clean_sources(rng, y, k, int(_loguniform(rng, 3, 40)))
    elif kind == "topic":
        sources = _topic_sources(rng, y, k, int(_loguniform(rng, 5, 200)))
    elif kind == "independent":
        sources = _independent_sources(rng, y, prior, k, int(_loguniform(rng, 3, 60)))
    elif kind == "uninformative":
        sources = _uninformative_sources(rng, y, k, int(_loguniform(rng, 3, 60)))
    else:
        sources = _lf_sources(rng, y, prior, k, int(_loguniform(rng, 3, 80)))
        sources += _dense_sources(rng, y, k, int(rng.integers(1, 4)))
    if rng.random() < 0.35:
        sources = _copies(rng, sources, k)
    votes = np.stack(sources, axis=1).astype(np.int16)
    order = rng.permutation(votes.shape[1])
    votes = votes[:, order]
    n_votes = int((votes >= 0).sum())
    if n_votes > MAX_VOTES:  # keep training matrices small: drop items
        keep = max(50, int(n * MAX_VOTES / n_votes))
        votes, y = votes[:keep], y[:keep]
    gold = np.full(y.size, -1)
    if rng.random() < 0.25:
        g = min(y.size // 5, int(_loguniform(rng, 1, 200)))
        idx = rng.choice(y.size, size=max(g, 1), replace=False)
        gold[idx] = y[idx]
    return Task(votes=votes, y=y, gold=gold, k=k, kind=kind)
