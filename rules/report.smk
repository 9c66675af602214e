# Report layer of the language-model chain: every table and figure, aggregated over policies,
# each its own target (`snakemake paper_figures/lm_starc.pdf`). report_targets() lists them all.


include: "report_common.smk"


rule lm_classification_table:
    input:
        metrics=per_policy("results/lm/{policy}/irl_metrics_per_seed.csv"),
    output:
        csv=lm_report("results/lm/classification.csv", "lm_classification", "Tables"),
        markdown=lm_report("results/lm/classification.md", "lm_classification", "Tables"),
    params:
        lm=report_params(),
        metrics=policy_args("--metrics", "results/lm/{policy}/irl_metrics_per_seed.csv"),
    log:
        "logs/lm_classification_table.log",
    benchmark:
        "benchmarks/out/lm_classification_table.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../environment.yml"
    shell:
        "python \"$FAIRL_SCRIPTS/lm_tables.py\" classification --params {params.lm:q} {params.metrics}"
        " --csv {output.csv} --markdown {output.markdown} 2> {log}"


rule lm_starc_table:
    input:
        metrics=per_policy("results/lm/{policy}/irl_metrics_per_seed.csv"),
    output:
        csv=lm_report("results/lm/starc.csv", "lm_starc", "Tables"),
        markdown=lm_report("results/lm/starc.md", "lm_starc", "Tables"),
    params:
        lm=report_params(),
        metrics=policy_args("--metrics", "results/lm/{policy}/irl_metrics_per_seed.csv"),
    log:
        "logs/lm_starc_table.log",
    benchmark:
        "benchmarks/out/lm_starc_table.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../environment.yml"
    shell:
        "python \"$FAIRL_SCRIPTS/lm_tables.py\" starc --params {params.lm:q} {params.metrics}"
        " --csv {output.csv} --markdown {output.markdown} 2> {log}"


rule lm_ablations_table:
    input:
        metrics=per_policy("results/lm/{policy}/irl_metrics_per_seed.csv"),
    output:
        csv=lm_report("results/lm/ablations.csv", "lm_ablations", "Tables"),
        markdown=lm_report("results/lm/ablations.md", "lm_ablations", "Tables"),
    params:
        lm=report_params(),
        metrics=policy_args("--metrics", "results/lm/{policy}/irl_metrics_per_seed.csv"),
    log:
        "logs/lm_ablations_table.log",
    benchmark:
        "benchmarks/out/lm_ablations_table.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../environment.yml"
    shell:
        "python \"$FAIRL_SCRIPTS/lm_tables.py\" ablations --params {params.lm:q} {params.metrics}"
        " --csv {output.csv} --markdown {output.markdown} 2> {log}"


rule lm_rerlhf_toxicity_table:
    input:
        toxicity=per_policy("results/lm/{policy}/toxicity.csv"),
        generations=per_policy("work/{policy}/eval/generations.parquet"),
    output:
        csv=lm_report("results/lm/rerlhf_toxicity.csv", "lm_rerlhf_toxicity", "Tables"),
        markdown=lm_report("results/lm/rerlhf_toxicity.md", "lm_rerlhf_toxicity", "Tables"),
    params:
        lm=report_params(split=True, n_boot=LM["n_boot"]),
        toxicity=policy_args("--toxicity", "results/lm/{policy}/toxicity.csv"),
        generations=policy_args("--generations", "work/{policy}/eval/generations.parquet"),
    log:
        "logs/lm_rerlhf_toxicity_table.log",
    benchmark:
        "benchmarks/out/lm_rerlhf_toxicity_table.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../environment.yml"
    shell:
        "python \"$FAIRL_SCRIPTS/lm_tables.py\" rerlhf_toxicity --params {params.lm:q} {params.toxicity} {params.generations}"
        " --csv {output.csv} --markdown {output.markdown} 2> {log}"


rule lm_failure_pairs:
    input:
        pairs=per_policy("work/{policy}/pairs.parquet"),
        features=per_policy("work/{policy}/features.npz"),
        rewards=first_seed_rewards(),
    output:
        csv=lm_report("results/lm/failure_pairs.csv", "lm_failure_pairs", "Tables"),
        markdown=lm_report("results/lm/failure_pairs.md", "lm_failure_pairs", "Tables"),
    params:
        lm=report_params("top_k", "max_chars", split=True),
        inputs=pairs_args(),
    log:
        "logs/lm_failure_pairs.log",
    benchmark:
        "benchmarks/out/lm_failure_pairs.tsv"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    conda:
        "../environment.yml"
    shell:
        "python \"$FAIRL_SCRIPTS/lm_tables.py\" failure_pairs --params {params.lm:q} {params.inputs}"
        " --csv {output.csv} --markdown {output.markdown} 2> {log}"


rule paper_vs_reproduced:
    input:
        claims=os.path.join(REPO, "config", "paper_claims.yaml"),
        classification="results/lm/classification.csv",
        starc="results/lm/starc.csv",
        toxicity="results/lm/rerlhf_toxicity.csv",
    output:
        csv=report("results/paper_vs_reproduced.csv", caption="../report/paper_vs_reproduced.rst",
                   category="Paper vs reproduced"),
        markdown=report("results/paper_vs_reproduced.md", caption="../report/paper_vs_reproduced.rst",
                        category="Paper vs reproduced"),
    params:
        lm=as_json({"config_label": f"policies {', '.join(POLICIES)}; IRL seeds {LM['irl']['seeds']}"}),
    log:
        "logs/paper_vs_reproduced.log",
    benchmark:
        "benchmarks/out/paper_vs_reproduced.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../environment.yml"
    shell:
        "python \"$FAIRL_SCRIPTS/lm_tables.py\" paper_vs_reproduced --params {params.lm:q} --claims {input.claims}"
        " --classification {input.classification} --starc {input.starc} --toxicity {input.toxicity}"
        " --csv {output.csv} --markdown {output.markdown} 2> {log}"


