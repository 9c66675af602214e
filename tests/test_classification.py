import numpy as np
import pytest
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import f1_score as sk_f1
from sklearn.metrics import roc_auc_score

from fairl.metrics import f1_score, preference_classification, reward_correlations, roc_auc


@pytest.mark.parametrize("seed", range(5))
def test_f1_and_auc_agree_with_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    y = rng.random(300) < 0.4
    scores = np.round(rng.standard_normal(300) + y, 1)  # rounding makes ties
    pred = scores > 0.3
    assert np.isclose(f1_score(y, pred), sk_f1(y, pred))
    assert np.isclose(roc_auc(y, scores), roc_auc_score(y, scores))


def test_preference_classification_by_hand():
    r_pos = np.array([2.0, 1.0, 0.5, -1.0])
    r_neg = np.array([0.0, 1.0, 1.5, -2.0])
    m = preference_classification(r_pos, r_neg)
    assert m["pair_accuracy"] == 0.5  # 2>0, tie, 0.5<1.5, -1>-2
    # mean reward 0.375: predicted dispreferred = reward < 0.375 -> pos[-1], neg[0], neg[-1]
    assert np.isclose(m["accuracy"], 5 / 8)
    assert np.isclose(m["f1"], sk_f1([0, 0, 0, 0, 1, 1, 1, 1], [0, 0, 0, 1, 1, 0, 0, 1]))
    assert np.isclose(m["auc"], roc_auc_score([0] * 4 + [1] * 4, -np.r_[r_pos, r_neg]))


def test_perfect_and_inverted_rewards():
    r = np.linspace(1, 2, 50)
    good = preference_classification(r + 5, r)
    bad = preference_classification(r, r + 5)
    assert good["pair_accuracy"] == 1 and good["auc"] == 1 and good["f1"] == 1
    assert bad["pair_accuracy"] == 0 and bad["auc"] == 0 and bad["f1"] == 0


def test_correlations_match_scipy_and_reject_constants():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(100), rng.standard_normal(100)
    c = reward_correlations(a, a + b)
    assert np.isclose(c["pearson"], pearsonr(a, a + b)[0]) and np.isclose(c["spearman"], spearmanr(a, a + b)[0])
    assert np.isclose(reward_correlations(a, -a)["pearson"], -1)
    with pytest.raises(ValueError, match="constant"):
        reward_correlations(a, np.ones(100))


def test_single_class_auc_raises():
    with pytest.raises(ValueError, match="both classes"):
        roc_auc(np.ones(5, bool), np.arange(5.0))
