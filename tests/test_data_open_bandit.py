"""The Open Bandit loader (shipped sample and any folder in the public layout) and the BTS policy."""
import gzip
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench import ValidationError
from workbench.data import load_open_bandit, open_bandit_bts_policy
from workbench.data.open_bandit import data_dir

SHIPPED = data_dir() / "open_bandit"


def test_shipped_random_sample():
    log = load_open_bandit("random", campaign="all")
    raw = pd.read_csv(SHIPPED / "random" / "all" / "all.csv.gz", index_col=0)
    assert len(log) == len(raw) == 10_000 and log.n_actions == 80 and log.n_positions == 3
    assert np.array_equal(log.action, raw["item_id"]) and np.array_equal(log.reward, raw["click"])
    assert np.array_equal(log.position, raw["position"] - 1)
    assert np.allclose(log.propensity, 1 / 80)
    assert log.context.shape[0] == 10_000 and set(np.unique(log.context)) <= {0.0, 1.0}
    assert log.action_context.shape[0] == 80
    assert np.all(np.diff(log.timestamp.astype("int64")) >= 0)  # the file is in time order
    assert int(log.reward.sum()) == int(raw["click"].sum())


def test_shipped_bts_sample_click_rate():
    log = load_open_bandit("bts", campaign="all")
    assert len(log) == 10_000 and 0.0041 < log.reward.mean() < 0.0043
    assert log.propensity.min() > 0 and log.propensity.max() < 1


def _public_layout(root: Path, campaign: str, frame: pd.DataFrame, items: pd.DataFrame, gz: bool):
    folder = root / "random" / campaign
    folder.mkdir(parents=True)
    items.to_csv(folder / "item_context.csv")
    if gz:
        with gzip.open(folder / f"{campaign}.csv.gz", "wt") as fh:
            frame.to_csv(fh)
    else:
        frame.to_csv(folder / f"{campaign}.csv")


def test_path_layout_for_any_campaign(tmp_path):
    """A synthetic 'men' campaign with 34 items and positions numbered 1..3 loads like the real one."""
    raw = pd.read_csv(SHIPPED / "random" / "all" / "all.csv.gz", index_col=0)
    items = pd.read_csv(SHIPPED / "random" / "all" / "item_context.csv", index_col=0)
    men = raw[raw["item_id"] < 34].copy()
    men["propensity_score"] = 1 / 34
    _public_layout(tmp_path, "men", men.reset_index(drop=True), items[items["item_id"] < 34], gz=True)
    log = load_open_bandit("random", campaign="men", path=tmp_path)
    assert log.n_actions == 34 and len(log) == len(men) and np.allclose(log.propensity, 1 / 34)
    assert np.array_equal(log.action, men["item_id"])
    with pytest.raises(ValidationError, match="no folder"):
        load_open_bandit("random", campaign="women", path=tmp_path)
    with pytest.raises(ValidationError, match="ships only the 'all' campaign"):
        load_open_bandit("random", campaign="women")
    with pytest.raises(ValidationError, match="behavior: must be one of"):
        load_open_bandit("thompson")


def test_path_layout_plain_csv_equals_shipped(tmp_path):
    dst = tmp_path / "random" / "all"
    dst.mkdir(parents=True)
    shutil.copy(SHIPPED / "random" / "all" / "item_context.csv", dst)
    with gzip.open(SHIPPED / "random" / "all" / "all.csv.gz", "rb") as fin, open(dst / "all.csv", "wb") as fout:
        shutil.copyfileobj(fin, fout)
    a, b = load_open_bandit("random", path=tmp_path), load_open_bandit("random")
    assert np.array_equal(a.action, b.action) and np.array_equal(a.context, b.context)


def test_bad_file_is_reported(tmp_path):
    raw = pd.read_csv(SHIPPED / "random" / "all" / "all.csv.gz", index_col=0).head(50)
    items = pd.read_csv(SHIPPED / "random" / "all" / "item_context.csv", index_col=0)
    raw.loc[raw.index[7], "propensity_score"] = 0.0
    _public_layout(tmp_path, "all", raw, items, gz=False)
    with pytest.raises(ValidationError, match=r"propensity: must be in \(0, 1\]; 1 of 50 rows breaks the rule, first at row 7"):
        load_open_bandit("random", path=tmp_path)


