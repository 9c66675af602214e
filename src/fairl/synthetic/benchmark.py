"""The synthetic known-reward benchmark: every generator × optimisation regime × IRL variant × seed.

One row per (generator, regime, variant, seed) with STARC to r*, classification on held-out
pairs and how the optimisation ended, plus one row per FA-IRL curriculum round. Seeds run in
`workers` processes of one thread each; every fit is seeded on its own, so the numbers do not
depend on the number of workers.
"""

from __future__ import annotations

import logging
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
import torch
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from fairl.metrics import starc_distance
from fairl.metrics.reward import reward_metrics
from fairl.splits import train_test_split
from fairl.synthetic.data import SyntheticConfig, make_synthetic_preferences
from fairl.variants import Variant, convergence_columns, fit_variant

log = logging.getLogger(__name__)


def _one_seed(task):
    """One seed of every generator, regime and variant, on one thread (torch and BLAS alike), so its numbers
    depend neither on the number of workers nor on the thread settings of the environment."""
    torch.set_num_threads(1)
    with threadpool_limits(limits=1, user_api="blas"):
        return _fit_seed(*task)


def _fit_seed(generators, regimes, variants, seed, test_fraction, n_iid_outputs):
    metrics, rounds = [], []
    for gen_name, generator in generators.items():
        data = make_synthetic_preferences(generator, seed)
        train_index, test_index = train_test_split(generator.n_pairs, test_fraction, seed)
        train, test = data.subset(train_index), data.subset(test_index)
        prompt_ids = np.arange(len(test_index))  # one prompt per pair
        # fresh outputs from the same output distribution: every reward direction counts
        iid = np.random.default_rng([seed, 1]).standard_normal((n_iid_outputs, generator.dim))
        iid *= np.sqrt(1 + generator.prompt_scale**2)
        for regime in regimes:
            for variant in variants:
                reward = fit_variant(variant, train.h_pos, train.h_neg, seed, regime, failure_labels=train.is_hard)
                row = {"generator": gen_name, "regime": regime, "variant": variant.name, "method": variant.method,
                       "seed": seed, "n_train": len(train_index), "hard_share_train": float(train.is_hard.mean()),
                       "hard_share_test": float(test.is_hard.mean())}
                metrics_row = reward_metrics(reward.score(test.h_pos), reward.score(test.h_neg),
                                             test.r_pos, test.r_neg, prompt_ids)
                row["starc_pairs"] = metrics_row.pop("starc")
                row["starc_iid"] = starc_distance(reward.score(iid), iid @ data.theta_star)
                row.update(metrics_row)
                row.update(convergence_columns(reward))
                if variant.method.startswith("fa_"):
                    history = reward.history.assign(generator=gen_name, regime=regime, variant=variant.name, seed=seed)
                    rounds.append(history)
                    row["final_failures"] = int(history["n_failures"].iloc[-1])
                metrics.append(row)
    return metrics, rounds


def run_benchmark(
    generators: dict[str, SyntheticConfig],
    variants: list[Variant],
    seeds: list[int],
    regimes: list[str],
    test_fraction: float = 0.2,
    n_iid_outputs: int = 5000,
    workers: int = 1,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(metrics per generator, regime, variant and seed; FA-IRL curriculum per round)."""
    names = [v.name for v in variants]
    if len(set(names)) != len(names):
        raise ValueError(f"variant names must be unique, got {names}")
    if not generators or not regimes:
        raise ValueError("the synthetic benchmark needs at least one generator and one regime")
    tasks = [(generators, regimes, variants, seed, test_fraction, n_iid_outputs) for seed in seeds]
    metrics, rounds = [], []
    progress = tqdm(total=len(seeds), desc="synthetic benchmark", unit="seed")
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(_track(pool.map(_one_seed, tasks), progress))
    else:
        results = list(_track(map(_one_seed, tasks), progress))
    progress.close()
    for seed_metrics, seed_rounds in results:  # in seed order, whatever finished first
        metrics += seed_metrics
        rounds += seed_rounds
    for row in metrics:
        log.info("%s %s %s seed=%d starc_iid=%.4f starc_pairs=%.4f pair_acc=%.4f converged=%s", row["generator"],
                 row["regime"], row["variant"], row["seed"], row["starc_iid"], row["starc_pairs"], row["pair_accuracy"],
                 row["converged"])
    per_round = pd.concat(rounds, ignore_index=True) if rounds else pd.DataFrame()
    return pd.DataFrame(metrics), per_round


def _track(results, progress):
    for result in results:
        progress.update()
        yield result
