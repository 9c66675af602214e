"""Wall time and peak memory of every rule of a Snakemake run, from its `benchmark:` files.

    python benchmarks/rule_benchmarks.py --dir out/default/benchmarks/out --title "default config" --out results/chain_timing.md

The peak it reports is one job's (the largest max_rss), and the sum adds up jobs that ran side by side: on two
cores the one-thread jobs (the `irl` jobs, the default study's two re-RLHF jobs and its four `eval_generations` jobs)
run two at a time, so the sum
exceeds the wall time and two re-RLHF jobs together hold about twice the peak shown (the README gives the measured
total).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from fairl.io import atomic_write_text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", default="out/default/benchmarks/out")
    parser.add_argument("--title", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    rows = []
    root = Path(args.dir)
    for path in sorted(root.rglob("*.tsv")):  # per-policy rules write benchmarks/out/{policy}/<rule>.tsv
        record = pd.read_csv(path, sep="\t").iloc[-1]
        rows.append({"rule": str(path.relative_to(root).with_suffix("")), "seconds": float(record["s"]),
                     "max_rss_MB": float(record["max_rss"])})
    if not rows:
        raise SystemExit(f"no benchmark files in {args.dir}: run snakemake first")
    table = pd.DataFrame(rows)
    total = table["seconds"].sum()
    text = (f"# Rule timings: {args.title}\n\n{table.to_markdown(index=False, floatfmt='.1f')}\n\n"
            f"sum of rule wall times: {total / 60:.1f} min (jobs side by side count twice); "
            f"peak memory of one rule: {table['max_rss_MB'].max() / 1024:.2f} GB\n")
    print(text)
    atomic_write_text(args.out, text)


if __name__ == "__main__":
    main()
