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
