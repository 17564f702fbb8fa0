"""Findings of a walk through the data containers, the simulators, plotting and results (2026-12-02)."""
import dataclasses
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from workbench import ValidationError  # noqa: E402
from workbench.data import (BanditLog, PredictionLog, classification_to_bandit, simulate_bandit,  # noqa: E402
                            simulate_routing)
from workbench.data.simulate import BanditTruth, _sample_actions  # noqa: E402
from workbench.data.simulate_routing import RoutingLog  # noqa: E402
from workbench.plotting import weight_histogram  # noqa: E402
from workbench.results import Estimate, estimates_to_frame  # noqa: E402

MASKED = r"must not hold masked \(missing\) values; 1 of 4 rows breaks the rule, first at row 1"


def _masked(values, row=1):
    mask = np.zeros(len(values), bool)
    mask[row] = True
    return np.ma.array(values, mask=mask)


def _bandit(**kw):
    return BanditLog(**{"action": [0, 1, 1, 0], "reward": [1.0, 0.0, 1.0, 0.0], "propensity": [0.5] * 4, **kw})


# -- 1. masked arrays: the values under the mask were used as data ---------------------------------------------

@pytest.mark.parametrize("field", ["timestamp", "unit_id"])
def test_bandit_log_refuses_a_masked_timestamp_or_unit_id_by_row(field):
    # np.asarray dropped the mask (in _utc_naive and check_unit_ids): the masked 2 was a time / a unit
    with pytest.raises(ValidationError, match=rf"{field}: {MASKED}"):
        _bandit(**{field: _masked([1, 2, 3, 4])})
    # a mask that hides nothing loses nothing: accepted, as as_array accepts it
    assert list(getattr(_bandit(**{field: np.ma.array([1, 2, 3, 4])}), field)) == [1, 2, 3, 4]


def test_bandit_log_refuses_masked_datetimes():
    ts = _masked(np.array(["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04"], dtype="datetime64[D]"))
    with pytest.raises(ValidationError, match=rf"timestamp: {MASKED}"):
        _bandit(timestamp=ts)


def test_prediction_log_refuses_masked_labelled_flags_and_timestamps():
    probs = np.full((1, 4, 2), 0.5)
    # the masked flag was read as True: n_labelled 4
    with pytest.raises(ValidationError, match=rf"labelled: {MASKED}"):
        PredictionLog(probs, labels=[0, 1, 1, 0], labelled=_masked([True] * 4))
    with pytest.raises(ValidationError, match=rf"timestamp: {MASKED}"):
        PredictionLog(probs, labels=[0, 1, 1, 0], timestamp=_masked([1, 2, 3, 4]))
    ok = PredictionLog(probs, labels=[0, 1, 1, 0], labelled=np.ma.array([True, False, True, True]),
                       timestamp=np.ma.array([1, 2, 3, 4]))
    assert ok.n_labelled == 3 and list(ok.timestamp) == [1, 2, 3, 4]


@pytest.mark.parametrize("field", ["quality", "cost", "output_tokens", "propensity", "context"])
def test_routing_log_refuses_masked_fields_by_row(field):
    # readonly(np.asarray(...)) dropped the mask before the value checks: the masked quality / cost passed
    log, _ = simulate_routing(20, random_state=0)
    kw = {f.name: getattr(log, f.name) for f in dataclasses.fields(log)}
    mask = np.zeros(kw[field].shape, bool)
    mask[3] = True
    kw[field] = np.ma.array(kw[field], mask=mask)
    with pytest.raises(ValidationError, match=rf"{field}: must not hold masked \(missing\) values; 1 of 20 rows "
                                              rf"breaks the rule, first at row 3"):
        RoutingLog(**kw)


# -- 2. classification_to_bandit pairs pandas X and y by position ------------------------------------------------

