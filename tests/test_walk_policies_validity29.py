"""Stop 29 walk of the policy helpers and the validity report."""
import numpy as np
import pytest

from workbench._validation import ValidationError
from workbench.ope import ModelProbabilityPolicy
from workbench.validity import ope_interval_coverage


@pytest.mark.parametrize("names", [["mips"], ["ips", "MIPS "]])
def test_ope_interval_coverage_refuses_mips_up_front(names):
    # the simulated logs have no action embeddings: it failed inside evaluate_policy once the work had started
    with pytest.raises(ValidationError, match=r"^estimators: 'mips' needs action embeddings"):
        ope_interval_coverage(estimators=names, intervals=["bernstein"], n=100, n_replicates=4, n_bootstrap=20,
                              progress=False)


def test_a_probability_model_without_classes_is_refused_by_name():
    class Proba:
        def predict_proba(self, X):
            return np.full((len(X), 3), 1 / 3)

    with pytest.raises(ValidationError, match=r"^model: Proba has no classes_"):
        ModelProbabilityPolicy(Proba()).action_dist(np.zeros((4, 2)))
    Proba.classes_ = np.arange(3)
    assert np.allclose(ModelProbabilityPolicy(Proba()).action_dist(np.zeros((4, 2))), 1 / 3)


def test_active_interval_coverage_names_a_text_surrogate():
    from workbench.validity import active_interval_coverage

    with pytest.raises(ValidationError, match=r"^surrogates: must be numeric .*first at row 0"):
        active_interval_coverage(methods=["lure"], surrogates=[("a", [["b", "c"]] * 3)], budgets=[20],
                                 n_replicates=10, progress=False)
