"""Pairs stage: o+ from the aligned policy, o- from the base, k of each on every pair-construction prompt.

    python src/scripts/pairs.py --params '<json>' --prompts work/prompts.parquet --base work/P/base \
        --aligned work/P/rlhf/ground_truth/final --judge work/judge --evaluation-judge work/evaluation_judge \
        --out work/P/pairs.parquet
"""

from __future__ import annotations

import _common
from fairl.devices import autocast
from fairl.io import atomic_write_parquet
from fairl.lm.generation import GenerationConfig
from fairl.lm.judges import load_judge_dir
from fairl.lm.pairs import build_pairs
from fairl.lm.policies import load_policy
from fairl.lm.stage_files import GROUND_TRUTH, check_rlhf_policy, read_prompts
from fairl.provenance import write_sidecar


def main() -> None:
    parser = _common.parser(__doc__)
    for name in ("--prompts", "--base", "--aligned", "--judge", "--evaluation-judge", "--out"):
        parser.add_argument(name, required=True)
    args = parser.parse_args()
    _common.setup_logging()
    params = args.params
    _common.log_run("pairs", params)
    device = params.get("device", "auto")
    prompts = read_prompts(args.prompts, "pairs")
    check_rlhf_policy(args.aligned, params["rlhf"], params["seed"], params["precision"], GROUND_TRUTH)
    base, tokenizer = load_policy(args.base, device=device)
    aligned, _ = load_policy(args.aligned, device=device)
    config = GenerationConfig(**params["generation"])
    judges = load_judge_dir(args.judge, device), load_judge_dir(args.evaluation_judge, device)
    with autocast(params.get("precision", "fp32"), base.device):
        pairs, throughput = build_pairs(prompts, base, aligned, tokenizer, *judges, config, params["seed"],
                                        params["pairs"]["completions_per_prompt"])
    atomic_write_parquet(pairs, args.out)
    write_sidecar(args.out, "pairs", params, params["seed"], models={"base": args.base, "aligned": args.aligned},
                  throughput=throughput, t_to_nt_pairs=int(pairs["t_to_nt"].sum()))


if __name__ == "__main__":
    main()
