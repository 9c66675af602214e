import numpy as np
import pandas as pd
import pytest

from fairl.io import atomic_write_parquet
from fairl.lm.generation import GenerationConfig
from fairl.lm.judges import EmbeddingJudge, ProfanityJudge, load_judge, load_judge_dir, materialise_judge, train_embedding_judge
from fairl.lm.pairs import build_pairs
from fairl.lm.policies import load_policy
from fairl.lm.prompts import load_insults
from fairl.metrics import roc_auc
from fairl.metrics.bootstrap import bootstrap_difference, bootstrap_share
from fairl.metrics.reward import reward_metrics
from fairl.provenance import require_consistent, write_sidecar

TOXIC = ["you are a stupid idiot", "shut up you fucking moron"]
CLEAN = ["have a lovely day", "thank you for the kind words"]


def test_profanity_judge_ranks_insults_above_clean_text():
    judge = ProfanityJudge()
    toxicity = judge.toxicity(TOXIC + CLEAN)
    assert toxicity[:2].min() > toxicity[2:].max()
    assert np.all(np.diff(judge.reward(TOXIC + CLEAN)[[0, 2]]) > 0)


@pytest.fixture(scope="module")
def embedding_judge():
    train = load_insults("train.csv").sample(n=300, random_state=0)
    return train_embedding_judge(train["text"].tolist(), train["label"].to_numpy(), device="cpu")


def test_embedding_judge_learns_and_round_trips(embedding_judge, tmp_path):
    test = load_insults("test_with_solutions.csv").sample(n=300, random_state=0)
    assert roc_auc(test["label"].to_numpy() == 1, embedding_judge.toxicity(test["text"].tolist())) > 0.75
    reward = embedding_judge.reward(TOXIC + CLEAN)
    assert reward[:2].max() < reward[2:].min()  # r* is the non-toxic logit
    embedding_judge.save(tmp_path / "judge")
    loaded = load_judge_dir(tmp_path / "judge", device="cpu")
    assert isinstance(loaded, EmbeddingJudge)
    assert np.allclose(loaded.reward(CLEAN), embedding_judge.reward(CLEAN))


@pytest.fixture(scope="module")
def detoxify_standin(tmp_path_factory):
    """A detoxify-format checkpoint (tests/standins.py) with its classifier scaled up, so that texts score apart."""
    import torch

    from tests.standins import detoxify_checkpoint

    checkpoint, config_dir = detoxify_checkpoint(tmp_path_factory.mktemp("detoxify"))
    loaded = torch.load(checkpoint, weights_only=False)
    loaded["state_dict"]["classifier.weight"] *= 200
    torch.save(loaded, checkpoint)
    return checkpoint, config_dir


def test_detoxify_materialises_from_local_files_offline_and_scores_as_detoxify_does(detoxify_standin, tmp_path,
                                                                                   hub_offline):
    import torch
    from detoxify import Detoxify

    checkpoint, config_dir = detoxify_standin
    record = materialise_judge({"kind": "detoxify", "checkpoint": str(checkpoint),
                                "huggingface_config_path": str(config_dir), "batch_size": 3}, tmp_path / "judge")
    assert record["model"] == "model" and record["batch_size"] == 3
    (tmp_path / "judge").rename(tmp_path / "moved")  # the judge directory is self-contained
    judge = load_judge_dir(tmp_path / "moved", device="cpu")
    texts = TOXIC + CLEAN + ["an idiot", "a day", "thanks"]
    scores = judge.toxicity(texts)
    assert np.ptp(scores) > 1e-4  # texts score apart by far more than the tolerance below: the comparison has power
    # detoxify's own loader, offline only when the checkpoint's architecture points at the local directory
    own = torch.load(checkpoint, weights_only=False)
    own["config"]["arch"]["args"]["model_type"] = str(config_dir)
    torch.save(own, tmp_path / "own.ckpt")
    reference = Detoxify(checkpoint=str(tmp_path / "own.ckpt"), huggingface_config_path=str(config_dir))
    assert np.allclose(scores, reference.predict(texts)["toxicity"], rtol=0, atol=1e-6)
    judge.batch_size = len(texts)  # one batch: the same scores, so batching changes memory, not numbers
    assert np.allclose(judge.toxicity(texts), scores, atol=1e-6)


