"""Features stage: h(o) for every stored output, mean-pooled last hidden state of the base policy
over prompt + completion; cached, keyed by encoder and texts.

    python src/scripts/features.py --params '<json>' --pairs work/P/pairs.parquet --encoder work/P/base --out work/P/features.npz
"""

from __future__ import annotations

import numpy as np

import _common
from fairl.devices import autocast
from fairl.io import atomic_save_npz
from fairl.lm.features import cached_features, feature_texts, mean_pooled_features
from fairl.lm.policies import load_policy
from fairl.lm.stage_files import read_pairs
from fairl.provenance import write_sidecar


def main() -> None:
    parser = _common.parser(__doc__)
    for name in ("--pairs", "--encoder", "--out"):
        parser.add_argument(name, required=True)
    parser.add_argument("--cache", help="feature cache (.npz); default: next to --out")
    args = parser.parse_args()
    _common.setup_logging()
    params = args.params
    _common.log_run("features", params)
    pairs = read_pairs(args.pairs, params["generation"], params["seed"])
    texts = feature_texts(pairs["prompt"], pairs["completion_aligned"]) + feature_texts(pairs["prompt"], pairs["completion_base"])

    def compute() -> np.ndarray:
        model, tokenizer = load_policy(args.encoder, device=params.get("device", "auto"))
        with autocast(params.get("precision", "fp32"), model.device):
            return mean_pooled_features(model, tokenizer, texts, params["batch_size"], params["max_tokens"])

    features = cached_features(args.cache or f"{args.out}.cache.npz", args.encoder, texts, compute, params["max_tokens"])
    n = len(pairs)
    atomic_save_npz(args.out, h_pos=features[:n], h_neg=features[n:], prompt_id=pairs["prompt_id"].to_numpy())
    write_sidecar(args.out, "features", params, models={"encoder": args.encoder}, dim=int(features.shape[1]))


if __name__ == "__main__":
    main()
