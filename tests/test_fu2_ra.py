"""Follow-ups: bootstrap_ci / bootstrap_intervals names on streamed chunks; estimate_risk(method="iid") and
the surrogate and floor it does not use."""
import numpy as np
import pandas as pd
import pytest

from workbench._validation import ValidationError
from workbench.resample import bootstrap_ci, bootstrap_intervals


# -- bootstrap_ci / bootstrap_intervals x names on chunks -----------------------------------------------------
# Streamed names were checked against their own count by list(names): names=5 was a bare TypeError
# ("'int' object is not iterable"), ["x", "x", "y"] on 2 columns "must be 3 distinct names". Now
# bootstrap_loss_matrix checks them, before its pass, with the in-memory message.

def _losses():
    rng = np.random.default_rng(0)
    return pd.DataFrame(rng.random((100, 2)), columns=["a", "b"])


@pytest.mark.parametrize("fn", [bootstrap_ci, bootstrap_intervals])
@pytest.mark.parametrize("names", [5, 3.5, np.array(3), ["x"], ["x", "y", "z"], ["x", "x"], ["x", "x", "y"]])
def test_streamed_names_are_refused_as_in_memory(fn, names):
    L = _losses()
    with pytest.raises(ValidationError) as mem:
        fn(L, names=names, resampling="poisson", n_resamples=20)
    with pytest.raises(ValidationError) as got:
        fn([L.iloc[:50], L.iloc[50:]], names=names, resampling="poisson", n_resamples=20)
    assert str(got.value) == str(mem.value)
    assert str(got.value).startswith("names: must be")


def test_streamed_names_are_refused_before_a_one_shot_iterator_is_read():
    L = _losses()
    read = []

    def chunks():
        for i in range(0, 100, 25):
            read.append(i)
            yield L.iloc[i:i + 25]

    with pytest.raises(ValidationError, match="names: must be a sequence of 2 names, got 5"):
        bootstrap_ci(chunks(), names=5, resampling="poisson", n_resamples=20)
    assert len(read) <= 1  # at most the first chunk, peeked for its columns


@pytest.mark.parametrize("names", [None, ["x", "y"], [1, 2]])
def test_streamed_valid_names_are_those_of_memory(names):
    L = _losses()
    mem = bootstrap_ci(L, names=names, resampling="poisson", n_resamples=20, random_state=0)
    got = bootstrap_ci([L.iloc[:50], L.iloc[50:]], names=names, resampling="poisson", n_resamples=20, random_state=0)
    assert got.names == mem.names
    np.testing.assert_allclose(got.ci_low, mem.ci_low, rtol=1e-12)


# -- estimate_risk(method="iid") x surrogate / floor ------------------------------------------------------------
# iid samples uniformly (floor 1) and uses no surrogate, but a classifier surrogate was fitted on schedule (4 fits
# for 40 labels) and diagnostics["floor"] reported the floor given, which the draws never used.

def _pool(n=200, seed=0):
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.ones(3), size=n)
    y = rng.integers(0, 3, n)
    X = np.c_[probs[:, :2], rng.normal(size=(n, 2))]
    return probs, y, X


def _surrogates():
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.naive_bayes import GaussianNB

    return [GaussianNB(), RandomForestClassifier(n_estimators=5)]  # the forest unseeded: its seed is spawned


@pytest.mark.parametrize("loss", ["zero_one", "cross_entropy"])
@pytest.mark.parametrize("k", [0, 1])
def test_iid_fits_no_surrogate_reports_its_uniform_floor_and_keeps_its_estimates(loss, k):
    from workbench.active import estimate_risk

    probs, y, X = _pool()
    plain = estimate_risk(probs, y, 40, loss=loss, method="iid", random_state=3)
    t = estimate_risk(probs, y, 40, surrogate=_surrogates()[k], features=X, floor=0.05, loss=loss, method="iid",
                      random_state=3)
    assert t.diagnostics["surrogate_fits"] == 0
    assert t.diagnostics["floor"] == 1.0 == plain.diagnostics["floor"]
    for f in ("estimates", "indices", "q", "weights", "losses", "ci_low", "ci_high", "se"):
        np.testing.assert_array_equal(getattr(t, f), getattr(plain, f), err_msg=f)


def test_iid_does_not_fit_a_surrogate_that_could_not_be_fitted():
    # a 5-neighbour classifier cannot be fitted on 2 labels: lure says so by name; iid, which never uses it,
    # failed the same way
    from sklearn.neighbors import KNeighborsClassifier

    from workbench.active import estimate_risk

    probs, y, X = _pool()
    knn = KNeighborsClassifier(5)
    with pytest.raises(ValidationError, match="could not be fitted on the first 2"):
        estimate_risk(probs, y, 20, surrogate=knn, features=X, refit_schedule=[2], method="lure", floor=0.1,
                      random_state=0)  # floor 0.1: the draws this test was written with (the default is 0.5 here)
    t = estimate_risk(probs, y, 20, surrogate=knn, features=X, refit_schedule=[2], method="iid", random_state=0)
    assert t.diagnostics["surrogate_fits"] == 0


@pytest.mark.parametrize("method,floor", [("lure", 0.05), ("dr", 0.2), ("ase", 0.1)])
def test_other_methods_still_fit_the_surrogate_and_report_the_floor_given(method, floor):
    from sklearn.naive_bayes import GaussianNB

    from workbench.active import estimate_risk

    probs, y, X = _pool()
    t = estimate_risk(probs, y, 40, surrogate=GaussianNB(), features=X, floor=floor, method=method, random_state=0)
    assert t.diagnostics["surrogate_fits"] == 4 and t.diagnostics["floor"] == floor
