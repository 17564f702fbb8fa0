"""Findings of the stop-27 walk through the resampling pillar with scikit-learn's own estimators."""
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, make_regression
from sklearn.linear_model import LogisticRegression, Ridge, RidgeCV
from sklearn.model_selection import GridSearchCV, GroupKFold, StratifiedKFold, cross_val_score
from sklearn.multioutput import MultiOutputClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from workbench import ValidationError
from workbench.resample import (bootstrap_error, corrected_resampled_t_test, cv_scores_two, nested_cv, paired_t_5x2cv,
                                repeated_cv)
from workbench.resample.oob import _no_information_loss, _resolve_loss


def test_nested_cv_with_groups_runs_ridgecv_as_cross_val_score_does_and_says_its_cv_ignores_them():
    # groups= went to RidgeCV.fit, which refuses it without metadata routing: every outer fit failed
    X, y = load_diabetes(return_X_y=True)
    g = np.random.default_rng(0).integers(0, 40, len(y))
    with pytest.warns(RuntimeWarning, match="RidgeCV in 'model' selects with its own cv=None, which cannot take"):
        r = nested_cv(RidgeCV(), X, y, outer_cv=GroupKFold(4), groups=g)
    np.testing.assert_allclose(r.scores["score"], cross_val_score(RidgeCV(), X, y, cv=GroupKFold(4), groups=g))


def test_nested_cv_keeps_groups_whole_in_a_search_inside_a_pipeline():
    X, y = load_iris(return_X_y=True)
    g = np.arange(len(y)) // 5
    pipe = make_pipeline(StandardScaler(), GridSearchCV(KNeighborsClassifier(), {"n_neighbors": [1, 5]}, cv=5))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        r = nested_cv(pipe, X, y, outer_cv=3, groups=g, random_state=0)
    assert r.diagnostics["inner_cv"]["model"].startswith("StratifiedGroupKFold")
    assert all(p != "None" for p in r.scores["best_params"])  # the search step's best parameters


def _lr_and_logloss_search():
    lr = make_pipeline(StandardScaler(), LogisticRegression())
    return lr, GridSearchCV(lr, {"logisticregression__C": [0.1, 1]}, cv=3, scoring="neg_log_loss")


def test_two_models_scored_by_different_own_scores_are_refused():
    # the search scored by log loss, the pipeline by accuracy: t = -57, "significant"
    X, y = load_breast_cancer(return_X_y=True)
    lr, gs = _lr_and_logloss_search()
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    with pytest.raises(ValidationError, match="^scoring: is None, so each model is scored by its own score"):
        cv_scores_two(gs, lr, X, y, cv=cv, progress=False)
    with pytest.raises(ValidationError, match="^scoring: is None"):
        paired_t_5x2cv(gs, lr, X, y, random_state=0, progress=False)
    with pytest.raises(ValidationError, match="^scoring: is None"):
        nested_cv({"a": gs, "b": GridSearchCV(lr, {"logisticregression__C": [0.1, 1]}, cv=3)}, X, y, outer_cv=3)
    ra = repeated_cv(gs, X, y, n_splits=3, n_repeats=1, random_state=0)
    rb = repeated_cv(lr, X, y, n_splits=3, n_repeats=1, random_state=0)
    with pytest.raises(ValidationError, match="^scores_b: is scored by its model's own score"):
        corrected_resampled_t_test(ra, rb)
    # one scorer for both: allowed; and two plain classifiers share accuracy
    sa, sb, _, _ = cv_scores_two(gs, lr, X, y, cv=cv, progress=False, scoring="accuracy")
    assert ((0 <= sa) & (sa <= 1)).all()
    cv_scores_two(DecisionTreeClassifier(random_state=0), lr, X, y, cv=cv, progress=False)


def test_bootstrap_error_handles_multi_output_regression_as_sklearn_averages_outputs():
    X, Y = make_regression(n_samples=80, n_features=4, n_targets=2, noise=5.0, random_state=0)
    r = bootstrap_error(Ridge(), X, Y, n_splits=10, random_state=0, progress=False)
    assert np.isfinite([r.oob, r.point632, r.point632plus]).all()
    est = Ridge().fit(X, Y)
    f = est.predict(X)
    for name, per_row in (("squared", lambda a, b: ((a - b) ** 2).mean()), ("absolute", lambda a, b: np.abs(a - b).mean())):
        fn, _, nm = _resolve_loss(name, est)
        brute = np.mean([[per_row(Y[i], f[j]) for j in range(len(Y))] for i in range(len(Y))])
        assert _no_information_loss(fn, nm, est, X, Y, None) == pytest.approx(brute, rel=1e-12)
    assert r.resubstitution == pytest.approx(np.mean((Y - f) ** 2), rel=1e-12)  # sklearn's uniform average