def test_bts_policy_is_a_distribution_and_matches_the_known_fact():
    dist = open_bandit_bts_policy("all", n_sim=100_000, random_state=0)
    assert dist.shape == (80, 3) and np.allclose(dist.sum(axis=0), 1) and (dist >= 0).all()
    # An item appears at most once per slate, so its three slot probabilities sum to at most 1.
    assert (dist.sum(axis=1) <= 1 + 1e-12).all()
    log = load_open_bandit("random")
    w = dist[log.action, log.position] / log.propensity
    ratio = np.mean(w * log.reward) / log.reward.mean()
    assert 1.17 < ratio < 1.23  # obp's README reports 1.198 for this sample
    again = open_bandit_bts_policy("all", n_sim=100_000, random_state=0)
    assert np.array_equal(dist, again)
    other = open_bandit_bts_policy("all", n_sim=100_000, random_state=1)
    assert np.abs(other - dist).max() < 5 * 0.5 / np.sqrt(100_000) and not np.array_equal(other, dist)


def test_bts_policy_ranks_by_prior_mean():
    """With many simulations the most-shown item in slot 0 is the one with the highest prior mean."""
    import yaml

    with open(SHIPPED / "bts_prior.yaml") as fh:
        prior = yaml.safe_load(fh)["all"]
    mean = np.array(prior["alpha"]) / (np.array(prior["alpha"]) + np.array(prior["beta"]))
    dist = open_bandit_bts_policy("all", n_sim=20_000, random_state=0)
    assert dist[:, 0].argmax() == mean.argmax()


def test_slots_map_to_fixed_positions_whichever_slots_a_file_holds(tmp_path):
    """Slot s is position s - 1 even when slot 1 is absent (a dense rank would relabel 2, 3 as 0, 1)."""
    raw = pd.read_csv(SHIPPED / "random" / "all" / "all.csv.gz", index_col=0)
    items = pd.read_csv(SHIPPED / "random" / "all" / "item_context.csv", index_col=0)
    late = raw[raw["position"] >= 2].head(300).reset_index(drop=True)
    _public_layout(tmp_path, "men", late, items, gz=False)
    log = load_open_bandit("random", campaign="men", path=tmp_path)
    assert log.n_positions == 3 and np.array_equal(log.position, late["position"] - 1)
    assert set(np.unique(log.position)) == {1, 2}


@pytest.mark.parametrize("slot", [0, 4, 2.5])
def test_out_of_range_slot_is_rejected(tmp_path, slot):
    raw = pd.read_csv(SHIPPED / "random" / "all" / "all.csv.gz", index_col=0).head(40)
    items = pd.read_csv(SHIPPED / "random" / "all" / "item_context.csv", index_col=0)
    raw["position"] = raw["position"].astype(float)
    raw.loc[raw.index[5], "position"] = slot
    _public_layout(tmp_path, "all", raw, items, gz=False)
    with pytest.raises(ValidationError, match=r"^position: .*first at row 5"):
        load_open_bandit("random", path=tmp_path)


@pytest.mark.parametrize("kw, field", [({"n_sim": 2.5}, "n_sim"), ({"len_list": 2.5}, "len_list"),
                                       ({"len_list": 0}, "len_list"), ({"n_sim": float("nan")}, "n_sim")])
def test_bts_policy_integer_parameters_are_not_coerced(kw, field):
    with pytest.raises(ValidationError, match=f"^{field}: must be an integer"):
        open_bandit_bts_policy("all", **{"n_sim": 100, **kw})


