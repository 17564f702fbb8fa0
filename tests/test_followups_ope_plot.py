"""Follow-ups: compare_policies gives exactly tied estimates one ("min") rank; the plotting functions take the axis
labels a user wants (forest_plot's xlabel, budget_curve's xlabel)."""
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import workbench as wb  # noqa: E402
from workbench import plotting  # noqa: E402
from workbench.ope import UniformPolicy, compare_policies  # noqa: E402


pytestmark = pytest.mark.usefixtures("close_figures")


# -- compare_policies: tied point estimates share a rank ------------------------------------------
@pytest.fixture(scope="module")
def log():
    return wb.data.simulate_bandit(400, n_actions=3, random_state=0)[0]


def test_one_policy_under_two_names_shares_rank_one_and_the_next_is_three(log):
    pe = np.tile([0.6, 0.3, 0.1], (len(log), 1))
    pols = {"u": UniformPolicy(), "a": pe, "b": pe.copy()}
    cmp = compare_policies(log, pols, estimator="ips", n_bootstrap=50)
    s = cmp.summary
    v = s.set_index("policy")["value"]
    assert v["a"] == v["b"] and v["a"] > v["u"]  # the setting: a and b lead, exactly tied
    # was [1, 2, 3]: the tie was broken by listing order
    assert s["policy"].tolist() == ["a", "b", "u"] and s["rank"].tolist() == [1, 1, 3]
    assert s["rank"].dtype.kind == "i"
    assert cmp.best_estimate == "a"  # the first listed of the tied leaders
    # the same tie below the leader: 1, 2, 2
    worse = np.tile([0.1, 0.3, 0.6], (len(log), 1))
    cmp2 = compare_policies(log, {"w1": worse, "u": UniformPolicy(), "w2": worse.copy()}, estimator="ips",
                            n_bootstrap=50)
    r = cmp2.summary.set_index("policy")["rank"]
    assert cmp2.summary["value"].iloc[0] > cmp2.summary["value"].iloc[1]
    assert (r["u"], r["w1"], r["w2"]) == (1, 2, 2)
    # agrees with scipy's rankdata(method="min") on the negated estimates (listed order)
    from scipy.stats import rankdata

    for c in (cmp, cmp2):
        s = c.summary
        assert s["rank"].tolist() == rankdata(-s["value"].to_numpy(), method="min").astype(int).tolist()


def test_estimates_equal_only_up_to_rounding_are_ranked_apart_and_nan_shares_the_last_rank(log):
    # Exact equality, documented: a policy whose estimate differs in the last bits keeps its own rank.
    pe = np.tile([0.6, 0.3, 0.1], (len(log), 1))
    pe2 = pe.copy()
    pe2[:, 0] = np.nextafter(pe2[:, 0], 1.0)  # the same policy up to one ulp of one action's probability
    cmp = compare_policies(log, {"a": pe, "a'": pe2, "u": UniformPolicy()}, estimator="ips", n_bootstrap=50)
    s = cmp.summary
    assert s["value"].iloc[0] != s["value"].iloc[1]
    assert s["value"].iloc[0] == pytest.approx(s["value"].iloc[1], rel=1e-12)
    assert s["rank"].tolist() == [1, 2, 3]
    # snips of a target that never plays a logged action is undefined: two such share the last rank
    a = np.asarray(log.action)
    off1, off2 = np.eye(3)[(a + 1) % 3], np.eye(3)[(a + 2) % 3]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cmp = compare_policies(log, {"n1": off1, "u": UniformPolicy(), "n2": off2, "pe": pe}, estimator="snips",
                               n_bootstrap=50)
    s = cmp.summary.set_index("policy")
    assert np.isnan(s.loc["n1", "value"]) and np.isnan(s.loc["n2", "value"])
    assert s["rank"].to_dict() == {"pe": 1, "u": 2, "n1": 3, "n2": 3}  # was n1 3, n2 4
    assert cmp.summary["policy"].tolist()[-2:] == ["n1", "n2"]


# -- plotting: the axis labels a user wants ------------------------------------------------------
_FOREST = pd.DataFrame({"policy": ["a", "b"], "value": [0.031, 0.027], "ci_low": [0.028, 0.024],
                        "ci_high": [0.034, 0.030]})


def test_forest_plot_takes_an_xlabel_and_defaults_to_the_value_column():
    ax = plotting.forest_plot(_FOREST, "policy", xlabel="click rate")  # positional order of the old arguments kept
    assert ax.get_xlabel() == "click rate"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"]
    assert plotting.forest_plot(_FOREST, label="policy").get_xlabel() == "value"  # was no label at all
    renamed = _FOREST.rename(columns={"value": "ctr"})
    assert plotting.forest_plot(renamed, label="policy", value="ctr").get_xlabel() == "ctr"
    assert plotting.forest_plot(_FOREST, label="policy", xlabel="").get_xlabel() == ""  # no label, on request
    # with the reference line and title, on a given Axes
    fig, ax = plt.subplots()
    out = plotting.forest_plot(_FOREST, "policy", "value", "ci_low", "ci_high", 0.03, "on-policy", ax, "t",
                               xlabel="click rate")
    assert out is ax and (ax.get_xlabel(), ax.get_title()) == ("click rate", "t")


def test_budget_curve_takes_an_xlabel_and_an_empty_label_means_none():
    f = pd.DataFrame({"strategy": ["r"] * 3, "train_size": [50, 100, 200], "value": [0.3, 0.2, 0.15]})
    ax = plotting.budget_curve(f, x="train_size", xlabel="training rows", ylabel="error")
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("training rows", "error")
    ax = plotting.budget_curve(f, x="train_size")
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("train_size", "value")
    ax = plotting.budget_curve(f, x="train_size", xlabel="", ylabel="")  # ylabel="" fell back to the column name
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("", "")


@pytest.mark.parametrize("call", [lambda: plotting.forest_plot(_FOREST, "policy", xlabel=5),
                                  lambda: plotting.budget_curve(_FOREST, x="ci_low", hue="policy",
                                                                xlabel=_FOREST["policy"]),
                                  lambda: plotting.budget_curve(_FOREST, x="ci_low", hue="policy", ylabel=0.5)])
def test_a_label_that_is_not_text_is_refused_before_a_figure_opens(call):
    # matplotlib printed str() of anything: a Series became its whole repr on the axis
    with pytest.raises(wb.ValidationError, match=r"^(x|y)label: must be text \(or None for the default\), got "):
        call()
    assert plt.get_fignums() == []