def test_classification_to_bandit_refuses_a_y_with_another_index():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.standard_normal((200, 2)), index=rng.permutation(200))
    y = (X[0] > 0).astype(int)
    # sorted on its own, y was paired with the wrong rows of X: the labels' own value was 0.48, not 1
    with pytest.raises(ValidationError, match=r"y: index must equal the index of X .* first at row 0"):
        classification_to_bandit(X, y.sort_index(), behavior="uniform", random_state=0)
    log, truth = classification_to_bandit(X, y, behavior="uniform", random_state=0)
    assert truth.policy_value(y.to_numpy()) == 1.0
    # a numpy y has no labels and is read by position, as ever
    assert classification_to_bandit(X, y.to_numpy(), behavior="uniform", random_state=0)[1].policy_value(y) == 1.0


# -- 3. a row summing to 1 - 9e-7 gave its missing mass to the last action, even of probability 0 ----------------

class _FixedDraws(np.random.Generator):
    """A Generator whose uniform draws are all ``u`` (to hit the edges of the cumulative sums)."""

    def __init__(self, u):
        super().__init__(np.random.PCG64(0))
        self.u = u

    def random(self, size=None, *args, **kwargs):
        return np.full(size, self.u)


def test_sample_actions_never_draws_an_action_of_probability_zero():
    dist = np.array([[0.5, 0.5 - 9e-7, 0.0], [0.0, 0.6, 0.4 - 9e-7]])
    # u above the row's sum: the old clip(max=k - 1) gave action 2 (probability 0) in row 0
    assert _sample_actions(dist, _FixedDraws(1 - 1e-8)).tolist() == [1, 2]
    # u = 0.0 (which Generator.random can return) must not pick a leading action of probability 0
    assert _sample_actions(dist, _FixedDraws(0.0)).tolist() == [0, 1]
    # and the draws still follow the distribution
    p = np.array([0.2, 0.0, 0.3, 0.5])
    counts = np.bincount(_sample_actions(np.tile(p, (100_000, 1)), np.random.default_rng(0)), minlength=4)
    assert counts[1] == 0 and np.allclose(counts / 100_000, p, atol=0.01)


def test_simulate_bandit_with_a_row_sum_inside_the_tolerance_logs_no_zero_propensity():
    n = 200_000
    beh = np.tile([0.5, 0.5 - 9e-7, 0.0], (n, 1))
    # was "propensity: must be in (0, 1] ... first at row 110843 (value 0.0)"
    log, _ = simulate_bandit(n, n_actions=3, dim_context=1, behavior=beh, random_state=2)
    assert (log.action != 2).all() and log.propensity.min() > 0


def test_truth_sample_rewards_never_rolls_out_an_action_of_probability_zero():
    n = 5
    q = np.tile([0.0, 0.0, 100.0], (n, 1))  # only the impossible action pays
    beh = np.tile([0.5, 0.5 - 9e-7, 0.0], (n, 1))
    truth = BanditTruth(q, beh, "continuous", 0.0)
    assert (truth.sample_rewards(beh, random_state=_FixedDraws(1 - 1e-8)) == 0.0).all()


# -- 4. an absolute slack of 1e-12 let a propensity 5x its behavior probability through ---------------------------

def test_propensity_is_checked_against_behavior_dist_relatively_only():
    with pytest.raises(ValidationError, match=r"propensity: must equal behavior_dist at the logged action .* "
                                              r"relative tolerance 1e-05; 1 of 2 rows breaks the rule, first at row 0"):
        BanditLog(action=[0, 1], reward=[1.0, 0.0], propensity=[5e-13, 0.5], n_actions=2,
                  behavior_dist=[[1e-13, 1 - 1e-13], [0.5, 0.5]])
    # within the relative tolerance, however small the probability
    log = BanditLog(action=[0, 1], reward=[1.0, 0.0], propensity=[1e-13 * (1 + 5e-6), 0.5], n_actions=2,
                    behavior_dist=[[1e-13, 1 - 1e-13], [0.5, 0.5]])
    assert len(log) == 2


# -- 5. nullable booleans with a missing value ------------------------------------------------------------------

