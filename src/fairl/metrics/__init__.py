"""Metrics of extracted rewards: classification, correlation, STARC distance."""

from fairl.metrics.classification import f1_score, preference_classification, reward_correlations, roc_auc
from fairl.metrics.starc import canonicalise, starc_distance

__all__ = [
    "canonicalise",
    "f1_score",
    "preference_classification",
    "reward_correlations",
    "roc_auc",
    "starc_distance",
]
