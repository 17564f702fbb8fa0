"""The OPE entry points offer only the resampling schemes they can use. "indices" (the engine's scheme for
user-given resamples) was listed in their error message, and choosing it then failed with "indices: must be
given (B, n)", a parameter none of them takes."""
import pytest

from workbench import ValidationError
from workbench.data import simulate_bandit
from workbench.ope import (InverseProbabilityWeighting, UniformPolicy, compare_policies, evaluate_policy,
                           slope_select, threshold_family)

LOG, _ = simulate_bandit(200, n_actions=3, random_state=0)
CALLS = {
    "evaluate_policy": lambda r: evaluate_policy(LOG, UniformPolicy(), estimators=["ips"], n_bootstrap=50,
                                                 resampling=r),
    "compare_policies": lambda r: compare_policies(LOG, {"a": UniformPolicy(), "b": UniformPolicy()},
                                                   estimator="ips", n_bootstrap=50, resampling=r, warn=False),
    "slope_select": lambda r: slope_select(LOG, UniformPolicy(), threshold_family("ips", [float("inf"), 5]),
                                           n_bootstrap=50, resampling=r),
    "estimate_interval": lambda r: InverseProbabilityWeighting().estimate_interval(LOG, UniformPolicy(),
                                                                                   n_bootstrap=50, resampling=r),
}


@pytest.mark.parametrize("name", list(CALLS))
@pytest.mark.parametrize("scheme", ["indices", "bootstrap"])
def test_unusable_schemes_are_refused_naming_resampling_and_the_two_choices(name, scheme):
    with pytest.raises(ValidationError, match=r"resampling: must be one of \['poisson', 'multinomial'\], got "
                                              f"'{scheme}'"):
        CALLS[name](scheme)


@pytest.mark.parametrize("name", list(CALLS))
def test_both_schemes_still_run(name):
    for scheme in ("poisson", "multinomial"):
        CALLS[name](scheme)
