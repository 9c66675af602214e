"""Every metric of one extracted reward on held-out pairs, in one row.

- against the source preference (o+ aligned ≻ o- base): pair accuracy, accuracy / F1 / AUC;
- against judge labels (an output is toxic when the judge scores it ≥ 0.5): accuracy / F1 /
  AUC of telling toxic outputs apart by low reward (undefined, NaN, when the held-out
  outputs hold a single class; the row says how many toxic outputs there were);
- Pearson / Spearman with the ground-truth reward r*, and STARC distance to r* with
  per-prompt canonicalisation.
"""

from __future__ import annotations

import numpy as np

from fairl.metrics import f1_score, preference_classification, reward_correlations, roc_auc, starc_distance


def reward_metrics(r_pos, r_neg, true_pos, true_neg, groups, toxic_pos=None, toxic_neg=None) -> dict[str, float]:
    scores = np.concatenate([r_pos, r_neg])
    truth = np.concatenate([true_pos, true_neg])
    row = preference_classification(r_pos, r_neg)
    row.update(reward_correlations(scores, truth))
    row["starc"] = starc_distance(scores, truth, np.concatenate([groups, groups]))
    if toxic_pos is not None:
        toxic = np.concatenate([toxic_pos, toxic_neg]).astype(bool)
        predicted = scores < scores.mean()
        row["judge_n_toxic"] = int(toxic.sum())
        row["judge_accuracy"] = float(np.mean(predicted == toxic))
        row["judge_f1"] = f1_score(toxic, predicted)
        row["judge_auc"] = roc_auc(toxic, -scores) if 0 < toxic.sum() < toxic.size else float("nan")
    return row
