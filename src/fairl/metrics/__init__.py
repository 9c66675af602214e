"""Metrics of extracted rewards: classification, correlation, STARC distance, paired intervals and verdicts;
every metric of one reward in one row (`reward`), bootstrap intervals of shares (`bootstrap`) and KL to the
base policy (`kl`, which imports torch and so is not loaded here)."""

from fairl.metrics.classification import f1_score, preference_classification, reward_correlations, roc_auc
from fairl.metrics.paired import VERDICTS, paired_t_interval, verdict
from fairl.metrics.starc import canonicalise, starc_distance

__all__ = [
    "VERDICTS",
    "canonicalise",
    "f1_score",
    "preference_classification",
    "reward_correlations",
    "roc_auc",
    "paired_t_interval",
    "starc_distance",
    "verdict",
]
