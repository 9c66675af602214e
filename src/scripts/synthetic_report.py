"""Table (CSV + Markdown) and figure (PDF + PNG) of the synthetic benchmark.

    python src/scripts/synthetic_report.py --metrics results/synthetic/metrics_per_seed.csv \
        --rounds work/synthetic/failure_rounds.csv --csv results/synthetic/benchmark.csv \
        --markdown results/synthetic/benchmark.md \
        --figures paper_figures/synthetic_benchmark.pdf paper_figures/synthetic_benchmark.png
"""

from __future__ import annotations

import argparse

import pandas as pd

import _common
from fairl.report.tables import paired_differences, summarise, to_markdown, write_table
from fairl.synthetic.figures import plot_synthetic_benchmark

METRICS = ["starc_iid", "starc_pairs", "pair_accuracy", "auc", "converged", "gradient_evaluations"]
KEYS = ["generator", "regime", "variant"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--metrics", required=True)
    parser.add_argument("--rounds", required=True)
    parser.add_argument("--csv", required=True)
    parser.add_argument("--markdown", required=True)
    parser.add_argument("--figures", nargs="+", required=True)
    args = parser.parse_args()
    _common.setup_logging()
    per_seed = pd.read_csv(args.metrics)
    per_round = pd.read_csv(args.rounds)
    table = summarise(per_seed, KEYS, METRICS)
    method_of = dict(zip(per_seed["variant"], per_seed["method"]))
    table.insert(3, "method", table["variant"].map(method_of))
    # an FA variant is compared with the standard variant named after its objective, seed by seed
    base_of = {v: m.removeprefix("fa_") for v, m in method_of.items() if m.startswith("fa_")}
    differences = paired_differences(per_seed, ["generator", "regime"], base_of, "starc_iid", better="lower")
    table = table.merge(differences, on=KEYS, how="left")
    title = (f"Synthetic known-reward benchmark (mean ± sd over {table['n_seeds'].max()} seeds; STARC: lower is "
             "better; starc_iid − base: the FA variant minus standard IRL of its objective, paired over seeds, "
             "95% t-interval; verdict on 'FA-IRL is closer to r*'; converged: share of seeds whose optimiser "
             "settled)")
    write_table(table, to_markdown(table, METRICS), args.csv, args.markdown, title)
    plot_synthetic_benchmark(per_seed, per_round, args.figures)


if __name__ == "__main__":
    main()