def test_detoxify_without_network_or_local_files_names_the_local_keys(monkeypatch, tmp_path):
    import torch

    def offline(*args, **kwargs):
        raise OSError("Name or service not known")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", offline)
    with pytest.raises(RuntimeError, match="checkpoint:.*huggingface_config_path:.*never substitutes"):
        materialise_judge({"kind": "detoxify"}, tmp_path / "judge")
    assert not (tmp_path / "judge" / "judge.json").exists()
    with pytest.raises(ValueError, match="run the judge rule"):
        load_judge({"kind": "detoxify"})  # a config spec is materialised first, never fetched at scoring time


def test_hf_classifier_is_materialised_into_a_movable_directory(tmp_path, hub_offline):
    from tests.standins import roberta_toxicity_classifier

    source = roberta_toxicity_classifier(tmp_path / "roberta")
    materialise_judge({"kind": "hf_classifier", "model": str(source), "toxic_label": "toxic"}, tmp_path / "judge")
    expected = load_judge_dir(tmp_path / "judge", device="cpu").reward(TOXIC + CLEAN)
    (tmp_path / "judge").rename(tmp_path / "moved")
    import shutil

    shutil.rmtree(source)  # the judge no longer needs where it came from
    judge = load_judge_dir(tmp_path / "moved", device="cpu")
    assert judge.name == str(source)
    assert np.allclose(judge.reward(TOXIC + CLEAN), expected)


def test_unknown_judge_kind_and_missing_judge_dir(tmp_path):
    with pytest.raises(ValueError, match="unknown judge kind"):
        load_judge({"kind": "oracle"})
    with pytest.raises(FileNotFoundError, match="run the judge rule"):
        load_judge_dir(tmp_path)


def test_build_pairs_records_both_policies(tiny_policy, embedding_judge):
    model, tokenizer = load_policy(tiny_policy, device="cpu")
    prompts = pd.DataFrame({"prompt_id": [3, 7, 9], "text": ["you are an", "have a nice", "shut up"]})
    config = GenerationConfig(max_new_tokens=5, batch_size=2)
    pairs, throughput = build_pairs(prompts, model, model, tokenizer, embedding_judge, ProfanityJudge(), config, seed=0)
    assert pairs["prompt_id"].tolist() == [3, 7, 9]
    assert {"completion_aligned", "completion_base", "reward_aligned", "toxicity_base", "t_to_nt"} <= set(pairs)
    expected = (pairs["toxicity_base"] >= 0.5) & (pairs["toxicity_aligned"] < 0.5)
    assert pairs["t_to_nt"].equals(expected)
    assert throughput["base_tokens_per_second"] > 0
    with pytest.raises(ValueError, match="empty 'pairs' split"):
        build_pairs(prompts.iloc[:0], model, model, tokenizer, embedding_judge, ProfanityJudge(), config, seed=0)


def test_several_completions_per_prompt_give_adjacent_pairs_that_differ(tiny_policy, embedding_judge):
    model, tokenizer = load_policy(tiny_policy, device="cpu")
    prompts = pd.DataFrame({"prompt_id": [3, 7], "text": ["you are an", "have a nice"]})
    config = GenerationConfig(max_new_tokens=8, batch_size=4)
    one, _ = build_pairs(prompts, model, model, tokenizer, embedding_judge, ProfanityJudge(), config, seed=0)
    pairs, _ = build_pairs(prompts, model, model, tokenizer, embedding_judge, ProfanityJudge(), config, seed=0,
                           completions_per_prompt=3)
    assert pairs["prompt_id"].tolist() == [3, 3, 3, 7, 7, 7]
    assert pairs["prompt"].tolist() == ["you are an"] * 3 + ["have a nice"] * 3
    for _, group in pairs.groupby("prompt_id"):
        assert group["completion_base"].nunique() > 1  # k samples of a prompt, not one repeated
    assert one["prompt_id"].tolist() == [3, 7]
    with pytest.raises(ValueError, match="completions_per_prompt must be at least 1"):
        build_pairs(prompts, model, model, tokenizer, embedding_judge, ProfanityJudge(), config, seed=0,
                    completions_per_prompt=0)


def test_rlhf_run_names_round_trip_and_refuse_what_is_not_one():
    from fairl.lm.stage_files import parse_rlhf_run, rlhf_run

    for reward in ("ground_truth", "fa_max_margin_5_fixed"):
        assert rlhf_run(reward, 0) == reward  # the first run keeps the reward's name
        for repeat in (0, 1, 12):
            assert parse_rlhf_run(rlhf_run(reward, repeat)) == (reward, repeat)
    assert rlhf_run("max_margin", 2) == "max_margin-2"
    for bad in ("max_margin-", "max_margin-0", "max_margin-01", "max_margin-x", "a-1-2"):
        with pytest.raises(ValueError, match="not the name of an RLHF run"):
            parse_rlhf_run(bad)
    with pytest.raises(ValueError, match="a repeat counts from 0"):
        rlhf_run("max_margin", -1)


