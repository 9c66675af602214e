"""IRL stage, one variant: fit it on the train split of the pairs for every seed, score the test split.

    python src/scripts/irl.py --params '<json: seed, device, seeds, regimes, test_fraction, variant,
                                       precision, generation, features>' \
        --pairs work/P/pairs.parquet --features work/P/features.npz \
        --metrics work/P/irl/metrics/fa_max_margin.csv --rounds work/P/irl/rounds/fa_max_margin.csv \
        --rewards work/P/irl/rewards/fa_max_margin      # writes fa_max_margin_<regime>_seed<S>.npz
"""

from __future__ import annotations

import _common
from fairl.io import atomic_write_csv
from fairl.lm.extraction import extract_rewards
from fairl.lm.stage_files import read_features, read_pairs
from fairl.provenance import write_sidecar
from fairl.variants import Variant, reward_file


def main() -> None:
    parser = _common.parser(__doc__)
    for name in ("--pairs", "--features", "--metrics", "--rounds"):
        parser.add_argument(name, required=True)
    parser.add_argument("--rewards", required=True, help="path prefix of the reward files, one per seed")
    args = parser.parse_args()
    _common.setup_logging()
    params = args.params
    _common.log_run("irl", params)
    pairs = read_pairs(args.pairs, params["generation"], params["seed"])
    h_pos, h_neg = read_features(args.features, pairs, args.pairs, made_with=params)
    spec = params["variant"]
    variant = Variant.from_config(spec)
    metrics, rounds, rewards = extract_rewards(pairs, h_pos, h_neg, [variant], params["seeds"], params["test_fraction"],
                                               params["regimes"])
    for (_, regime, seed), reward in rewards.items():
        path = reward_file(args.rewards, regime, seed)
        reward.save(path)
        write_sidecar(path, "irl", params, seed)  # re-RLHF checks the feature contract the reward was fitted on
    atomic_write_csv(rounds, args.rounds)  # empty (no columns) for a standard IRL variant: no curriculum
    atomic_write_csv(metrics, args.metrics)
    write_sidecar(args.metrics, "irl", params)


if __name__ == "__main__":
    main()
