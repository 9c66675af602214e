"""The web-text fine-tune of a base policy (fairl.lm.web_text, a policy entry's `web_text`): what it trains on (never
a comment behind a pairs or eval prompt), that it trains (the corpus' loss falls), that it is seeded, and the policy
script end to end."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import torch
from safetensors.torch import load_file

from fairl.io import atomic_write_parquet
from fairl.lm.policies import load_policy
from fairl.lm.web_text import WebTextConfig, fine_tune, web_text_corpus
from tests.conftest import CORPUS
from tests.test_lm_report import script

PROMPTS = pd.DataFrame({"prompt_id": range(4), "text": ["you are an", "have a nice", "what a stupid", "shut up you"],
                        "source_score": 1, "split": ["rlhf", "pairs", "eval", "eval"]})
COMMENTS = pd.DataFrame({"text": [
    "you are an idiot and a fool",      # behind an rlhf prompt: kept
    "have a nice day my friend",        # behind a pairs prompt: held out
    "what a stupid thing to say",       # behind an eval prompt: held out
    "what a lovely thing to say",       # shares two words with an eval prompt, not three: kept
    "shut up you moron",                # behind an eval prompt: held out
    "",                                 # empty: never a training text
    "thanks for the kind words",        # behind no prompt: kept
]})


def test_the_corpus_never_holds_a_comment_behind_a_pairs_or_eval_prompt():
    assert web_text_corpus(COMMENTS, PROMPTS) == ["you are an idiot and a fool", "what a lovely thing to say",
                                                  "thanks for the kind words"]


def test_a_corpus_made_only_of_held_out_comments_is_refused():
    with pytest.raises(ValueError, match="every comment .* is the source of a pairs or eval prompt"):
        web_text_corpus(COMMENTS.iloc[[1, 2]], PROMPTS)


def corpus_loss(model, tokenizer, texts: list[str]) -> float:
    with torch.no_grad():
        return sum(model(**(ids := tokenizer(text + tokenizer.eos_token, return_tensors="pt")),
                         labels=ids["input_ids"]).loss.item() for text in texts) / len(texts)


def test_fine_tune_lowers_the_corpus_loss_is_seeded_and_restores_the_tokenizer(tiny_policy):
    texts = sorted(set(CORPUS))
    config = WebTextConfig(steps=12, learning_rate=3e-3, batch_size=4)
    weights = []
    for seed in (0, 0, 1):
        model, tokenizer = load_policy(tiny_policy, device="cpu")
        before = corpus_loss(model, tokenizer, texts)
        losses = fine_tune(model, tokenizer, texts, config, seed=seed)
        assert len(losses) == config.steps
        assert corpus_loss(model, tokenizer, texts) < before - 0.5
        assert tokenizer.padding_side == "left" and not model.training
        weights.append(torch.cat([p.detach().flatten() for p in model.parameters()]))
    assert torch.equal(weights[0], weights[1])
    assert not torch.equal(weights[0], weights[2])


def test_fine_tune_refuses_zero_steps(tiny_policy):
    model, tokenizer = load_policy(tiny_policy, device="cpu")
    with pytest.raises(ValueError, match="steps ≥ 1"):
        fine_tune(model, tokenizer, ["a comment"], WebTextConfig(steps=0), seed=0)


def test_policy_script_fine_tunes_on_the_insults_comments_and_logs_each_step(tmp_path):
    prompts = tmp_path / "prompts.parquet"
    atomic_write_parquet(PROMPTS, prompts)
    weights = {}
    for name, extra in (("plain", {}), ("web_text", {"web_text": {"steps": 3, "batch_size": 2, "max_tokens": 16,
                                                                   "files": ["train.csv"]}})):
        params = {"seed": 0, "device": "cpu", "name": "tiny", "source": "tiny", **extra}
        done = script("policy.py", "--params", json.dumps(params), "--prompts", str(prompts),
                      "--out", str(tmp_path / name))
        assert done.returncode == 0, done.stderr
        weights[name] = load_file(tmp_path / name / "model.safetensors")
    log = pd.read_csv(tmp_path / "web_text" / "web_text.csv")
    assert log["step"].tolist() == [1, 2, 3] and log["loss"].gt(0).all()
    assert not (tmp_path / "plain" / "web_text.csv").exists()
    assert weights["plain"].keys() == weights["web_text"].keys()
    assert any(not torch.equal(weights["plain"][k], weights["web_text"][k]) for k in weights["plain"])
