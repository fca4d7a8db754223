"""The shared EM driver (models/_em.py) and what every EM label model gets from it."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from weaklab.errors import ConvergenceWarning
from weaklab.models import GLAD, MACE, DawidSkene, OneCoinDawidSkene
from weaklab.models._em import loss_converged, run_em
from weaklab.synthetic import make_crowd

EM_MODELS = [DawidSkene, OneCoinDawidSkene, GLAD, MACE]


@pytest.fixture(scope="module")
def crowd():
    return make_crowd(300, 12, 3, 3, worker_accuracy=(0.5, 0.9), random_state=4)


def test_stopping_rule_is_the_absolute_change():
    """Converged when the last two losses differ by less than tol, in either direction; tol=0 never stops."""
    assert loss_converged([2.0, 1.99995], 1e-4) and loss_converged([1.99995, 2.0], 1e-4)
    assert not loss_converged([2.0, 1.9], 1e-4)
    assert not loss_converged([2.0], 1e-4)
    assert not loss_converged([1.0, 1.0], 0.0)


def test_driver_keeps_evaluated_params_when_converged_and_one_more_m_step_when_stopped():
    """Converged: the params of the last E-step; stopped by max_iter: one M-step further, history per E-step."""
    seen = []

    def e_step(x):
        seen.append(x)
        return x, x * x

    halve = lambda x, stats: stats / 2  # noqa: E731
    done = run_em(1.0, e_step, halve, max_iter=100, tol=1e-6)
    assert done.converged and done.params == seen[-1] and done.n_iter == len(seen) == done.loss_history.shape[0]
    seen.clear()
    stopped = run_em(1.0, e_step, halve, max_iter=3, tol=1e-6)
    assert not stopped.converged and stopped.n_iter == 3
    assert seen == [1.0, 0.5, 0.25] and stopped.params == 0.125 and stopped.stats == 0.25
    resumed = run_em(None, e_step, halve, max_iter=100, tol=1e-6, previous=stopped)
    np.testing.assert_array_equal(resumed.loss_history, done.loss_history)
    assert resumed.params == done.params and run_em(None, e_step, halve, max_iter=5, tol=1e-6, previous=done) is done


@pytest.mark.parametrize("cls", EM_MODELS)
def test_every_em_model_records_its_run(cls, crowd):
    """loss_history_ is an array with one loss per E-step, n_iter_ its length, converged_ a bool; no warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = cls(max_iter=500).fit(crowd.L)
    assert isinstance(model.loss_history_, np.ndarray) and model.loss_history_.dtype == np.float64
    assert model.n_iter_ == model.loss_history_.shape[0] < 500
    assert model.converged_ is True
    loaded = cls.from_state(model.to_state())
    np.testing.assert_array_equal(loaded.loss_history_, model.loss_history_)
    assert loaded.converged_ is True and loaded.n_iter_ == model.n_iter_


@pytest.mark.parametrize("cls", EM_MODELS)
def test_every_em_model_warns_when_max_iter_stops_it(cls, crowd):
    """A fit stopped by max_iter emits weaklab's ConvergenceWarning (a RuntimeWarning) and says so in converged_."""
    with pytest.warns(ConvergenceWarning, match=f"{cls.__name__} did not converge in max_iter=2"):
        model = cls(max_iter=2, tol=0.0).fit(crowd.L)
    assert model.converged_ is False and model.n_iter_ == 2
    assert issubclass(ConvergenceWarning, RuntimeWarning)


@pytest.mark.parametrize("cls", [GLAD, MACE])
def test_states_saved_before_the_shared_driver_load(cls, crowd):
    """GLAD and MACE states kept loss_history_ as a JSON list and no converged_: they still load."""
    model = cls(max_iter=500).fit(crowd.L)
    state = model.to_state()
    attrs = {k: v for k, v in state["attributes"].items() if k != "converged_"}
    attrs["loss_history_"] = model.loss_history_.tolist()
    arrays = {k: v for k, v in state["arrays"].items() if k != "loss_history_"}
    loaded = cls.from_state({**state, "attributes": attrs, "arrays": arrays})
    np.testing.assert_array_equal(loaded.loss_history_, model.loss_history_)
    assert loaded.converged_ is True
    np.testing.assert_array_equal(loaded.predict_proba(crowd.L), model.predict_proba(crowd.L))
