"""Toxicity evaluation: the base policy and each RLHF'd policy answer the held-out prompts; share of
generations each judge scores ≥ 0.5 with bootstrap 95% intervals, mean r*, the paired difference to
the base policy, and the KL divergence to the base policy on the policy's own samples.

    python src/scripts/toxicity.py --params '<json>' --prompts work/prompts.parquet --judge work/judge \
        --evaluation-judge work/evaluation_judge \
        --base work/smollm2-135m/base --rlhf ground_truth=work/smollm2-135m/rlhf/ground_truth/final ... \
        --out results/lm/smollm2-135m/toxicity.csv --generations work/smollm2-135m/eval/generations.parquet
"""

from __future__ import annotations

import pandas as pd

import _common
from fairl.devices import autocast
from fairl.io import atomic_write_csv, atomic_write_parquet
from fairl.lm.generation import GenerationConfig
from fairl.lm.judges import load_judge_dir
from fairl.lm.policies import load_policy
from fairl.lm.stage_files import check_rlhf_policy, read_prompts
from fairl.lm.toxicity import evaluate_policies
from fairl.provenance import write_sidecar


def main() -> None:
    parser = _common.parser(__doc__)
    parser.add_argument("--prompts", required=True)
    parser.add_argument("--judge", required=True, help="ground-truth judge directory (r*)")
    parser.add_argument("--evaluation-judge", required=True, help="evaluation judge directory")
    parser.add_argument("--base", required=True, help="the base policy: the reference of differences and KL")
    parser.add_argument("--rlhf", action="append", default=[], help="REWARD=DIR of an RLHF'd policy; repeatable")
    parser.add_argument("--out", required=True)
    parser.add_argument("--generations", required=True)
    args = parser.parse_args()
    _common.setup_logging()
    params = args.params
    _common.log_run("toxicity", params)
    device = params.get("device", "auto")
    policies = {"base": args.base}
    for entry in args.rlhf:
        reward, separator, path = entry.partition("=")
        if not separator or not path or reward in policies:
            raise ValueError(f"--rlhf takes REWARD=DIR with a new reward name, got {entry!r}")
        if reward not in params["rewards"]:
            raise ValueError(f"--rlhf {entry!r}: the config has no RLHF run named {reward!r} "
                             f"(it has {sorted(params['rewards'])})")
        check_rlhf_policy(path, params["rlhf"], params["seed"], params["precision"], params["rewards"][reward])
        policies[reward] = path
    prompts = read_prompts(args.prompts, "eval")
    if len(prompts) < 2:
        raise ValueError(f"{args.prompts} has {len(prompts)} 'eval' prompt(s); the bootstrap intervals need at least 2: "
                         "rebuild it with prompts.sizes.eval >= 2")
    ground_truth = load_judge_dir(args.judge, device)
    evaluation = load_judge_dir(args.evaluation_judge, device)
    judges = {"r* judge": ground_truth, evaluation.name: evaluation}
    config = GenerationConfig(**params["generation"])
    base, tokenizer = load_policy(args.base, device=device)
    with autocast(params.get("precision", "fp32"), base.device):
        generations, rows = evaluate_policies(policies, base, tokenizer, prompts, judges, config, params["seed"],
                                              params["n_boot"])
    atomic_write_parquet(pd.concat(generations, ignore_index=True), args.generations)
    atomic_write_csv(pd.DataFrame(rows), args.out)
    write_sidecar(args.out, "toxicity", params, params["seed"], models=policies)


if __name__ == "__main__":
    main()