rule lm_classification_figure:
    input:
        metrics=per_policy("results/lm/{policy}/irl_metrics_per_seed.csv"),
    output:
        pdf=lm_report("paper_figures/lm_classification.pdf", "lm_classification_figure", "Figures"),
        png=lm_report("paper_figures/lm_classification.png", "lm_classification_figure", "Figures"),
    params:
        lm=report_params(),
        metrics=policy_args("--metrics", "results/lm/{policy}/irl_metrics_per_seed.csv"),
    log:
        "logs/lm_classification_figure.log",
    benchmark:
        "benchmarks/out/lm_classification_figure.tsv"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=10,
    conda:
        "../environment.yml"
    shell:
        "python \"$FAIRL_SCRIPTS/lm_figures.py\" classification --params {params.lm:q} {params.metrics}"
        " --out {output.pdf} {output.png} 2> {log}"


rule lm_starc_figure:
    input:
        metrics=per_policy("results/lm/{policy}/irl_metrics_per_seed.csv"),
    output:
        pdf=lm_report("paper_figures/lm_starc.pdf", "lm_starc_figure", "Figures"),
        png=lm_report("paper_figures/lm_starc.png", "lm_starc_figure", "Figures"),
    params:
        lm=report_params(),
        metrics=policy_args("--metrics", "results/lm/{policy}/irl_metrics_per_seed.csv"),
    log:
        "logs/lm_starc_figure.log",
    benchmark:
        "benchmarks/out/lm_starc_figure.tsv"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=10,
    conda:
        "../environment.yml"
    shell:
        "python \"$FAIRL_SCRIPTS/lm_figures.py\" starc --params {params.lm:q} {params.metrics}"
        " --out {output.pdf} {output.png} 2> {log}"


rule lm_lambda_sweep_figure:
    input:
        metrics=per_policy("results/lm/{policy}/irl_metrics_per_seed.csv"),
    output:
        pdf=lm_report("paper_figures/lm_lambda_sweep.pdf", "lm_lambda_sweep_figure", "Figures"),
        png=lm_report("paper_figures/lm_lambda_sweep.png", "lm_lambda_sweep_figure", "Figures"),
    params:
        lm=report_params(),
        metrics=policy_args("--metrics", "results/lm/{policy}/irl_metrics_per_seed.csv"),
    log:
        "logs/lm_lambda_sweep_figure.log",
    benchmark:
        "benchmarks/out/lm_lambda_sweep_figure.tsv"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=10,
    conda:
        "../environment.yml"
    shell:
        "python \"$FAIRL_SCRIPTS/lm_figures.py\" lambda_sweep --params {params.lm:q} {params.metrics}"
        " --out {output.pdf} {output.png} 2> {log}"


rule lm_failure_curriculum_figure:
    input:
        rounds=per_policy("work/{policy}/irl/failure_rounds.csv"),
    output:
        pdf=lm_report("paper_figures/lm_failure_curriculum.pdf", "lm_failure_curriculum_figure", "Figures"),
        png=lm_report("paper_figures/lm_failure_curriculum.png", "lm_failure_curriculum_figure", "Figures"),
    params:
        lm=report_params(),
        rounds=policy_args("--rounds", "work/{policy}/irl/failure_rounds.csv"),
    log:
        "logs/lm_failure_curriculum_figure.log",
    benchmark:
        "benchmarks/out/lm_failure_curriculum_figure.tsv"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=10,
    conda:
        "../environment.yml"
    shell:
        "python \"$FAIRL_SCRIPTS/lm_figures.py\" failure_curriculum --params {params.lm:q} {params.rounds}"
        " --out {output.pdf} {output.png} 2> {log}"


rule lm_rerlhf_training_figure:
    input:
        runs=[f"work/{p}/rlhf/{r}/final" for p in POLICIES for r in rlhf_rewards()],
    output:
        pdf=lm_report("paper_figures/lm_rerlhf_training.pdf", "lm_rerlhf_training_figure", "Figures"),
        png=lm_report("paper_figures/lm_rerlhf_training.png", "lm_rerlhf_training_figure", "Figures"),
    params:
        lm=report_params("smoothing"),
        logs=rlhf_log_args(),
    log:
        "logs/lm_rerlhf_training_figure.log",
    benchmark:
        "benchmarks/out/lm_rerlhf_training_figure.tsv"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=10,
    conda:
        "../environment.yml"
    shell:
        "python \"$FAIRL_SCRIPTS/lm_figures.py\" rerlhf_training --params {params.lm:q} {params.logs}"
        " --out {output.pdf} {output.png} 2> {log}"


rule lm_reward_distributions_figure:
    input:
        pairs=per_policy("work/{policy}/pairs.parquet"),
        features=per_policy("work/{policy}/features.npz"),
        rewards=first_seed_rewards(),
    output:
        pdf=lm_report("paper_figures/lm_reward_distributions.pdf", "lm_reward_distributions_figure", "Figures"),
        png=lm_report("paper_figures/lm_reward_distributions.png", "lm_reward_distributions_figure", "Figures"),
    params:
        lm=report_params(split=True),
        inputs=pairs_args(),
    log:
        "logs/lm_reward_distributions_figure.log",
    benchmark:
        "benchmarks/out/lm_reward_distributions_figure.tsv"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    conda:
        "../environment.yml"
    shell:
        "python \"$FAIRL_SCRIPTS/lm_figures.py\" reward_distributions --params {params.lm:q} {params.inputs}"
        " --out {output.pdf} {output.png} 2> {log}"
