"""Fit every IRL variant on the synthetic known-reward benchmark, all seeds.

    python src/scripts/synthetic_benchmark.py --params '<json of config["synthetic"]>' \
        --metrics results/synthetic/metrics_per_seed.csv --rounds work/synthetic/failure_rounds.csv
"""

from __future__ import annotations

import argparse
import json

import _common
from fairl.io import atomic_write_csv
from fairl.synthetic.benchmark import run_benchmark
from fairl.synthetic.data import SyntheticConfig
from fairl.variants import Variant


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", required=True, help="JSON of the config's `synthetic` section")
    parser.add_argument("--metrics", required=True, help="output CSV, one row per variant and seed")
    parser.add_argument("--rounds", required=True, help="output CSV, one row per FA-IRL round")
    parser.add_argument("--workers", type=int, default=1, help="processes, one seed each at a time")
    args = parser.parse_args()
    _common.setup_logging()
    params = json.loads(args.params)
    _common.log_run("synthetic_benchmark", params)
    variants = [Variant.from_config(v) for v in params["variants"]]
    generators = {g["name"]: SyntheticConfig(**{k: v for k, v in g.items() if k != "name"})
                  for g in params["generators"]}
    per_seed, per_round = run_benchmark(
        generators,
        variants,
        seeds=params["seeds"],
        regimes=params["regimes"],
        workers=args.workers,
        test_fraction=params["test_fraction"],
        n_iid_outputs=params["n_iid_outputs"],
    )
    atomic_write_csv(per_seed, args.metrics)
    atomic_write_csv(per_round, args.rounds)


if __name__ == "__main__":
    main()
