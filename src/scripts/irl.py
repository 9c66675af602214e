"""IRL stage: fit every reward-extraction variant on the train split of the pairs, score the test split.

    python src/scripts/irl.py --params '<json>' --pairs work/pairs.parquet --features work/features.npz \
        --metrics results/lm/irl_metrics_per_seed.csv --rounds work/irl/failure_rounds.csv --rewards work/irl/rewards
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import _common
from fairl.benchmark import Variant
from fairl.extraction import extract_rewards, slug
from fairl.io import atomic_write_csv
from fairl.provenance import write_sidecar


def main() -> None:
    parser = _common.parser(__doc__)
    for name in ("--pairs", "--features", "--metrics", "--rounds", "--rewards"):
        parser.add_argument(name, required=True)
    args = parser.parse_args()
    _common.setup_logging()
    params = args.params
    _common.log_run("irl", params)
    pairs = pd.read_parquet(args.pairs)
    with np.load(args.features) as features:
        h_pos, h_neg, prompt_id = features["h_pos"], features["h_neg"], features["prompt_id"]
    if not np.array_equal(prompt_id, pairs["prompt_id"].to_numpy()):
        raise ValueError(f"{args.features} was computed for other pairs than {args.pairs}; rebuild the features")
    variants = [Variant(v["name"], v["method"], v.get("hyperparameters", {})) for v in params["variants"]]
    metrics, rounds, rewards = extract_rewards(pairs, h_pos, h_neg, variants, params["seeds"], params["test_fraction"])
    out = Path(args.rewards)
    out.mkdir(parents=True, exist_ok=True)
    for (name, seed), reward in rewards.items():
        reward.save(out / f"{slug(name)}_seed{seed}.npz")
    atomic_write_csv(rounds, args.rounds)
    atomic_write_csv(metrics, args.metrics)
    write_sidecar(args.metrics, "irl", params)


if __name__ == "__main__":
    main()
