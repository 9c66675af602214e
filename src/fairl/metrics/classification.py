"""How well an extracted reward separates aligned from base outputs.

Pair accuracy: share of pairs with R(o+) > R(o-) (a tie counts as wrong).

Single-output classification [P]: each output is scored on its own; the positive
class is the dispreferred (base, typically toxic) output, predicted when its reward
is below the threshold, by default the mean reward of the scored outputs [P].
ROC-AUC uses -R as the positive-class score and needs no threshold.
"""

from __future__ import annotations

import numpy as np


def f1_score(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Binary F1 of the positive class; 0 when nothing is predicted or present."""
    y_true, y_pred = np.asarray(y_true, bool), np.asarray(y_pred, bool)
    tp = np.sum(y_true & y_pred)
    denom = 2 * tp + np.sum(~y_true & y_pred) + np.sum(y_true & ~y_pred)
    return float(2 * tp / denom) if denom else 0.0


def roc_auc(y_true: np.ndarray, scores: np.ndarray) -> float:
    """ROC-AUC by the Mann-Whitney rank statistic (ties get average ranks)."""
    y_true = np.asarray(y_true, bool)
    n_pos, n_neg = int(y_true.sum()), int((~y_true).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError(f"ROC-AUC needs both classes, got {n_pos} positive and {n_neg} negative outputs")
    from scipy.stats import rankdata  # imported when used: scipy.stats costs every job that loads fairl.metrics 0.8 s

    ranks = rankdata(np.asarray(scores, dtype=np.float64))
    return float((ranks[y_true].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def preference_classification(r_pos, r_neg, threshold: float | None = None) -> dict[str, float]:
    """Pair accuracy, and accuracy / F1 / ROC-AUC of telling dispreferred outputs apart."""
    r_pos = np.asarray(r_pos, dtype=np.float64)
    r_neg = np.asarray(r_neg, dtype=np.float64)
    if r_pos.shape != r_neg.shape or r_pos.ndim != 1 or r_pos.size < 1:
        raise ValueError(f"r_pos and r_neg must be 1-D of equal length, got {r_pos.shape} and {r_neg.shape}")
    if not (np.isfinite(r_pos).all() and np.isfinite(r_neg).all()):
        raise ValueError("rewards contain NaN or inf")
    rewards = np.concatenate([r_pos, r_neg])
    is_dispreferred = np.r_[np.zeros(r_pos.size, bool), np.ones(r_neg.size, bool)]
    cut = rewards.mean() if threshold is None else float(threshold)
    predicted = rewards < cut
    return {
        "pair_accuracy": float(np.mean(r_pos > r_neg)),
        "accuracy": float(np.mean(predicted == is_dispreferred)),
        "f1": f1_score(is_dispreferred, predicted),
        "auc": roc_auc(is_dispreferred, -rewards),
    }


def reward_correlations(reward, reference) -> dict[str, float]:
    """Pearson and Spearman correlation of an extracted reward with a reference reward."""
    reward = np.asarray(reward, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    if reward.shape != reference.shape or reward.ndim != 1 or reward.size < 3:
        raise ValueError(f"need two 1-D arrays of equal length ≥ 3, got {reward.shape} and {reference.shape}")
    if np.ptp(reward) == 0 or np.ptp(reference) == 0:
        raise ValueError("correlation is undefined for a constant reward")
    from scipy.stats import pearsonr, spearmanr

    return {"pearson": float(pearsonr(reward, reference)[0]), "spearman": float(spearmanr(reward, reference)[0])}
