import numpy as np
import pytest

from fairl.irl import METHODS, LinearReward, fit_reward
from fairl.irl.fit import validate_pairs
from fairl.metrics import preference_classification, starc_distance
from fairl.splits import train_test_split
from fairl.synthetic.data import make_synthetic_preferences
from tests.conftest import REALISABLE


@pytest.mark.parametrize("method", METHODS)
def test_every_method_recovers_a_realisable_reward(realisable, method):
    train, test = train_test_split(REALISABLE.n_pairs, 0.2, seed=0)
    a, b = realisable.subset(train), realisable.subset(test)
    reward = fit_reward(a.h_pos, a.h_neg, method, seed=0)
    r_pos, r_neg = reward.score(b.h_pos), reward.score(b.h_neg)
    groups = np.tile(np.arange(len(test)), 2)
    starc = starc_distance(np.r_[r_pos, r_neg], np.r_[b.r_pos, b.r_neg], groups)
    assert starc < 0.2
    assert preference_classification(r_pos, r_neg)["pair_accuracy"] > 0.9
    # the recovered direction, not just the ranking of these pairs
    iid = np.random.default_rng(1).standard_normal((4000, REALISABLE.dim))
    assert starc_distance(reward.score(iid), iid @ realisable.theta_star) < 0.2


@pytest.mark.parametrize("method", METHODS)
def test_same_seed_gives_identical_parameters(small_pairs, method):
    kwargs = {"rounds": 10} if method.startswith("fa_") else {"steps": 30}
    for regime in ("converged", "equal_budget"):
        a = fit_reward(*small_pairs, method, seed=3, optimisation=regime, **kwargs)
        b = fit_reward(*small_pairs, method, seed=3, optimisation=regime, **kwargs)
        assert np.array_equal(a.theta_d, b.theta_d) and np.array_equal(a.theta_f, b.theta_f)
    # the seed sets the initialisation (and S_t): it shows where optimisation stops early; a converged
    # hinge is solved exactly in its dual and does not depend on it at all
    c = fit_reward(*small_pairs, method, seed=4, optimisation="equal_budget", **kwargs)
    assert not np.array_equal(a.theta_d, c.theta_d)


def test_score_is_linear_in_features_and_sums_the_paths(small_pairs):
    reward = fit_reward(*small_pairs, "fa_max_entropy", seed=0, rounds=10)
    h = small_pairs[0][:7]
    r_d, r_f = reward.score_paths(h)
    assert reward.score(h).shape == (7,)
    assert np.allclose(reward.score(h), r_d + r_f)
    assert np.allclose(reward.score(h), h @ reward.theta + reward.bias)


def test_reward_has_zero_mean_on_training_outputs(small_pairs):
    reward = fit_reward(*small_pairs, "max_margin", seed=0)
    assert abs(reward.score(np.concatenate(small_pairs)).mean()) < 1e-9


def test_save_and_load_round_trip(tmp_path, small_pairs):
    reward = fit_reward(*small_pairs, "fa_max_margin", seed=0, rounds=5)
    reward.save(tmp_path / "reward.npz")
    loaded = LinearReward.load(tmp_path / "reward.npz")
    assert loaded.method == "fa_max_margin" and loaded.hyperparameters["rounds"] == 5
    assert np.array_equal(loaded.score(small_pairs[0]), reward.score(small_pairs[0]))


def test_calibration_matches_the_target_spread_and_keeps_the_ranking(tmp_path, small_pairs):
    from fairl.lm.extraction import calibrated

    reward = fit_reward(*small_pairs, "fa_max_margin", seed=0, rounds=5)
    h = np.concatenate(small_pairs)
    target = 3.0 + 7.0 * np.random.default_rng(0).standard_normal(len(h))
    scaled = calibrated(reward, h, target)
    values = scaled.score(h)
    assert np.isclose(values.mean(), target.mean()) and np.isclose(values.std(), target.std())
    assert np.array_equal(np.argsort(values), np.argsort(reward.score(h)))
    assert starc_distance(values, reward.score(h)) < 1e-6
    scaled.save(tmp_path / "scaled.npz")
    loaded = LinearReward.load(tmp_path / "scaled.npz")
    assert loaded.calibration == scaled.calibration and loaded.calibration["scale"] > 0
    assert np.allclose(loaded.score(h), values)
    with pytest.raises(ValueError, match="scale > 0"):
        reward.affine(-1.0)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("regime", ["converged", "equal_budget"])
