"""Collect the per-variant IRL outputs of one policy into one metrics table and one curriculum table.

    python src/scripts/irl_collect.py --metrics-in work/P/irl/metrics/*.csv --rounds-in work/P/irl/rounds/*.csv \
        --metrics results/lm/P/irl_metrics_per_seed.csv --rounds work/P/irl/failure_rounds.csv
"""

from __future__ import annotations

import argparse

import pandas as pd

import _common
from fairl.io import atomic_write_csv


def read_tables(paths: list[str], allow_empty: bool) -> pd.DataFrame:
    frames = []
    for path in paths:
        try:
            frames.append(pd.read_csv(path))
        except pd.errors.EmptyDataError:
            if not allow_empty:
                raise ValueError(f"{path} is empty; re-run the irl rule that writes it") from None
    frames = [frame for frame in frames if not frame.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--metrics-in", nargs="+", required=True)
    parser.add_argument("--rounds-in", nargs="+", required=True)
    parser.add_argument("--metrics", required=True)
    parser.add_argument("--rounds", required=True)
    args = parser.parse_args()
    _common.setup_logging()
    atomic_write_csv(read_tables(args.metrics_in, allow_empty=False), args.metrics)
    atomic_write_csv(read_tables(args.rounds_in, allow_empty=True), args.rounds)


if __name__ == "__main__":
    main()
