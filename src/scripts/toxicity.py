"""Toxicity table: per policy and judge, the share of held-out generations the judge scores ≥ 0.5 with a
bootstrap 95% interval, the paired difference to the base policy on the same prompts, mean r*, and the KL
divergence to the base policy on the policy's own samples; from every policy's scored generations
(rule eval_generations), the base policy's first.

    python src/scripts/toxicity.py --params '<json: seed, n_boot, generation, precision>' \
        --evaluated base=work/smollm2-135m/eval/base.parquet \
        --evaluated ground_truth=work/smollm2-135m/eval/ground_truth.parquet ... \
        --out results/lm/smollm2-135m/toxicity.csv --generations work/smollm2-135m/eval/generations.parquet
"""

from __future__ import annotations

import _common
from fairl.io import atomic_write_csv, atomic_write_parquet
from fairl.lm.stage_files import read_evaluation
from fairl.lm.toxicity import toxicity_table
from fairl.provenance import write_sidecar


def main() -> None:
    parser = _common.parser(__doc__)
    parser.add_argument("--evaluated", action="append", help="NAME=FILE of a policy's scored generations; repeatable, "
                                                             "the base policy's first")
    parser.add_argument("--out", required=True)
    parser.add_argument("--generations", required=True, help="every policy's generations in one table")
    args = parser.parse_args()
    _common.setup_logging()
    params = args.params
    _common.log_run("toxicity", params)
    files = _common.named_paths(args.evaluated, "--evaluated")
    evaluated = {name: read_evaluation(path, name, params["generation"], params["seed"], params["precision"])
                 for name, path in files.items()}
    generations, table = toxicity_table(evaluated, params["seed"], params["n_boot"])
    atomic_write_parquet(generations, args.generations)
    atomic_write_csv(table, args.out)
    write_sidecar(args.out, "toxicity", params, params["seed"], models=files)


if __name__ == "__main__":
    main()