def test_float32_features_give_the_rewards_of_their_float64_copy(method, regime):
    """float32 features skip validate_pairs' float64 copy (a third of a large L-BFGS fit): the same reward, bit for
    bit, as before, when every fit saw float64 (a column-major array still takes the float64 route)."""
    rng = np.random.default_rng(5)
    scale = rng.uniform(0.01, 50, 40)  # unequal columns: the standardisation has work to do
    h_neg = (rng.standard_normal((300, 40)) * scale).astype(np.float32)
    h_pos = (h_neg + (rng.standard_normal((300, 40)) + 0.4) * scale).astype(np.float32)
    kwargs = {"rounds": 5} if method.startswith("fa_") else {}

    def fit(p, n):
        reward = fit_reward(p, n, method, seed=1, optimisation=regime, **kwargs)
        return reward.theta_d, reward.theta_f, reward.bias_d, reward.bias_f, reward.convergence

    def same(a, b):
        return all(np.array_equal(x, y) for x, y in zip(a[:4], b[:4])) and a[4] == b[4]

    reference = fit(h_pos.astype(np.float64), h_neg.astype(np.float64))
    assert validate_pairs(h_pos, h_neg)[0] is h_pos  # the float32 route: no copy
    assert same(fit(h_pos, h_neg), reference)
    column_major = [np.asfortranarray(h) for h in (h_pos, h_neg)]  # what it gave before: its float64 copy's reward
    assert validate_pairs(*column_major)[0].dtype == np.float64
    assert same(fit(*column_major), fit(*[h.astype(np.float64) for h in column_major]))
    # Negative control: one feature one float32 ulp away gives another reward (at least another bias).
    nudged = h_pos.copy()
    nudged[7, 3] = np.nextafter(nudged[7, 3], np.float32(np.inf))
    assert not same(fit(nudged, h_neg), reference)


@pytest.mark.parametrize("shape", [(20000, 1), (9000, 3)])
def test_float32_features_keep_the_bias_bits_of_their_float64_copy_on_long_columns(shape):
    """The mean that sets the biases is summed in float64 from the float32 columns: over more rows than numpy's
    8192-element reduction buffer, and for a single column, it still equals the float64 copy's sum bit for bit."""
    rng = np.random.default_rng(6)
    h_neg = (rng.standard_normal(shape) * 30 + 7).astype(np.float32)
    h_pos = (h_neg + rng.standard_normal(shape) + 0.5).astype(np.float32)
    ours = fit_reward(h_pos, h_neg, "max_entropy", seed=0)
    theirs = fit_reward(h_pos.astype(np.float64), h_neg.astype(np.float64), "max_entropy", seed=0)
    assert np.array_equal(ours.theta_d, theirs.theta_d) and ours.bias_d == theirs.bias_d
    read_only = h_pos.copy()
    read_only.flags.writeable = False  # takes the float64 route (torch.from_numpy warns on a read-only array)
    assert validate_pairs(read_only, h_neg)[0].dtype == np.float64


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda p, n: (p[:, :4], n), "same shape"),
        (lambda p, n: (p[:1], n[:1]), "at least 2"),
        (lambda p, n: (p[0], n[0]), "2-D"),
        (lambda p, n: (np.where(np.arange(5) == 2, np.nan, p), n), "NaN or inf"),
        (lambda p, n: (p, np.where(np.arange(5) == 0, np.inf, n)), "h_neg contains NaN or inf"),
        # float32 features are fitted without a float64 copy: checked all the same
        (lambda p, n: (np.where(np.arange(5) == 2, np.nan, p).astype(np.float32), n.astype(np.float32)), "NaN or inf"),
    ],
)
def test_bad_features_raise(small_pairs, mutate, message):
    h_pos, h_neg = mutate(*small_pairs)
    with pytest.raises(ValueError, match=message):
        fit_reward(h_pos, h_neg, "max_margin")


