"""Walk of workbench.data as a new user would use it: regressions for the defects it found."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from workbench import ValidationError
from workbench.data import (BanditLog, ContinuousBanditLog, PredictionLog, load_open_bandit, loss_matrix,
                            make_model_zoo, simulate_bandit)


# -- model outputs: a NaN is named by model and point -------------------------------------------------
def _probs_with_nan():
    probs = np.full((2, 1000, 2), 0.5)
    probs[1, 3, 0] = np.nan
    return probs


def test_prediction_log_names_model_and_point_of_a_nan_probability():
    """check_finite counted the first axis (the models) as rows: "1 of 2 rows breaks the rule, first at
    row 1" for point 3 of model 1."""
    with pytest.raises(ValidationError, match=r"^probs: must be finite \(no NaN or inf\); 1 of 2000 \(model, point\) "
                                              r"entries break the rule, first at model 1, point 3$"):
        PredictionLog(_probs_with_nan())


@pytest.mark.parametrize("outputs", ["probs", "predictions"])
def test_loss_matrix_names_model_and_point_of_a_nan_output(outputs):
    if outputs == "probs":
        out, y = _probs_with_nan(), np.zeros(1000, int)
    else:
        out, y = np.zeros((2, 1000)), np.zeros(1000)
        out[1, 3] = np.inf
    with pytest.raises(ValidationError, match=r"^outputs: must be finite .*1 of 2000 \(model, point\) entries break "
                                              r"the rule, first at model 1, point 3$"):
        loss_matrix(out, y)
    # valid outputs are unchanged (a boolean one-hot is still read as 0 / 1)
    onehot = np.eye(2, dtype=bool)[np.array([[0, 1, 1]])]
    assert loss_matrix(onehot, [0, 1, 0]).tolist() == [[0.0, 0.0, 1.0]]


# -- BanditLog.from_frame: nothing coerced silently ---------------------------------------------------
def test_from_frame_refuses_a_complex_context_column():
    """pandas counts complex as numeric: the float conversion dropped the imaginary part with only
    numpy's ComplexWarning."""
    df = pd.DataFrame({"action": [0, 1], "reward": [1.0, 0.0], "propensity": [0.5, 0.5], "x": [1 + 2j, 3 + 0j]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValidationError, match=r"^context: columns must be real numbers; \['x'\] are complex"):
            BanditLog.from_frame(df, context=["x"])


# -- ContinuousBanditLog ------------------------------------------------------------------------------
def test_continuous_log_refuses_boolean_actions():
    """A boolean price was read as 0 / 1 (BanditLog refuses boolean actions by name)."""
    with pytest.raises(ValidationError, match="^action: must be numbers in \\[a_min, a_max\\], got dtype bool"):
        ContinuousBanditLog(action=np.array([True, False]), reward=[1.0, 0.0], density=[0.2, 0.2], a_min=0, a_max=5)
    log = ContinuousBanditLog(action=[1, 2], reward=[True, False], density=[0.2, 0.2], a_min=0, a_max=5)
    assert log.action.tolist() == [1.0, 2.0] and log.reward.tolist() == [1.0, 0.0]  # integers and boolean rewards kept


# -- the Open Bandit loader on files laid out like the public download ----------------------------------
def _campaign(n_items=6, n=30, user_features=True, item_categories=True):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "timestamp": [str(t) for t in pd.date_range("2019-11-24", periods=n, freq="s", tz="UTC")],
        "item_id": np.arange(n) % n_items, "position": rng.integers(1, 4, n), "click": rng.integers(0, 2, n),
        "propensity_score": np.full(n, 1 / n_items)})
    if user_features:
        for j in range(2):
            frame[f"user_feature_{j}"] = [f"u{j}_{v}" for v in rng.integers(0, 3, n)]
    items = pd.DataFrame({"item_id": np.arange(n_items), "item_feature_0": rng.normal(size=n_items)})
    if item_categories:
        items["item_feature_1"] = [f"c_{v}" for v in rng.integers(0, 3, n_items)]
    return frame, items


def _write(root: Path, frame, items) -> Path:
    folder = root / "random" / "men"
    folder.mkdir(parents=True)
    frame.to_csv(folder / "men.csv")
    items.to_csv(folder / "item_context.csv")
    return root


