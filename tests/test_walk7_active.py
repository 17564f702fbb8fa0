"""Walk 7 of the active pillar: an ML engineer's zoo built from pandas, with string class names."""
import numpy as np
import pandas as pd
import pytest

from workbench._validation import ValidationError
from workbench.active import benchmark_risk, estimate_risk, select_model
from workbench.data import PredictionLog


def _zoo(n=30, seed=0):
    rng = np.random.default_rng(seed)
    return rng.dirichlet(np.ones(3), size=(3, n)), rng.integers(0, 3, n)


@pytest.mark.parametrize("as_", [np.asarray, pd.Series, pd.Categorical, list])
def test_class_names_as_labels_are_refused_with_the_mapping(as_):
    # A Series (or Categorical) of class names was refused as "must be numeric, got an object array (mixed or
    # missing values?)", a numpy array as "must hold integer class labels, got dtype <U3": neither said that the
    # labels were names, nor how to map them to the columns of probs.
    P, y = _zoo()
    names = as_(np.array(["cat", "dog", "eel"])[y])
    with pytest.raises(ValidationError, match=r"oracle: must hold class indices .* not class names; 30 of 30 rows "
                                              r"break the rule, first at row 0 \(value 'cat'\)\. Map each name.*"
                                              r"pd\.Categorical"):
        estimate_risk(P[0], names, 5, random_state=0)
    with pytest.raises(ValidationError, match="oracle: must hold class indices .* not class names"):
        select_model(P, names, 5, random_state=0)
    with pytest.raises(ValidationError, match="labels: must hold class indices .* not class names"):
        benchmark_risk(P[0], names, {}, 5)


def test_mixed_list_names_the_first_string_and_integer_lists_still_pass():
    P, y = _zoo()
    mixed = [int(v) for v in y]
    mixed[7] = "dog"
    with pytest.raises(ValidationError, match=r"1 of 30 rows breaks the rule, first at row 7 \(value 'dog'\)"):
        estimate_risk(P[0], mixed, 5, random_state=0)
    ref = estimate_risk(P[0], y, 5, random_state=0).estimates
    for as_ in (list, tuple, pd.Series):
        np.testing.assert_array_equal(estimate_risk(P[0], as_(y.tolist()), 5, random_state=0).estimates, ref)


def test_callable_oracle_returning_a_name_says_to_return_the_column():
    P, y = _zoo()
    names = np.array(["cat", "dog", "eel"])[y]
    with pytest.raises(ValidationError, match=r"returned np.str_\('\w+'\) for point \d+.*Return the class's column"):
        select_model(P, lambda i: names[i], 5, random_state=0)


def _labelled_log(seed=0):
    from workbench.data import PredictionLog

    P, y = _zoo(n=60, seed=seed)
    return PredictionLog(P, model_names=["lr", "rf", "nb"], labels=y)


def test_benchmark_selection_takes_one_name_log_pair_on_its_own():
    # ("mine", log) was iterated: "mine" was taken for a task and refused as "each task must be a SelectionTask, a
    # (name, PredictionLog) pair or a PredictionLog", which is what had been passed
    from workbench.active import benchmark_selection

    log = _labelled_log()
    one = benchmark_selection(("mine", log), "random", budgets=4, seeds=2)
    listed = benchmark_selection([("mine", log)], "random", budgets=4, seeds=2)
    pd.testing.assert_frame_equal(one.curves, listed.curves)
    assert one.summary["task"].tolist() == ["mine"]


def test_benchmark_selection_several_bare_logs_are_told_to_be_named():
    from workbench.active import benchmark_selection

    log = _labelled_log()
    with pytest.raises(ValidationError, match=r"'task' appears 2 times\. A bare PredictionLog is named 'task': name "
                                              r"several as \(name, log\) pairs"):
        benchmark_selection([log, _labelled_log(1)], "random", budgets=4, seeds=2)
    two = benchmark_selection((("a", log), ("b", _labelled_log(1))), "random", budgets=4, seeds=2)  # a tuple of pairs
    assert two.summary["task"].tolist() == ["a", "b"]


