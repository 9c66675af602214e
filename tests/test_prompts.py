import json

import pandas as pd
import pytest

from fairl.lm.prompts import decode_comment, insult_prompts, load_insults, split_prompts


@pytest.mark.parametrize(
    ("raw", "decoded"),
    [
        (r'"You\'re a fool"', "You're a fool"),
        (r'"A\xc2\xa0majority\n\nof them"', "A majority of them"),
        (r'"A\\xc2\\xa0majority"', "A majority"),  # escaped twice
        (r'"caf\xe9 au lait"', "café au lait"),  # a latin-1 escape that is not UTF-8
        ('"  plain   text "', "plain text"),
    ],
)
def test_decode_comment(raw, decoded):
    assert decode_comment(raw) == decoded


def test_shipped_insults_load_with_both_classes():
    comments = load_insults("train.csv")
    assert len(comments) > 3000
    assert set(comments["label"]) == {0, 1}
    assert comments["text"].iloc[0] == "You fuck your dad."  # the file's '"""..."""' wrapping is gone
    # a handful of comments were escaped three or more times and keep a stray '\\n' past their start
    assert comments["text"].str.contains(r"\\n").mean() < 0.005


def test_prompts_are_prefixes_of_insults_only():
    comments = pd.DataFrame({"text": ["a b c d e f", "x y z w v u t", "short one"], "label": [1, 0, 1]})
    prompts = insult_prompts(comments, prompt_words=3)
    assert prompts["text"].tolist() == ["a b c"]
    assert len(insult_prompts(comments, prompt_words=3, insults_only=False)) == 2


def test_splits_are_disjoint_seeded_and_sized():
    prompts = pd.DataFrame({"text": [f"prompt {i}" for i in range(50)] + ["prompt 0"], "source_score": 1})
    table = split_prompts(prompts, {"rlhf": 10, "pairs": 20, "eval": 5}, seed=1)
    assert table.groupby("split").size().to_dict() == {"eval": 5, "pairs": 20, "rlhf": 10}
    assert table["text"].is_unique and table["prompt_id"].is_unique
    assert table.equals(split_prompts(prompts, {"rlhf": 10, "pairs": 20, "eval": 5}, seed=1))
    assert not table.equals(split_prompts(prompts, {"rlhf": 10, "pairs": 20, "eval": 5}, seed=2))


@pytest.mark.parametrize(
    ("texts", "sizes", "message"),
    [
        ([], {"rlhf": 1, "pairs": 1, "eval": 1}, "no prompt is left"),
        (["", ""], {"rlhf": 1, "pairs": 1, "eval": 1}, "no prompt is left"),
        (["a", "b"], {"rlhf": 1, "pairs": 1, "eval": 1}, "only 2 unique prompts"),
        (["a", "b", "c"], {"train": 1}, "unknown split"),
    ],
)
def test_bad_prompt_sets_raise(texts, sizes, message):
    with pytest.raises(ValueError, match=message):
        split_prompts(pd.DataFrame({"text": pd.Series(texts, dtype=str), "source_score": 1.0}), sizes, seed=0)


def test_rtp_prompts_read_the_real_schema_with_null_scores(tmp_path):
    from fairl.lm.prompts import rtp_prompts
    from tests.standins import real_toxicity_prompts

    directory = real_toxicity_prompts(tmp_path / "rtp", n=200)
    raw = [json.loads(line) for line in (directory / "prompts.jsonl").read_text().splitlines()]
    nulls = sum(record["prompt"]["toxicity"] is None for record in raw)
    assert nulls > 0  # the stand-in has the missing scores the real data has
    prompts = rtp_prompts(str(directory), min_toxicity=0.3)
    expected = sum(record["prompt"]["toxicity"] is not None and record["prompt"]["toxicity"] > 0.3 for record in raw)
    assert len(prompts) == expected and (prompts["source_score"] > 0.3).all()


def test_rtp_dataset_unreachable_names_the_local_copy(hub_offline):
    from fairl.lm.prompts import rtp_prompts

    with pytest.raises(RuntimeError, match="set lm.prompts.dataset to a local copy"):
        rtp_prompts("no-such-org/no-such-dataset")
