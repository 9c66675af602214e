# fairl: reproduction of "Learning from Failures" (arXiv 2510.06092). See README.md.
import os
import sys

from snakemake.utils import min_version, validate

min_version("9.0")

# Rules call `python`: make it the interpreter running Snakemake (e.g. .venv/bin/snakemake without
# activating .venv). With --use-conda, Snakemake puts the rule's env first on PATH, ahead of this.
os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
# Rules run from the output root (below); they find the entry points of src/scripts/ through this.
os.environ["FAIRL_SCRIPTS"] = os.path.join(workflow.basedir, "src", "scripts")


envvars:
    "PATH",
    "FAIRL_SCRIPTS",


# Absolute: the workflow changes into the output root below, and the report reads the file again there.
configfile: os.path.join(workflow.basedir, "config", "config.yaml")


validate(config, "config/schema.yaml")

# The repository (captions, the paper's numbers) and the configuration's output root: every
# output of this configuration (work/, results/, paper_figures/, logs/, benchmarks/out/, .snakemake/)
# lives under output_root, so no run overwrites another configuration's outputs or the committed reference.
REPO = workflow.basedir
OUTPUT_ROOT = os.path.join(REPO, config["output_root"])


workdir: OUTPUT_ROOT


include: "rules/common.smk"
include: "rules/synthetic.smk"
include: "rules/lm.smk"
include: "rules/report.smk"
include: "rules/reproduction.smk"


rule all:
    input:
        final_targets(),


onsuccess:
    print_reproduction_summary()