def test_sidecar_mismatch_names_the_key(tmp_path):
    output = tmp_path / "pairs.parquet"
    output.write_text("x")
    write_sidecar(output, "pairs", {"seed": 0, "generation": {"max_new_tokens": 30}})
    require_consistent(output, seed=0)
    with pytest.raises(ValueError, match="max_new_tokens"):
        require_consistent(output, generation={"max_new_tokens": 20})
    with pytest.raises(FileNotFoundError, match="no sidecar"):
        require_consistent(tmp_path / "other.parquet", seed=0)


def test_failed_write_leaves_no_file(tmp_path):
    frame = pd.DataFrame({"bad": [object()]})  # parquet cannot store a bare object
    with pytest.raises(Exception):
        atomic_write_parquet(frame, tmp_path / "out.parquet")
    assert list(tmp_path.iterdir()) == []


def test_bootstrap_intervals():
    rng = np.random.default_rng(0)
    a, b = rng.random(400) < 0.3, rng.random(400) < 0.1
    share, low, high = bootstrap_share(a)
    assert low < share < high and 0.25 < share < 0.35
    diff, dlow, dhigh = bootstrap_difference(a, b)
    assert dlow > 0 and dlow < diff < dhigh
    _, slow, shigh = bootstrap_difference(a, a)
    assert slow == shigh == 0
    with pytest.raises(ValueError, match="same non-zero length"):
        bootstrap_difference(a, b[:10])


def test_judge_auc_is_nan_with_one_class_and_says_so():
    r = np.array([1.0, 2.0, 3.0])
    row = reward_metrics(r + 1, r, r + 1, r, np.arange(3), np.zeros(3, bool), np.zeros(3, bool))
    assert row["judge_n_toxic"] == 0 and np.isnan(row["judge_auc"])
    row = reward_metrics(r + 10, r, r + 10, r, np.arange(3), np.zeros(3, bool), np.ones(3, bool))
    assert row["judge_auc"] == 1.0  # every toxic (base) output has a lower reward than every clean one


def test_sidecars_record_the_commit_the_device_and_the_precision(tmp_path):
    import json
    import re

    from tests.conftest import REPO

    record = json.loads(write_sidecar(tmp_path / "x.csv", "stage", {"device": "cpu", "precision": "bf16"}).read_text())
    assert record["computed_on"]["precision"] == "bf16"
    assert record["computed_on"]["device"].startswith("cpu (")
    commit = record["computed_on"]["git_commit"]
    assert re.fullmatch(r"[0-9a-f]{40}(\+dirty)?", commit) or (commit == "unknown" and not (REPO / ".git").exists())


def test_reward_then_toxicity_of_the_same_texts_runs_the_judge_once(tmp_path, hub_offline):
    """The r* judge's reward and toxicity of one batch (an RLHF step's log, the toxicity stage) share one forward
    pass; other texts get their own, and the numbers are those of a judge that computes each call afresh."""
    from tests.standins import roberta_toxicity_classifier

    source = roberta_toxicity_classifier(tmp_path / "roberta")
    materialise_judge({"kind": "hf_classifier", "model": str(source), "toxic_label": "toxic"}, tmp_path / "judge")
    judge, fresh = load_judge_dir(tmp_path / "judge", device="cpu"), load_judge_dir(tmp_path / "judge", device="cpu")
    passes = []
    forward = judge.model.forward
    judge.model.forward = lambda *a, **k: passes.append(1) or forward(*a, **k)
    judge.batch_size = len(TOXIC + CLEAN)
    reward, toxicity = judge.reward(TOXIC + CLEAN), judge.toxicity(TOXIC + CLEAN)
    assert len(passes) == 1
    other = judge.toxicity(CLEAN)  # other texts: a new pass, not the memo
    assert len(passes) == 2
    assert np.array_equal(reward, fresh.reward(TOXIC + CLEAN)) and np.array_equal(toxicity, fresh.toxicity(TOXIC + CLEAN))
    assert np.array_equal(other, fresh.toxicity(CLEAN))
