"""Prompts stage: load, filter, deduplicate and split prompts into rlhf / pairs / eval.

    python src/scripts/prompts.py --params '<json of config["lm"]["prompts"] + seed>' --out work/prompts.parquet
"""

from __future__ import annotations

import _common
from fairl.io import atomic_write_parquet
from fairl.lm.prompts import insult_prompts, load_comments, rtp_prompts, split_prompts
from fairl.provenance import write_sidecar


def main() -> None:
    parser = _common.parser(__doc__)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    _common.setup_logging()
    params = args.params
    _common.log_run("prompts", params)
    if params["source"] == "insults":
        comments = load_comments(params["insults_files"])
        prompts = insult_prompts(comments, params["prompt_words"], params.get("insults_only", True))
    elif params["source"] == "rtp":
        prompts = rtp_prompts(params["dataset"], params["min_toxicity"], params.get("revision"))
    else:
        raise ValueError(f"unknown prompt source {params['source']!r}; choose insults or rtp")
    table = split_prompts(prompts, params["sizes"], params["seed"])
    atomic_write_parquet(table, args.out)
    write_sidecar(args.out, "prompts", params, params["seed"], n_candidates=len(prompts))


if __name__ == "__main__":
    main()
