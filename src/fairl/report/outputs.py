"""The report layer's tables and figures of the LM chain, one entry each.

rules/report.smk generates one rule per entry (its name, files, caption, inputs and command all
follow from the entry) and the `all` target lists the entries' files; the tests of the replot profile
and of the captions read the rule and caption names from here. A table or figure is added in one place.
Imported by the Snakefile: no torch.
"""

from __future__ import annotations

from dataclasses import dataclass

INPUT_KINDS = ("metrics", "toxicity", "generations", "rounds", "pairs", "features", "rewards", "runs",
               "rerlhf_toxicity")
"""What a report script reads, per policy: IRL metrics, toxicity tables, evaluation generations, curriculum
rounds, pairs, features, the first-seed rewards of every variant, and the RLHF runs (their step logs); and one
table of this layer, over every policy: the rerlhf_toxicity table."""


@dataclass(frozen=True)
class ReportOutput:
    kind: str
    """'table' (CSV + Markdown, src/scripts/lm_tables.py) or 'figure' (PDF + PNG, src/scripts/lm_figures.py)."""
    name: str
    """The script's subcommand and the files' stem."""
    inputs: tuple[str, ...]
    """INPUT_KINDS it reads."""
    report_keys: tuple[str, ...] = ()
    """Keys of the optional `report` config section it uses."""
    split: bool = False
    """Whether it needs the IRL train/test split (test_fraction and the first IRL seed)."""
    n_boot: bool = False
    """Whether it bootstraps (lm.n_boot)."""
    mem_mb: int = 2000

    def __post_init__(self):
        if self.kind not in ("table", "figure"):
            raise ValueError(f"{self.name}: kind must be 'table' or 'figure', got {self.kind!r}")
        unknown = set(self.inputs) - set(INPUT_KINDS)
        if unknown:
            raise ValueError(f"{self.name}: unknown input kind(s) {sorted(unknown)}; known: {INPUT_KINDS}")

    @property
    def rule(self) -> str:
        return f"lm_{self.name}_{self.kind}"

    @property
    def caption(self) -> str:
        """Stem of its caption in report/ (the .rst file snakemake --report shows beside it)."""
        return f"lm_{self.name}" if self.kind == "table" else f"lm_{self.name}_figure"

    @property
    def script(self) -> str:
        return "lm_tables.py" if self.kind == "table" else "lm_figures.py"

    @property
    def files(self) -> dict[str, str]:
        """Its outputs by name: csv and markdown, or pdf and png."""
        if self.kind == "table":
            return {"csv": f"results/lm/{self.name}.csv", "markdown": f"results/lm/{self.name}.md"}
        return {"pdf": f"paper_figures/lm_{self.name}.pdf", "png": f"paper_figures/lm_{self.name}.png"}

    @property
    def output_arguments(self) -> str:
        files = self.files
        if self.kind == "table":
            return f"--csv {files['csv']} --markdown {files['markdown']}"
        return f"--out {files['pdf']} {files['png']}"


LM_REPORT = (
    ReportOutput("table", "classification", ("metrics",)),
    ReportOutput("table", "starc", ("metrics",)),
    ReportOutput("table", "ablations", ("metrics",)),
    ReportOutput("table", "rerlhf_toxicity", ("toxicity", "generations"), n_boot=True, split=True),
    ReportOutput("table", "rerlhf_repeats", ("rerlhf_toxicity",)),
    ReportOutput("table", "failure_pairs", ("pairs", "features", "rewards"), ("top_k", "max_chars"), split=True, mem_mb=4000),
    ReportOutput("figure", "classification", ("metrics",), mem_mb=3000),
    ReportOutput("figure", "starc", ("metrics",), mem_mb=3000),
    ReportOutput("figure", "lambda_sweep", ("metrics",), mem_mb=3000),
    ReportOutput("figure", "failure_curriculum", ("rounds",), mem_mb=3000),
    ReportOutput("figure", "rerlhf_training", ("runs",), ("smoothing",), mem_mb=3000),
    ReportOutput("figure", "reward_distributions", ("pairs", "features", "rewards"), split=True, mem_mb=4000),
)
"""Every table and figure of the LM chain, in the order the report lists them."""

PAPER_VS_REPRODUCED = {"csv": "results/paper_vs_reproduced.csv", "markdown": "results/paper_vs_reproduced.md"}
"""The paper's numbers beside ours (rule paper_vs_reproduced, from three of the tables above)."""


def report_files() -> list[str]:
    """Every output of the report layer (the `all` target adds these)."""
    return [path for output in LM_REPORT for path in output.files.values()] + list(PAPER_VS_REPRODUCED.values())
