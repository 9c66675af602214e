"""Reward extraction on LM preference pairs: every IRL variant × seed, scored on held-out pairs.

Split: prompts 80/20 by a seeded permutation [precursor: 80/20 of pairs, one per prompt], with
every pair of a prompt on one side, after dropping ties: pairs whose aligned and base completions
are the same text. Both policies sample with the same seed, so where
RLHF left the policy's choices unchanged the two completions coincide; such a pair states no
preference, has identical features (Δ = 0 under every reward) and would count as a failure of
every reward. `pair_split` is the one split every stage uses. Supervised failure labels
(the ablation) come from the independent evaluation judge, not from r*: a pair is a
labelled failure when that judge does not find the aligned output less toxic.

Preferences identify a reward only up to a positive scale and a shift, yet re-RLHF with a KL
penalty depends on the scale: a reward ten times wider buys ten times more KL. So every
returned reward is calibrated to r*'s mean and standard deviation over the training outputs
(one scalar each, no other use of r*), and re-RLHF compares rewards at r*'s KL trade-off.
No metric changes: all are invariant to positive affine maps.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from fairl.irl import LinearReward
from fairl.lm.toxicity import TOXIC_THRESHOLD
from fairl.metrics.reward import reward_metrics
from fairl.splits import train_test_split
from fairl.variants import Variant, convergence_columns, fit_variant

log = logging.getLogger(__name__)


def informative(pairs: pd.DataFrame) -> np.ndarray:
    """Boolean mask of the pairs that state a preference: aligned and base completions differ."""
    return (pairs["completion_aligned"] != pairs["completion_base"]).to_numpy(bool)


def pair_split(pairs: pd.DataFrame, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) row positions in `pairs`: a seeded split of the informative pairs by prompt (the pairs of a
    prompt, several where the pairs stage sampled several completions per prompt, are all on one side); ties are
    in neither."""
    keep = np.flatnonzero(informative(pairs))
    train, test = train_test_split(len(keep), test_fraction, seed, groups=pairs["prompt_id"].to_numpy()[keep])
    return keep[train], keep[test]


def calibrated(reward: LinearReward, h: np.ndarray, r_star: np.ndarray) -> LinearReward:
    """reward mapped by a positive affine transform to the mean and sd of r* on outputs h."""
    values = reward.score(h)
    spread = values.std()
    if not spread > 0:
        raise ValueError(f"the {reward.method} reward is constant on the training outputs; it cannot be calibrated")
    scale = float(np.std(r_star) / spread)
    return reward.affine(scale, float(np.mean(r_star) - scale * values.mean()))


def extract_rewards(pairs: pd.DataFrame, h_pos: np.ndarray, h_neg: np.ndarray, variants: list[Variant],
                    seeds: list[int], test_fraction: float, regimes: list[str]):
    """(metrics per variant, regime and seed; curriculum per round; {(variant, regime, seed): fitted reward})."""
    if len(pairs) != len(h_pos) or h_pos.shape != h_neg.shape:
        raise ValueError(f"{len(pairs)} pairs but features of shape {h_pos.shape} and {h_neg.shape}: "
                         "rebuild the features from this pairs file")
    supervised = (pairs["toxicity_aligned"] >= pairs["toxicity_base"]).to_numpy()
    n_ties = int((~informative(pairs)).sum())
    log.info("%d of %d pairs are ties (identical completions) and are left out of training and testing",
             n_ties, len(pairs))
    metrics, rounds, rewards = [], [], {}
    progress = tqdm(total=len(seeds) * len(variants) * len(regimes), desc="reward extraction", unit="fit")
    for seed in seeds:
        train, test = pair_split(pairs, test_fraction, seed)
        held_out = pairs.iloc[test]
        for regime in regimes:
            for variant in variants:
                reward = fit_variant(variant, h_pos[train], h_neg[train], seed, regime, supervised[train])
                row = {"variant": variant.name, "method": variant.method, "regime": regime, "seed": seed,
                       "n_train": len(train), "n_test": len(test), "n_ties_dropped": n_ties}
                row.update(reward_metrics(
                    reward.score(h_pos[test]), reward.score(h_neg[test]),
                    held_out["reward_aligned"].to_numpy(), held_out["reward_base"].to_numpy(),
                    held_out["prompt_id"].to_numpy(),
                    held_out["toxicity_aligned"].to_numpy() >= TOXIC_THRESHOLD,
                    held_out["toxicity_base"].to_numpy() >= TOXIC_THRESHOLD,
                ))
                row.update(convergence_columns(reward))
                metrics.append(row)
                if variant.method.startswith("fa_"):
                    rounds.append(reward.history.assign(variant=variant.name, regime=regime, seed=seed))
                rewards[(variant.name, regime, seed)] = calibrated(
                    reward, np.concatenate([h_pos[train], h_neg[train]]),
                    np.concatenate([pairs["reward_aligned"].to_numpy()[train],
                                    pairs["reward_base"].to_numpy()[train]]))
                progress.update()
                log.info("%s %s seed=%d starc=%.4f pair_acc=%.4f auc=%.4f converged=%s", variant.name, regime, seed,
                         row["starc"], row["pair_accuracy"], row["auc"], row["converged"])
    progress.close()
    return pd.DataFrame(metrics), pd.concat(rounds, ignore_index=True) if rounds else pd.DataFrame(), rewards
