# fairl: reproduction of "Learning from Failures" (arXiv 2510.06092). See README.md.
import os
import sys

from snakemake.utils import min_version, validate

min_version("9.0")

# Rules call `python`: make it the interpreter running Snakemake (e.g. .venv/bin/snakemake without
# activating .venv). With --use-conda, Snakemake puts the rule's env first on PATH, ahead of this.
os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")


envvars:
    "PATH",


configfile: "config/config.yaml"


validate(config, "config/schema.yaml")


include: "rules/common.smk"
include: "rules/synthetic.smk"
include: "rules/lm.smk"
include: "rules/report.smk"


rule all:
    input:
        all_targets(),