def test_per_model_frames_with_classes_in_other_column_orders_are_refused():
    # Each model's probabilities as a frame from its own JSON records ({class: prob}, keys in the service's order):
    # stacked by position, model 1's "eel" column was read as class "cat", silently.
    from workbench.active import consensus_accuracy, geometric_consensus

    P, y = _zoo()
    classes = ["cat", "dog", "eel"]
    frames = [pd.DataFrame(P[j], columns=classes) for j in range(3)]
    shuffled = [frames[0], frames[1][["eel", "cat", "dog"]], frames[2]]
    rule = (r"DataFrame 1 must have the columns \(classes\) of DataFrame 0 in the same order.*3 of 3 columns differ, "
            r"first column 0: 'eel' in DataFrame 1, 'cat' in DataFrame 0")
    with pytest.raises(ValidationError, match="prediction_log: " + rule):
        select_model(shuffled, y, 5, random_state=0)
    with pytest.raises(ValidationError, match="prediction_log: " + rule):
        consensus_accuracy(shuffled)
    with pytest.raises(ValidationError, match="probs: " + rule):
        geometric_consensus(shuffled)
    # frames in one column order are stacked as before
    same = select_model(frames, y, 5, random_state=0)
    np.testing.assert_array_equal(same.indices, select_model(P, y, 5, random_state=0).indices)
    np.testing.assert_array_equal(consensus_accuracy(frames).to_numpy(), consensus_accuracy(P).to_numpy())
    # the log container itself refuses them too (it stacked them silently)
    with pytest.raises(ValidationError, match="probs: " + rule):
        PredictionLog(probs=shuffled)
    np.testing.assert_array_equal(PredictionLog(probs=frames).probs, P)


def _wide_frame():
    P, y = _zoo()
    classes = ["cat", "dog", "eel"]
    frame = pd.concat([pd.DataFrame(P[j], columns=classes).assign(model=m, point=np.arange(P.shape[1]))
                       for j, m in enumerate(["lr", "rf", "nb"])], ignore_index=True)
    return P, y, classes, frame[["model", "point"] + classes]


def test_a_wide_frame_given_as_the_zoo_is_refused_with_how_to_stack_it():
    # was "must be numeric, got an object array (mixed or missing values?)" (its model column)
    from workbench.active import consensus_accuracy, geometric_consensus

    P, y, classes, frame = _wide_frame()
    msg = r"must be a PredictionLog or an array \(n_models, n_points, n_classes\), got a DataFrame of shape \(90, 5\)"
    with pytest.raises(ValidationError, match="prediction_log: " + msg + r".*groupby\('model'"):
        select_model(frame, y, 5, random_state=0)
    with pytest.raises(ValidationError, match="prediction_log: " + msg):
        consensus_accuracy(frame)
    with pytest.raises(ValidationError, match="probs: " + msg.replace("5", "3")):
        geometric_consensus(frame[classes])  # numeric, but still a table, not a zoo
    stacked = np.stack([g[classes].to_numpy() for _, g in frame.groupby("model", sort=False)])  # the hint's recipe
    np.testing.assert_array_equal(stacked, P)


def test_one_models_frame_with_an_id_column_names_the_column():
    P, y, classes, frame = _wide_frame()
    one = frame[frame.model == "lr"]
    with pytest.raises(ValidationError, match=r"probs: must hold one column of probabilities per class; 1 of 5 "
                                              r"columns are not numeric, first 'model'.*frame\[classes\]"):
        estimate_risk(one, y, 5, random_state=0)
    with pytest.raises(ValidationError, match="probs: .* columns are not numeric, first 'model'"):
        benchmark_risk(one, y, {}, 5)
    np.testing.assert_array_equal(estimate_risk(one[classes], y, 5, random_state=0).estimates,
                                  estimate_risk(P[0], y, 5, random_state=0).estimates)


def test_one_models_frame_with_a_repeated_column_name_is_read_as_its_array():
    # the column check read probs[c], a frame for a repeated name: AttributeError "'DataFrame' object has no
    # attribute 'dtype'" (the array of the same frame was always accepted)
    P, y, classes, frame = _wide_frame()
    one = frame[frame.model == "lr"][classes]
    dup = one.set_axis([classes[0]] * 2 + list(classes[2:]), axis=1)
    np.testing.assert_array_equal(estimate_risk(dup, y, 5, random_state=0).estimates,
                                  estimate_risk(P[0], y, 5, random_state=0).estimates)
    # a repeated name on an id column and a number column: the id column is named, with its dtype
    ids = frame[frame.model == "lr"].set_axis(["model", "model"] + classes, axis=1)
    with pytest.raises(ValidationError, match=r"probs: .*; 1 of 5 columns are not numeric, first 'model' \(dtype "):
        estimate_risk(ids, y, 5, random_state=0)