def test_bootstrap_error_multi_output_classification_uses_the_subset_zero_one_loss():
    X, y1 = load_iris(return_X_y=True)
    Y = np.column_stack([y1, (X[:, 0] > 5.8).astype(int)])
    est = MultiOutputClassifier(DecisionTreeClassifier(max_depth=2, random_state=0))
    r = bootstrap_error(est, X, Y, n_splits=5, random_state=0, progress=False)
    fitted = est.fit(X, Y)
    assert r.resubstitution == pytest.approx(np.mean((fitted.predict(X) != Y).any(axis=1)))
    assert 0 <= r.no_information <= 1


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.DataConversionWarning")
def test_a_column_vector_y_gives_the_same_bootstrap_error_as_1d_y():
    # predict gives (n,) for an (n, 1) y: the losses broadcast to (n, n) and every error came out 1.0, silently
    from sklearn.datasets import make_classification
    from workbench.resample import ncv_interval
    X, y = make_classification(150, random_state=0)
    a = bootstrap_error(LogisticRegression(), X, y[:, None], n_splits=20, random_state=0, progress=False)
    b = bootstrap_error(LogisticRegression(), X, y, n_splits=20, random_state=0, progress=False)
    assert (a.resubstitution, a.oob, a.no_information) == (b.resubstitution, b.oob, b.no_information)
    assert a.resubstitution < 0.2
    Xr, yr = make_regression(120, 4, noise=10, random_state=0)
    c = bootstrap_error(Ridge(), Xr, yr[:, None], n_splits=10, random_state=0, progress=False)
    d = bootstrap_error(Ridge(), Xr, yr, n_splits=10, random_state=0, progress=False)
    assert c.resubstitution == pytest.approx(d.resubstitution) and c.oob == pytest.approx(d.oob)
    v = ncv_interval(LogisticRegression(), X, y[:, None], n_reps=3, random_state=0)
    w = ncv_interval(LogisticRegression(), X, y, n_reps=3, random_state=0)
    assert v.loc[0, "value"] == w.loc[0, "value"] and v.loc[0, "value"] < 0.3  # was 1.0


def test_default_score_check_refuses_only_metrics_known_to_differ():
    # RidgeCV's score() is R^2 whatever its scoring=, TunedThresholdClassifierCV's is accuracy, and two searches
    # sharing one callable scorer score alike: all were refused by a first version of the check
    from sklearn.metrics import accuracy_score, make_scorer
    from sklearn.model_selection import RandomizedSearchCV, TunedThresholdClassifierCV

    from workbench.resample.cv import check_same_default_score, default_score_name
    lr = LogisticRegression()
    acc = make_scorer(accuracy_score)
    for a, b in ((GridSearchCV(lr, {"C": [1]}, scoring=acc), RandomizedSearchCV(lr, {"C": [1]}, scoring=acc)),
                 (TunedThresholdClassifierCV(lr), lr), (RidgeCV(scoring="neg_mean_squared_error"), Ridge()),
                 (GridSearchCV(lr, {"C": [1]}, scoring="accuracy"), make_pipeline(StandardScaler(), lr))):
        check_same_default_score([("a", a), ("b", b)], None)
    assert default_score_name(GridSearchCV(make_pipeline(StandardScaler(), lr), {"logisticregression__C": [1]})) \
        == "accuracy"
    assert default_score_name(RidgeCV(scoring="neg_mean_squared_error")) is None  # not known: not refused
    with pytest.raises(ValidationError, match="'neg_log_loss' and b by 'accuracy'"):
        check_same_default_score([("a", GridSearchCV(lr, {"C": [1]}, scoring="neg_log_loss")), ("b", lr)], None)
    with pytest.raises(ValidationError, match="'accuracy' and b by 'r2'"):
        check_same_default_score([("a", lr), ("b", Ridge())], None)
