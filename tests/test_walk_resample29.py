"""Stop 29 walk of the .632+ bootstrap and nested-CV code: a perfect model crashed bootstrap_error, a
user's loss was replaced by a built-in one with the same __name__, missing labels and class-less folds
gave bare scikit-learn errors, and seeds 2**32 apart gave the same folds."""
import numpy as np
import pytest
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import RepeatedStratifiedKFold
from sklearn.tree import DecisionTreeClassifier

from workbench._validation import ValidationError
from workbench.resample import bootstrap_error, ncv_interval, repeated_cv


def test_a_perfect_model_gets_error_0_with_a_point_interval():
    # every out-of-bag loss 0: the SE's variance is exactly 0, with no Monte Carlo noise; its relative noise
    # was inf and the suggested n_splits int(ceil(inf)) raised OverflowError
    r = bootstrap_error(DummyRegressor(), np.zeros((30, 1)), np.ones(30), random_state=0, progress=False)
    assert (r.oob, r.point632plus, r.se, r.ci_low, r.ci_high) == (0.0, 0.0, 0.0, 0.0, 0.0)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = (X[:, 0] > 0).astype(int)
    X[:, 0] += np.where(y == 1, 5, -5)  # separable by a wide margin
    r = bootstrap_error(DecisionTreeClassifier(random_state=0), X, y, n_splits=100, random_state=0, progress=False)
    assert (r.point632plus, r.se, r.ci_low, r.ci_high) == (0.0, 0.0, 0.0, 0.0)


@pytest.mark.parametrize("name", ["zero_one", "squared", "log_loss", "cost"])
def test_a_callable_loss_is_used_whatever_its_name(name):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 2))
    y = (X[:, 0] + rng.normal(size=80) > 0).astype(int)

    def weighted(yt, p):  # cost-weighted 0-1 loss: a false negative costs 5
        return np.where(yt != p, np.where(yt == 1, 5.0, 1.0), 0.0)

    weighted.__name__ = name
    r = bootstrap_error(LogisticRegression(), X, y, loss=weighted, n_splits=50, random_state=0, progress=False)
    full = LogisticRegression().fit(X, y)
    pred = full.predict(X)
    gamma = weighted(y[:, None], pred[None, :]).mean()  # Efron & Tibshirani's all-pairs no-information error
    assert r.no_information == pytest.approx(gamma, rel=1e-12)
    assert r.resubstitution == pytest.approx(weighted(y, pred).mean(), rel=1e-12)
    assert r.no_information > 1.0  # the built-in 0-1 closed form gave 0.50


def _nan_y():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 2)), rng.normal(size=40)
    y[[7, 20]] = np.nan
    return X, y


@pytest.mark.parametrize("call", [
    lambda X, y: ncv_interval(Ridge(), X, y, n_folds=3, n_reps=2, random_state=0, progress=False),
    lambda X, y: ncv_interval(Ridge(), X, y, n_folds=5, n_reps=2, random_state=0, progress=False),
    lambda X, y: repeated_cv(Ridge(), X, y, n_splits=3, n_repeats=2, random_state=0),
    lambda X, y: bootstrap_error(Ridge(), X, y, n_splits=20, random_state=0, progress=False),
])
def test_missing_labels_are_refused_up_front_with_their_row(call):
    X, y = _nan_y()
    with pytest.raises(ValidationError, match=r"^y: must not hold missing labels") as info:
        call(X, y)
    assert (info.value.n_bad, info.value.first) == (2, 7)


def test_a_missing_label_in_an_object_column_is_refused():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 2))
    y = np.array(["a", "b"] * 15, dtype=object)
    y[4] = None
    with pytest.raises(ValidationError, match=r"^y: must not hold missing labels") as info:
        repeated_cv(LogisticRegression(), X, y, n_splits=3, n_repeats=2, random_state=0)
    assert (info.value.n_bad, info.value.first) == (1, 4)


def test_ncv_interval_names_the_split_whose_training_set_lacks_a_class():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    y = np.zeros(30, int)
    y[:3] = 1
    with pytest.raises(ValidationError, match=r"^n_folds: repetition \d+, folds? \d+.* held out .*lacks class"):
        ncv_interval(LogisticRegression(), X, y, n_folds=10, n_reps=2, random_state=0, progress=False)


def test_seeds_2_32_apart_give_other_folds_and_small_seeds_keep_theirs():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = (X[:, 0] > 0).astype(int)
    est = LogisticRegression()
    r0 = repeated_cv(est, X, y, n_splits=5, n_repeats=2, random_state=0).scores
    r1 = repeated_cv(est, X, y, n_splits=5, n_repeats=2, random_state=2**32).scores
    assert not np.array_equal(np.asarray(r0), np.asarray(r1))
    # an int below 2**32 is scikit-learn's own seed: the folds of RepeatedStratifiedKFold(random_state=7)
    ours = repeated_cv(est, X, y, n_splits=5, n_repeats=2, random_state=7).scores
    from sklearn.model_selection import cross_val_score
    ref = cross_val_score(est, X, y, cv=RepeatedStratifiedKFold(n_splits=5, n_repeats=2, random_state=7))
    np.testing.assert_allclose(np.sort(np.asarray(ours, float).ravel()), np.sort(ref))