@pytest.mark.parametrize(
    ("method", "kwargs", "message"),
    [
        ("irl", {}, "unknown method"),
        ("max_margin", {"learning_rate": 0.1}, "unknown hyperparameter"),
        ("max_margin", {"rounds": 10}, "apply only to FA-IRL"),
        ("fa_max_margin", {"steps": 10}, "apply only to standard IRL"),
        ("fa_max_margin", {"margin_failure": 0.05}, "must exceed margin"),
        ("fa_max_entropy", {"temperature_failure": 0.2}, "temperature_failure"),
        ("fa_max_margin", {"failure_mode": "oracle"}, "unknown failure_mode"),
        ("fa_max_margin", {"failure_mode": "supervised"}, "needs failure_labels"),
        ("fa_max_margin", {"failure_mode": "supervised", "failure_labels": np.ones(3, bool)}, "shape"),
        ("fa_max_margin", {"failure_labels": np.ones(64, bool)}, "only with failure_mode='supervised'"),
        ("max_entropy", {"temperature": 0.0}, "temperature must be > 0"),
        ("fa_max_margin", {"sampling_init": 1.5}, "probability"),
        ("max_margin", {"steps": 0}, "positive integer"),
        ("max_margin", {"optimisation": "early_stopped"}, "unknown optimisation"),
        ("fa_max_margin", {"failure_reduction": "max"}, "unknown failure_reduction"),
        ("fa_max_margin", {"failure_trains": "R_D"}, "unknown failure_trains"),
        ("fa_max_margin", {"failure_trains": "failure_path", "failure_path": False}, "would train nothing"),
        ("fa_max_margin", {"failure_path": "false"}, "failure_path must be true or false"),
        ("fa_max_entropy", {"curriculum": "no"}, "curriculum must be true or false"),
        ("max_entropy", {"tolerance": 0}, "tolerance must be > 0"),
        ("fa_max_entropy", {"inner_steps": 0}, "positive integer"),
    ],
)
def test_bad_hyperparameters_raise(small_pairs, method, kwargs, message):
    with pytest.raises(ValueError, match=message):
        fit_reward(*small_pairs, method, **kwargs)


def test_score_rejects_wrong_width_and_nan(small_pairs):
    reward = fit_reward(*small_pairs, "max_entropy", steps=5)
    with pytest.raises(ValueError, match=r"shape \(n, 5\)"):
        reward.score(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="NaN or inf"):
        reward.score(np.full((3, 5), np.nan))


def test_synthetic_generator_is_seeded_and_has_the_requested_hard_share():
    from fairl.synthetic.data import SyntheticConfig

    config = SyntheticConfig(n_pairs=1000, dim=8, hard_fraction=0.25)
    a, b = make_synthetic_preferences(config, 1), make_synthetic_preferences(config, 1)
    assert np.array_equal(a.h_pos, b.h_pos) and a.is_hard.sum() == 250
    gap = np.abs(a.r_pos - a.r_neg)
    assert np.median(gap[a.is_hard]) < 0.25 * np.median(gap[~a.is_hard])
    with pytest.raises(ValueError, match="hard_fraction"):
        make_synthetic_preferences(SyntheticConfig(hard_fraction=1.5), 0)


def test_split_is_independent_of_the_generator():
    """Generator and split draw from separate streams: the hard share is the same in train and test."""
    from fairl.splits import train_test_split
    from fairl.synthetic.data import SyntheticConfig

    config = SyntheticConfig()
    for seed in range(10):
        data = make_synthetic_preferences(config, seed)
        train, test = train_test_split(config.n_pairs, 0.2, seed)
        assert abs(data.is_hard[train].mean() - config.hard_fraction) < 0.03
        assert abs(data.is_hard[test].mean() - config.hard_fraction) < 0.03


def test_boundary_generator_has_noiseless_labels_and_informative_failures():
    from fairl.synthetic.data import SyntheticConfig

    config = SyntheticConfig(noiseless=True, hard_fraction=0.15)
    data = make_synthetic_preferences(config, 0)
    assert (data.r_pos > data.r_neg).all()  # every label agrees with r*
    noisy = make_synthetic_preferences(SyntheticConfig(hard_fraction=0.15), 0)
    assert (noisy.r_pos <= noisy.r_neg).mean() > 0.02  # the Boltzmann generator's labels are not
    assert np.array_equal(noisy.h_pos + noisy.h_neg, data.h_pos + data.h_neg)  # same features, other labels
    # The easy direction alone fits the easy pairs and fails on boundary pairs: its failures are the hard pairs.
    easy_only = fit_reward(data.h_pos[~data.is_hard], data.h_neg[~data.is_hard], "max_entropy", seed=0)
    wrong = easy_only.score(data.h_pos) <= easy_only.score(data.h_neg)
    assert wrong.sum() > 0.02 * len(wrong) and data.is_hard[wrong].mean() > 0.9
