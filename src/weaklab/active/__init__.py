"""Active learning: query strategies as pure scoring functions, a review loop and simulation.

Strategies score every item of a pool (higher = ask first) from the end
model's probabilities, the label model's soft labels, the votes or the
features; :func:`select_batch` turns scores into a diverse batch;
:class:`ActiveLoop` asks in rounds and records answers that go back to the
label model as gold (semi-supervised) and to the end model as hard labels;
:func:`simulate` runs the loop against an oracle and returns the learning
curve. This package imports no other stage: the label model and end model are
passed in.
"""

from .diversity import coreset_distance, density, density_weighted, k_center, select_batch, top_n
from .loop import ANSWER_COLUMNS, ActiveLoop, Answer
from .refine import MIN_CO_TRAIN_ANSWERS, combine_views, out_of_fold_proba
from .registry import DEFAULT_STRATEGY, STRATEGIES, Strategy, select, strategy_scores
from .sampling import draw_batch, lure_weights, rank_proposal, resample_answers, round_draw_weights
from .simulate import CURVE_COLUMNS, METRICS, OracleError, simulate
from .strategies import (
    DISAGREEMENT_MEASURES,
    UNCERTAINTY_MEASURES,
    entropy,
    least_confidence,
    margin,
    model_disagreement,
    random_scores,
    uncertainty,
    vote_entropy,
)
from .weights import MIN_CV_ANSWERS, WEAK_WEIGHT_GRID, choose_weak_weight

__all__ = [
    "random_scores",
    "least_confidence",
    "margin",
    "entropy",
    "uncertainty",
    "vote_entropy",
    "model_disagreement",
    "density",
    "density_weighted",
    "coreset_distance",
    "k_center",
    "top_n",
    "select_batch",
    "Strategy",
    "STRATEGIES",
    "DEFAULT_STRATEGY",
    "select",
    "strategy_scores",
    "ActiveLoop",
    "Answer",
    "ANSWER_COLUMNS",
    "simulate",
    "OracleError",
    "CURVE_COLUMNS",
    "METRICS",
    "UNCERTAINTY_MEASURES",
    "DISAGREEMENT_MEASURES",
    "rank_proposal",
    "draw_batch",
    "lure_weights",
    "resample_answers",
    "round_draw_weights",
    "choose_weak_weight",
    "WEAK_WEIGHT_GRID",
    "MIN_CV_ANSWERS",
    "out_of_fold_proba",
    "combine_views",
    "MIN_CO_TRAIN_ANSWERS",
]
