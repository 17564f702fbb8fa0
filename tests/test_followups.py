"""Regression tests for small follow-ups found by audits (one block per item)."""
from __future__ import annotations

import numpy as np
import pytest

from workbench._validation import ValidationError
from workbench.resample import bootstrap_intervals


# 1. bootstrap_intervals(methods=["bca", "bca"]) returned the bca rows twice.
def test_bootstrap_intervals_refuses_repeated_methods():
    x = np.random.default_rng(0).normal(size=40)
    with pytest.raises(ValidationError, match=r"methods: names must be unique.*repeated: \['bca'\]") as err:
        bootstrap_intervals(x, methods=["bca", "percentile", "bca"], n_resamples=99, random_state=0)
    assert err.value.field == "methods"
    # distinct methods still give one row each
    out = bootstrap_intervals(x, methods=["bca", "percentile"], n_resamples=99, random_state=0)
    assert out["method"].tolist() == ["bca", "percentile"]


# 2. repeated_cv(cv=RepeatedStratifiedKFold(n_splits=2, n_repeats=5)) gave one row of 10 scores, which the
#    5x2cv tests refused (they read (5, 2) as replication x fold); repeated_cv(n_splits=2, n_repeats=5) worked.
def test_repeated_cv_shapes_sklearn_repeated_splitters_for_5x2cv():
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import KFold, RepeatedKFold, RepeatedStratifiedKFold
    from sklearn.tree import DecisionTreeClassifier

    from workbench.resample import f_test_5x2cv, paired_t_5x2cv, repeated_cv
    from workbench.resample.cv import _cv_seed

    X, y = load_breast_cancer(return_X_y=True)
    a, b = DecisionTreeClassifier(max_depth=1, random_state=0), DecisionTreeClassifier(max_depth=3, random_state=0)
    # the n_splits / n_repeats route: its splitter is RepeatedStratifiedKFold with seed _cv_seed(random_state)
    ra = repeated_cv(a, X, y, n_splits=2, n_repeats=5, random_state=0)
    rb = repeated_cv(b, X, y, n_splits=2, n_repeats=5, random_state=0)
    cv = RepeatedStratifiedKFold(n_splits=2, n_repeats=5, random_state=_cv_seed(0))
    ca, cb = repeated_cv(a, X, y, cv=cv), repeated_cv(b, X, y, cv=cv)
    assert ca.scores.shape == (5, 2)
    np.testing.assert_array_equal(ca.scores, ra.scores)  # same splits: identical numbers, same layout
    np.testing.assert_array_equal(cb.scores, rb.scores)
    for test in (paired_t_5x2cv, f_test_5x2cv):
        via_cv, via_args = test(ca, cb), test(ra, rb)
        assert (via_cv.statistic, via_cv.p_value) == (via_args.statistic, via_args.p_value)
    # RepeatedKFold (a regressor's default) is shaped the same way; other splitters keep one row
    Xr, yr = X[:, :5], X[:, 5]
    assert repeated_cv(Ridge(), Xr, yr, cv=RepeatedKFold(n_splits=3, n_repeats=4, random_state=1)).scores.shape \
        == (4, 3)
    assert repeated_cv(Ridge(), Xr, yr, cv=KFold(n_splits=4)).scores.shape == (1, 4)


# 3. workbench._report: two notebooks named alike in different folders wrote one HTML page (and one student
#    copy); a folder argument was refused as "no such notebook file"; --student with no notebooks exited 0.
def test_report_output_names_are_unique_and_prefixed_only_on_collision(tmp_path):
    from workbench._report import output_names

    a, b, c = tmp_path / "a" / "01_x.ipynb", tmp_path / "b" / "01_x.ipynb", tmp_path / "a" / "02_y.ipynb"
    assert output_names([a, b, c]) == ["a__01_x", "b__01_x", "02_y"]
    assert output_names([a, c]) == ["01_x", "02_y"]  # no collision: plain names, as before
    assert output_names([a, a]) == ["01_x", "01_x"]  # the same file is one page
    deep = [tmp_path / "p" / "s" / "n.ipynb", tmp_path / "q" / "s" / "n.ipynb"]
    assert output_names(deep) == ["p__s__n", "q__s__n"]