@pytest.mark.parametrize("wrap", [lambda a: a, pd.Series], ids=["array", "series"])
def test_a_nullable_boolean_reward_with_na_is_named_at_its_row(wrap):
    values = [True, None, False, True]
    # was "must be numeric (not a real number, dtype object); 4 of 4 rows ..., first at row 0 (value True)"
    with pytest.raises(ValidationError) as err:
        _bandit(reward=wrap(pd.array(values, dtype="boolean")))
    assert (err.value.field, err.value.n_bad, err.value.first) == ("reward", 1, 1)
    # the same message as from_frame gives for the same column
    frame = pd.DataFrame({"action": [0, 1, 1, 0], "reward": pd.array(values, dtype="boolean"), "propensity": 0.5})
    with pytest.raises(ValidationError) as from_frame:
        BanditLog.from_frame(frame)
    assert str(err.value) == str(from_frame.value)
    # without a missing value it is a boolean reward, read as 0 / 1 as a numpy one
    ok = _bandit(reward=wrap(pd.array([True, False, False, True], dtype="boolean")))
    assert ok.reward.tolist() == [1.0, 0.0, 0.0, 1.0]


@pytest.mark.parametrize("labelled", [pd.array([True, None, True, True], dtype="boolean"),
                                      pd.Series([True, None, True, True], dtype="boolean"),
                                      [True, None, True, True]], ids=["array", "series", "list"])
def test_a_missing_labelled_flag_is_named_at_its_row(labelled):
    # was "labelled: must be a boolean mask, got dtype object", no row
    with pytest.raises(ValidationError, match=r"labelled: must not be missing .*; 1 of 4 rows breaks the rule, "
                                              r"first at row 1"):
        PredictionLog(np.full((1, 4, 2), 0.5), labels=[0, 1, 1, 0], labelled=labelled)
    ok = PredictionLog(np.full((1, 4, 2), 0.5), labels=[0, 1, 1, 0],
                       labelled=pd.array([True, False, True, True], dtype="boolean"))
    assert ok.n_labelled == 3


# -- 6. a 1-D RoutingLog context ----------------------------------------------------------------------------------

def test_routing_log_refuses_a_1d_context_at_construction():
    log, _ = simulate_routing(50, random_state=0)
    kw = {f.name: getattr(log, f.name) for f in dataclasses.fields(log)}
    # accepted, and bandit_log() failed later with "context_names: must name 1 columns, got 7"
    with pytest.raises(ValidationError, match=r"context: must be 2-D, got shape \(50,\)"):
        RoutingLog(**{**kw, "context": log.context[:, 5]})
    assert RoutingLog(**kw).bandit_log(0.1).context.shape == (50, 7)


# -- 7. weight_histogram's mean of huge weights ---------------------------------------------------------------------

def test_weight_histogram_mean_does_not_overflow():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # numpy's overflow warning in w.mean()
        ax = weight_histogram([1e308, 1.5e308])
    assert ax.get_legend_handles_labels()[1] == ["mean 1.25e+308", "max 1.5e+308"]
    plt.close("all")


# -- 8. estimates_to_frame of something that is not an Estimate ---------------------------------------------------

def test_estimates_to_frame_names_the_first_item_that_is_not_an_estimate():
    # was a bare AttributeError: 'float' object has no attribute 'to_dict'
    with pytest.raises(ValidationError, match=r"estimates: must be Estimate objects.*1 of 1 rows? breaks the rule, "
                                              r"first at row 0\. Item 0 is a float"):
        estimates_to_frame([0.5])
    e = Estimate(0.5, 0.4, 0.6, 0.05, name="ips")
    with pytest.raises(ValidationError, match=r"2 of 3 rows break the rule, first at row 1\. Item 1 is a dict"):
        estimates_to_frame([e, {"value": 0.5}, "dr"])
    with pytest.raises(ValidationError, match=r"estimates: must be a list of Estimate objects, got Estimate\. "
                                              r"Wrap a single estimate in a list"):
        estimates_to_frame(e)  # one estimate, not a list of them: was "TypeError: 'Estimate' object is not iterable"
    assert estimates_to_frame(x for x in [e])["value"].tolist() == [0.5]  # any iterable of estimates, as before