@pytest.mark.parametrize("user_features, item_categories", [(False, True), (True, False), (False, False)])
def test_loader_reads_files_without_categorical_features(tmp_path, user_features, item_categories):
    """pandas' get_dummies of no column raised a bare "No objects to concatenate"."""
    frame, items = _campaign(user_features=user_features, item_categories=item_categories)
    log = load_open_bandit("random", "men", path=_write(tmp_path, frame, items))
    assert len(log) == 30 and log.n_actions == 6
    assert (log.context is None) == (not user_features) and log.context_names == (
        None if not user_features else log.context_names)
    assert log.action_context.shape[1] == (1 if not item_categories else 3)
    assert np.array_equal(log.action_context[:, 0], items["item_feature_0"])


def test_loader_refuses_a_click_that_is_not_0_or_1(tmp_path):
    """A click of 2 was a reward of 2, silently."""
    frame, items = _campaign()
    frame.loc[[7, 12], "click"] = [2, -1]
    with pytest.raises(ValidationError, match=r"^men.csv.click: must be 0 or 1 \(a click\); 2 of 30 rows break the "
                                              r"rule, first at row 7 \(value 2.0\)"):
        load_open_bandit("random", "men", path=_write(tmp_path, frame, items))


def test_loader_names_a_duplicated_item_id(tmp_path):
    """Six items with item 2 listed twice read "must be 0..6 with each item once"."""
    frame, items = _campaign()
    items = pd.concat([items, items.iloc[[2]]])
    with pytest.raises(ValidationError, match=r"^item_context.item_id: must list each item once; 1 id\(s\) appear more "
                                              r"than once, first 2$"):
        load_open_bandit("random", "men", path=_write(tmp_path, frame, items))


