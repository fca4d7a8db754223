"""The main job: weak supervision end to end on the bundled YouTube comments.

Runs as ``weaklab demo`` (and ``make demo``): split the comments into an
unlabelled training pool, a small gold seed set and a held-out test set;
apply the demo's labeling functions; analyse them; combine them with the
default label model (AutoLabelModel, without gold, shown beside majority
vote) into soft labels; train a TF-IDF + logistic-regression end model on
those soft labels; and compare with the same model trained on gold labels.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from .._core.validation import check_float, check_int
from ..data import load_youtube_spam
from ..endmodel import SoftLabelClassifier
from ..labeling import ApplyReport, apply_lfs, lf_summary
from ..models import AutoLabelModel, LabelModel, MajorityVote
from .lfs import SPAM, add_demo_features, spam_lfs

__all__ = ["DemoResult", "SpamDemo"]


@dataclass
class DemoResult:
    """What the demo measured (filled in step by step).

    Attributes
    ----------
    sizes : dict of str to int
        Items in the ``seed``, ``train`` and ``test`` parts.
    summary : pandas.DataFrame or None
        The sources' summary (``lf_summary``) on the train part.
    report : ApplyReport or None
        How applying the labeling functions went.
    label_model : dict of str to float
        The label model's and majority vote's accuracies on the test part.
    label_model_choice : str
        What ``AutoLabelModel`` chose.
    end_model : dict of str to float
        The end model's accuracies (trained on weak labels and on the seed gold).
    seconds : dict of str to float
        Time per step.
    run_id : int or None
        The run recorded in the store, if one was given.
    store_path : str or None
        That store's file.
    example_item : object
        An item id to try ``weaklab explain`` on.
    alerts : list of Alert
        Alerts the run raised.

    Examples
    --------
    >>> from weaklab.pipeline import SpamDemo
    >>> result = SpamDemo(random_state=0).run()
    >>> type(result).__name__, sorted(result.sizes)
    ('DemoResult', ['seed', 'test', 'train'])
    >>> result.end_model["weak_accuracy"] > result.label_model["majority_accuracy_all"]
    True
    """

    sizes: dict[str, int] = field(default_factory=dict)
    summary: pd.DataFrame | None = None
    report: ApplyReport | None = None
    label_model: dict[str, float] = field(default_factory=dict)
    label_model_choice: str = ""
    end_model: dict[str, float] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    run_id: int | None = None
    store_path: str | None = None
    example_item: Any = None
    alerts: list[Any] = field(default_factory=list)


class SpamDemo:
    """The demo as a sequence of named steps, so a caller can show progress.

    Parameters
    ----------
    test_size : float, default=0.3
        Share of comments held out with gold labels for evaluation.
    seed_size : int, default=60
        Gold comments given to the sources (a knowledge base of spamming
        authors and a small model-based source are built from them).
    random_state : int, default=0
        Seed of the splits and of tie-breaking.
    n_jobs : int, default=1
        Processes for row-wise labeling functions.
    store : str or Path, optional
        Record the run in the store at this DuckDB file (one run per
        :meth:`run`): the comments as dataset (ids = comment ids), the
        sources, label matrix, label model, soft labels, end model and alerts.

    Examples
    --------
    >>> from weaklab.pipeline import SpamDemo
    >>> demo = SpamDemo(random_state=0)
    >>> for name, step in demo.steps():
    ...     print(name)
    ...     step()
    Loading the bundled YouTube comments
    Applying labeling functions
    Analysing the sources
    Fitting the label model (AutoLabelModel, beside majority vote)
    Training the end model on soft labels
    Training the same model on gold labels
    """

    def __init__(self, *, test_size: float = 0.3, seed_size: int = 60, random_state: int = 0,
                 n_jobs: int = 1, store: Any = None) -> None:
        self.test_size = check_float("test_size", test_size, low=0.05, high=0.8)
        self.seed_size = check_int("seed_size", seed_size, low=0, high=500)
        self.random_state = check_int("random_state", random_state, low=0)
        self.n_jobs = check_int("n_jobs", n_jobs, low=-1)
        self.store = store
        self.result = DemoResult()
        self._state: dict[str, Any] = {}

    def steps(self) -> Iterator[tuple[str, Callable[[], None]]]:
        """Yield ``(description, run)`` for every step, in order."""
        yield "Loading the bundled YouTube comments", self._load
        yield "Applying labeling functions", self._apply
        yield "Analysing the sources", self._analyse
        yield "Fitting the label model (AutoLabelModel, beside majority vote)", self._fit_label_model
        yield "Training the end model on soft labels", self._train_weak
        yield "Training the same model on gold labels", self._train_gold
        if self.store is not None:
            yield "Recording the run in the store", self._record

    def run(self) -> DemoResult:
        """Run every step and return the result."""
        for _, step in self.steps():
            step()
        return self.result

    # ------------------------------------------------------------------ steps
    def _timed(self, name: str, start: float) -> None:
        self.result.seconds[name] = time.perf_counter() - start

    def _load(self) -> None:
        start = time.perf_counter()
        comments = add_demo_features(load_youtube_spam()).set_index("comment_id", drop=False)
        rest, test = train_test_split(comments, test_size=self.test_size, random_state=self.random_state,
                                      stratify=comments["label"])
        train, seed = train_test_split(rest, test_size=self.seed_size or None, random_state=self.random_state,
                                       stratify=rest["label"]) if self.seed_size else (rest, rest.iloc[:0])
        self._state.update(train=train, seed=seed, test=test, comments=comments)
        self.result.sizes = {"train": len(train), "seed": len(seed), "test": len(test)}
        self._timed("load", start)

    def _apply(self) -> None:
        start = time.perf_counter()
        seed = self._state["seed"]
        lfs = spam_lfs(seed["text"], seed["label"], seed.loc[seed["label"] == SPAM, "author"])
        everything = pd.concat([self._state["train"], self._state["test"]])
        L, report = apply_lfs(lfs, everything, n_jobs=self.n_jobs, progress=False,
                              item_id="comment_id", n_classes=2, class_names=["HAM", "SPAM"])
        n_train = len(self._state["train"])
        self._state.update(lfs=lfs, L=L)
        self._state["L_train"] = L.select_items(np.arange(n_train))
        self._state["L_test"] = L.select_items(np.arange(n_train, L.n_items))
        self.result.report = report
        self._timed("apply", start)

    def _analyse(self) -> None:
        start = time.perf_counter()
        gold = self._state["test"]["label"].to_numpy()
        self.result.summary = lf_summary(self._state["L_test"], gold)
        self._timed("analyse", start)

    def _fit_label_model(self) -> None:
        start = time.perf_counter()
        L_train, L_test = self._state["L_train"], self._state["L_test"]
        gold = self._state["test"]["label"].to_numpy()
        with warnings.catch_warnings(record=True) as caught:  # a close call is reported, not printed mid-demo
            warnings.simplefilter("always", UserWarning)
            model = AutoLabelModel(random_state=self.random_state).fit(L_train)
        majority = MajorityVote().fit(L_train)
        self.result.label_model = {
            **self._scores(model, L_test, gold),
            **{f"majority_{k}": v for k, v in self._scores(majority, L_test, gold).items() if k != "coverage_test"},
        }
        self.result.label_model_choice = " + ".join(name for name, _ in model.members_) or model.selected_
        self._state["label_model_warnings"] = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
        self._state["soft_train"] = model.predict_proba(L_train)
        self._state["label_model"] = model
        self._state["covered_train"] = L_train.votes_per_item() > 0
        self._timed("label_model", start)

    def _scores(self, model: LabelModel, L: Any, gold: np.ndarray) -> dict[str, float]:
        """Coverage and accuracy (on covered and on all test comments, ties at random) of ``model``."""
        covered = L.votes_per_item() > 0
        pred = model.predict(L, tie_break="random", random_state=self.random_state)
        return {
            "coverage_test": float(covered.mean()),
            "accuracy_covered": float((pred[covered] == gold[covered]).mean()),
            "accuracy_all": float((pred == gold).mean()),
        }

    def _features(self) -> tuple[Any, Any]:
        if "X_train" not in self._state:
            vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
            self._state["X_train"] = vectorizer.fit_transform(self._state["train"]["text"])
            self._state["X_test"] = vectorizer.transform(self._state["test"]["text"])
        return self._state["X_train"], self._state["X_test"]

    def _train_weak(self) -> None:
        start = time.perf_counter()
        X_train, X_test = self._features()
        covered = self._state["covered_train"]
        clf = SoftLabelClassifier(LogisticRegression(C=4.0, max_iter=2000))
        clf.fit(X_train[covered], self._state["soft_train"][covered])
        gold = self._state["test"]["label"].to_numpy()
        self._state["weak_proba_test"] = clf.predict_proba(X_test)
        self.result.end_model["weak_accuracy"] = float((clf.predict(X_test) == gold).mean())
        self.result.end_model["weak_train_items"] = int(covered.sum())
        self._timed("end_model_weak", start)

    def _record(self) -> None:
        from .record import record_demo

        start = time.perf_counter()
        record_demo(self, self._state)
        self._timed("record", start)

    def _train_gold(self) -> None:
        start = time.perf_counter()
        X_train, X_test = self._features()
        clf = LogisticRegression(C=4.0, max_iter=2000).fit(X_train, self._state["train"]["label"])
        gold = self._state["test"]["label"].to_numpy()
        self.result.end_model["gold_accuracy"] = float((clf.predict(X_test) == gold).mean())
        self._timed("end_model_gold", start)