def test_report_same_name_in_two_folders_writes_two_pages(tmp_path, tiny_notebook):
    from workbench._report import main

    one = tiny_notebook(tmp_path / "a", "01_x", "print('from-a')")
    two = tiny_notebook(tmp_path / "b", "01_x", "print('from-b')")
    out = tmp_path / "out"
    assert main([str(one), str(two), "--fast", "--out", str(out)]) == 0
    assert "from-a" in (out / "a__01_x.html").read_text() and "from-b" in (out / "b__01_x.html").read_text()
    index = (out / "index.html").read_text()
    assert 'href="a__01_x.html"' in index and 'href="b__01_x.html"' in index
    student = tmp_path / "student"
    assert main([str(one), str(two), "--student", "--out", str(student)]) == 0
    assert sorted(p.name for p in student.iterdir()) == ["a__01_x.ipynb", "b__01_x.ipynb"]


def test_report_expands_a_folder_and_fails_alike_when_nothing_is_found(tmp_path, capsys, tiny_notebook):
    from workbench._report import expand_paths, main

    folder = tmp_path / "nbs"
    second, first = tiny_notebook(folder, "02_b", "x = 2"), tiny_notebook(folder, "01_a", "x = 1")
    assert expand_paths([folder, first]) == [first, second]  # sorted, each file once
    out = tmp_path / "out"
    assert main([str(folder), "--fast", "--out", str(out)]) == 0
    assert (out / "01_a.html").exists() and (out / "02_b.html").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    capsys.readouterr()
    assert main([str(empty), "--out", str(tmp_path / "o1")]) == 1
    normal = capsys.readouterr().err
    assert main([str(empty), "--student", "--out", str(tmp_path / "o2")]) == 1
    student = capsys.readouterr().err
    assert "no notebooks found" in normal and student == normal
    assert not (tmp_path / "o2").exists()


# 4. A target policy with a rounding residue (-1e-12) is refused, as before, but the message named only the row:
#    raise_if_any reported a value for 1-D input only.
def test_probability_check_names_the_first_offending_value_of_a_2d_policy():
    from workbench._validation import check_distribution, check_probability

    pol = np.full((6, 3), 1 / 3)
    pol[4] = [0.5 + 1e-12, 0.5, -1e-12]
    pol[5, 0] = -0.5
    with pytest.raises(ValidationError, match=r"policy: must be in \[0, 1\]; 2 of 6 rows break the rule, first at "
                                              r"row 4 \(value -1e-12\)") as err:
        check_distribution(pol, "policy")
    assert err.value.value == -1e-12 and err.value.first == 4
    ranked = np.full((2, 2, 2), 0.5)
    ranked[1, 1, 0] = 1.5  # (n, n_actions, n_positions): the offending entry, not the row's first
    with pytest.raises(ValidationError, match=r"first at row 1 \(value 1.5\)"):
        check_probability(ranked, "policy", allow_zero=True)
    # acceptance unchanged: a valid distribution passes, 1-D messages as before
    np.testing.assert_array_equal(check_distribution(np.full((2, 2), 0.5), "policy"), np.full((2, 2), 0.5))
    with pytest.raises(ValidationError, match=r"first at row 1 \(value 0.0\)"):
        check_probability([0.5, 0.0], "propensity")


def test_evaluate_policy_message_shows_the_rounding_residue():
    from workbench.data import simulate_bandit
    from workbench.ope import evaluate_policy

    log, _ = simulate_bandit(50, n_actions=3, random_state=0)
    pol = np.full((50, 3), 1 / 3)
    pol[7] = [0.5 + 1e-12, 0.5, -1e-12]
    with pytest.raises(ValidationError, match=r"first at row 7 \(value -1e-12\)"):
        evaluate_policy(log, pol, estimators=["ips"], n_bootstrap=50)