# -- PredictionLog files and the zoo cache -------------------------------------------------------------
def _damaged_copies(path: Path, tmp_path: Path):
    data = path.read_bytes()
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(data[: len(data) // 2])
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0xFF  # inside a member: a checksum error when it is read
    bad_crc = tmp_path / "bad_crc.npz"
    bad_crc.write_bytes(bytes(flipped))
    return truncated, bad_crc


def test_load_of_a_damaged_file_is_a_validation_error(tmp_path):
    """zipfile's BadZipFile (not a ValueError) came out of np.load or of reading a member."""
    rng = np.random.default_rng(0)
    path = PredictionLog(rng.dirichlet(np.ones(3), size=(3, 500)), labels=rng.integers(0, 3, 500)).save(
        tmp_path / "log.npz")
    truncated, bad_crc = _damaged_copies(path, tmp_path)
    with pytest.raises(ValidationError, match="^path: .*truncated.npz' could not be read as a saved PredictionLog"):
        PredictionLog.load(truncated)
    with pytest.raises(ValidationError, match="^path: .*bad_crc.npz' is damaged and could not be read"):
        PredictionLog.load(bad_crc)


def test_model_zoo_refits_over_a_damaged_cache_entry(tmp_path):
    """A damaged cache file made every later call fail until it was found and deleted."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 3))
    y = (X[:, 0] > 0).astype(int)
    kw = dict(n_models=2, random_state=0, cache_dir=tmp_path, progress=False)
    zoo = make_model_zoo(X, y, **kw)
    (entry,) = (tmp_path / "zoo").glob("*.npz")
    entry.write_bytes(entry.read_bytes()[:200])
    with pytest.warns(RuntimeWarning, match="cached zoo could not be read"):
        again = make_model_zoo(X, y, **kw)
    assert np.array_equal(again.probs, zoo.probs)
    assert np.array_equal(PredictionLog.load(entry).probs, zoo.probs)  # the entry is whole again


# -- simulators: the documented truth ----------------------------------------------------------------
def test_simulate_bandit_binary_truth_is_the_documented_formula():
    """The docstring said q = sigmoid(x' B e_a + c_a); the code (and the truth) is sigmoid(... - 1).
    The same seed draws the same world for both reward types, so the binary truth is the logistic
    of the continuous truth minus one."""
    _, binary = simulate_bandit(300, n_actions=4, random_state=3)
    _, continuous = simulate_bandit(300, n_actions=4, reward_type="continuous", random_state=3)
    assert np.allclose(binary.expected_reward, expit(continuous.expected_reward - 1.0), rtol=0, atol=1e-15)
    import workbench.data.simulate as sim
    assert "sigmoid(x' B e_a + c_a - 1)" in sim.simulate_bandit.__doc__


def test_loader_reads_files_written_without_the_index_column(tmp_path):
    """index_col=0 took the first column (timestamp, item_id) of a file written with to_csv(index=False)
    as the index: "men.csv: unknown column name(s) ['timestamp']" for a file that has one."""
    frame, items = _campaign()
    expected = load_open_bandit("random", "men", path=_write(tmp_path / "indexed", frame, items))
    folder = tmp_path / "plain" / "random" / "men"
    folder.mkdir(parents=True)
    frame.to_csv(folder / "men.csv", index=False)
    items.to_csv(folder / "item_context.csv", index=False)
    log = load_open_bandit("random", "men", path=tmp_path / "plain")
    for name in ("action", "reward", "propensity", "position", "timestamp", "context", "action_context"):
        assert np.array_equal(getattr(log, name), getattr(expected, name)), name
    assert log.context_names == expected.context_names


def test_classification_to_bandit_refuses_a_logger_that_does_not_predict_labels():
    """astype(int) floored a regressor's predictions into classes (2.7 -> 2, -1.2 -> -1, the last class)."""
    from sklearn.linear_model import Ridge
    from sklearn.tree import DecisionTreeClassifier

    from workbench.data import classification_to_bandit

    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 2))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    with pytest.raises(ValidationError, match=r"^model: must predict class labels in \[0, 3\) \(a classifier, not a "
                                              r"regressor\); \d+ of 300 rows break the rule, first at row 0"):
        classification_to_bandit(X, y, model=Ridge(), random_state=0)
    log, truth = classification_to_bandit(X, y, model=DecisionTreeClassifier(random_state=0), epsilon=0.3,
                                          random_state=0)
    assert truth.behavior_value == pytest.approx(0.7 + 0.3 / 3)  # a perfect fit on its own data: 1 - eps + eps / k


@pytest.mark.parametrize("kw, field, hint", [({"probs": np.full((5, 3), 1 / 3)}, "probs", r"probs\[None\]"),
                                             ({"predictions": np.zeros(5)}, "predictions", r"predictions\[None\]")])
def test_prediction_log_of_one_models_outputs_says_how_to_add_the_model_axis(kw, field, hint):
    """One model's (n_points, n_classes) probabilities read only "probs: must be 3-D, got shape (5, 3)"."""
    with pytest.raises(ValidationError, match=rf"^{field}: must be \d-D \(n_models, n_points.*\), got shape .*{hint}"):
        PredictionLog(**kw)
    assert PredictionLog(**{field: kw[field][None]}).n_models == 1


def test_loader_keeps_numeric_timestamps_as_numbers(tmp_path):
    """Numbers were read as epoch nanoseconds: epoch seconds 1574553634 became 1970-01-01 00:00:01.57."""
    frame, items = _campaign()
    frame["timestamp"] = 1574553634 + np.arange(30)
    log = load_open_bandit("random", "men", path=_write(tmp_path, frame, items))
    assert log.timestamp.dtype == np.int64 and np.array_equal(log.timestamp, frame["timestamp"])
    first, second = log.split(0.5, by="time")
    assert first.timestamp.max() < second.timestamp.min()


def test_continuous_log_says_a_nan_density_is_missing():
    """A NaN density (a pandas NA) was refused with the rule for an infinite one ("a point mass")."""
    density = pd.array([0.2, None, 0.2], dtype="Float64")
    with pytest.raises(ValidationError, match=r"^density: must not be missing \(NaN\); 1 of 3 rows breaks the rule, "
                                              r"first at row 1"):
        ContinuousBanditLog(action=[1.0, 2.0, 3.0], reward=[0.0, 1.0, 2.0], density=density, a_min=0, a_max=5)
    with pytest.raises(ValidationError, match=r"^density: must be finite \(an infinite density is a point mass"):
        ContinuousBanditLog(action=[1.0, 2.0], reward=[0.0, 1.0], density=[0.2, np.inf], a_min=0, a_max=5)