def _small_campaign(n_items=34, n=40):
    """A tiny frame and item table shaped like a public campaign (hashed user / item features)."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        # str(datetime), as Python writes it: ".500000" on odd rows, no fraction at all on even ones
        "timestamp": [str(t.to_pydatetime()) for t in pd.date_range("2019-11-24 00:00:00.5", periods=n, freq="500ms",
                                                                    tz="UTC")],
        "item_id": rng.integers(0, n_items, n), "position": rng.integers(1, 4, n),
        "click": rng.integers(0, 2, n), "propensity_score": np.full(n, 1 / n_items),
        **{f"user_feature_{j}": [f"u{j}_{v}" for v in rng.integers(0, 3, n)] for j in range(4)},
        **{f"user-item_affinity_{j}": np.zeros(n) for j in range(n_items)}})
    items = pd.DataFrame({"item_id": np.arange(n_items), "item_feature_0": rng.normal(size=n_items),
                          **{f"item_feature_{j}": [f"c{j}_{v}" for v in rng.integers(0, 3, n_items)]
                             for j in (1, 2, 3)}})
    return frame, items


def test_timestamps_with_and_without_fractional_seconds_load(tmp_path):
    """str(datetime) drops ".000000" when the microseconds are 0: pandas' format inferred from the
    first row refused such a row (a plain ValueError), so a whole campaign file failed to load."""
    frame, items = _small_campaign()
    assert frame["timestamp"].iloc[0].endswith("00:00:00.500000+00:00")
    assert frame["timestamp"].iloc[1].endswith("00:00:01+00:00")
    _public_layout(tmp_path, "men", frame, items, gz=True)
    log = load_open_bandit("random", campaign="men", path=tmp_path)
    assert log.n_actions == 34 and len(log) == 40 and log.n_positions == 3
    expected = pd.to_datetime(frame["timestamp"], format="ISO8601").dt.tz_convert(None).to_numpy()
    assert np.array_equal(log.timestamp, expected)
    assert np.array_equal(log.position, frame["position"] - 1) and log.action_context.shape[0] == 34


@pytest.mark.parametrize("column, bad, rule", [("propensity_score", "abc", "must be numeric"),
                                               ("click", "yes", "must be numeric"),
                                               ("item_id", "x", "must be numeric"),
                                               ("timestamp", "garbage", "must be an ISO 8601 date and time"),
                                               ("user_feature_2", None, "must not be missing")])
def test_bad_cell_in_campaign_file_names_column_and_row(tmp_path, column, bad, rule):
    """A non-numeric cell raised a bare ValueError (no field, no row); a missing user feature was
    one-hot coded as the dropped first level, silently."""
    frame, items = _small_campaign()
    frame[column] = frame[column].astype(object)
    frame.loc[6, column] = bad
    _public_layout(tmp_path, "women", frame, items, gz=False)
    with pytest.raises(ValidationError, match=rf"^women.csv.{column}: {rule}; 1 of 40 rows breaks the rule, "
                                              r"first at row 6"):
        load_open_bandit("random", campaign="women", path=tmp_path)


def test_missing_item_feature_is_refused(tmp_path):
    frame, items = _small_campaign()
    items.loc[3, "item_feature_2"] = None
    _public_layout(tmp_path, "men", frame, items, gz=False)
    with pytest.raises(ValidationError, match=r"^item_context.csv.item_feature_2: must not be missing; .*first at row 3"):
        load_open_bandit("random", campaign="men", path=tmp_path)


@pytest.mark.parametrize("campaign, n_items", [("men", 34), ("women", 46)])
def test_bts_policy_other_campaigns(campaign, n_items):
    dist = open_bandit_bts_policy(campaign, n_sim=2_000, random_state=0)
    assert dist.shape == (n_items, 3) and np.allclose(dist.sum(axis=0), 1)


@pytest.mark.parametrize("text", ["", "- 1\n- 2\n", "all: 3\n", "all:\n  alpha: [1, 2]\n",
                                  "all:\n  alpha: [1, .nan]\n  beta: [1, 2]\n", "all:\n  alpha: [a, 1]\n  beta: [1, 2]\n",
                                  "all:\n  alpha: []\n  beta: []\n"])
def test_malformed_prior_file_is_a_validation_error(tmp_path, text):
    path = tmp_path / "prior.yaml"
    path.write_text(text)
    with pytest.raises(ValidationError, match="^bts_prior: "):
        open_bandit_bts_policy("all", n_sim=10, len_list=1, prior_path=path)
