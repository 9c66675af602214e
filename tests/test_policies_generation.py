import numpy as np
import pytest
import torch

from fairl.features import cached_features, mean_pooled_features
from fairl.generation import GenerationConfig, generate, generate_naive
from fairl.policies import load_policy, load_tokenizer

CONFIG = GenerationConfig(max_new_tokens=6, temperature=0.7, batch_size=4)
PROMPTS = ["you are an", "have a nice", "what a stupid thing", "thanks for", "shut up"]


def test_tiny_policy_loads_with_left_padding_and_a_pad_token(tiny_policy):
    model, tokenizer = load_policy(tiny_policy, device="cpu")
    assert tokenizer.padding_side == "left" and tokenizer.pad_token is not None
    assert model.config.model_type == "gpt_neox" and not model.training


def test_missing_local_directory_says_how_to_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist; build it with its rule"):
        load_policy(str(tmp_path / "nowhere"))


def test_unknown_hub_id_offline_names_the_local_alternative(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(OSError, match="pass a local directory"):
        load_tokenizer("no-such-org/no-such-model")


def test_generation_strips_the_prompt_by_tokens_and_is_seeded(tiny_policy):
    model, tokenizer = load_policy(tiny_policy, device="cpu")
    a = generate(model, tokenizer, PROMPTS, CONFIG, seed=0)
    b = generate(model, tokenizer, PROMPTS, CONFIG, seed=0)
    c = generate(model, tokenizer, PROMPTS, CONFIG, seed=1)
    assert len(a.texts) == len(PROMPTS) and a.texts == b.texts and a.texts != c.texts
    assert 0 < a.new_tokens <= len(PROMPTS) * CONFIG.max_new_tokens and a.tokens_per_second > 0
    # the completion's tokens follow the prompt's: re-tokenising prompt + completion starts with the prompt
    for prompt, completion in zip(PROMPTS, a.texts):
        assert not completion.startswith(prompt)
    naive = generate_naive(model, tokenizer, PROMPTS[:2], CONFIG, seed=0)
    assert len(naive.texts) == 2


def test_generation_refuses_right_padding(tiny_policy):
    model, tokenizer = load_policy(tiny_policy, device="cpu")
    tokenizer.padding_side = "right"
    with pytest.raises(ValueError, match="left-padding"):
        generate(model, tokenizer, PROMPTS, CONFIG, seed=0)


def test_features_are_mean_pooled_and_independent_of_padding(tiny_policy):
    model, tokenizer = load_policy(tiny_policy, device="cpu")
    texts = ["you are an idiot and a fool", "hi"]
    batched = mean_pooled_features(model, tokenizer, texts, batch_size=2)
    alone = np.concatenate([mean_pooled_features(model, tokenizer, [t], batch_size=1) for t in texts])
    assert batched.shape == (2, model.config.hidden_size)
    assert np.allclose(batched, alone, atol=1e-5)
    with torch.inference_mode():
        ids = tokenizer(texts[:1], return_tensors="pt")
        manual = model(**ids, output_hidden_states=True).hidden_states[-1][0].mean(0).numpy()
    assert np.allclose(batched[0], manual, atol=1e-5)


def test_feature_cache_is_reused_and_invalidated(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return np.ones((2, 3), np.float32) * len(calls)

    path = tmp_path / "cache.npz"
    first = cached_features(path, "enc", ["a", "b"], compute, 32)
    again = cached_features(path, "enc", ["a", "b"], compute, 32)
    assert np.array_equal(first, again) and len(calls) == 1
    other = cached_features(path, "enc", ["a", "c"], compute, 32)
    assert len(calls) == 2 and other[0, 0] == 2
