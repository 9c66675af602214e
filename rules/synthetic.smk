rule synthetic_benchmark:
    output:
        metrics="results/synthetic/metrics_per_seed.csv",
        rounds="work/synthetic/failure_rounds.csv",
    log:
        "logs/synthetic_benchmark.log",
    benchmark:
        "benchmarks/out/synthetic_benchmark.tsv"
    conda:
        "../environment.yml"
    threads: 2
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        synthetic=as_json(config["synthetic"]),
    shell:
        'python "$FAIRL_SCRIPTS/synthetic_benchmark.py" --params {params.synthetic:q}'
        " --metrics {output.metrics} --rounds {output.rounds} --workers {threads} 2> {log}"


rule synthetic_report:
    input:
        metrics=rules.synthetic_benchmark.output.metrics,
        rounds=rules.synthetic_benchmark.output.rounds,
    output:
        csv=report(
            "results/synthetic/benchmark.csv",
            caption="../report/synthetic_benchmark.rst",
            category="Synthetic known-reward benchmark",
        ),
        markdown=report(
            "results/synthetic/benchmark.md",
            caption="../report/synthetic_benchmark.rst",
            category="Synthetic known-reward benchmark",
        ),
        pdf=report(
            "paper_figures/synthetic_benchmark.pdf",
            caption="../report/synthetic_benchmark_figure.rst",
            category="Synthetic known-reward benchmark",
        ),
        png=report(
            "paper_figures/synthetic_benchmark.png",
            caption="../report/synthetic_benchmark_figure.rst",
            category="Synthetic known-reward benchmark",
        ),
    log:
        "logs/synthetic_report.log",
    benchmark:
        "benchmarks/out/synthetic_report.tsv"
    conda:
        "../environment.yml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        'python "$FAIRL_SCRIPTS/synthetic_report.py" --metrics {input.metrics} --rounds {input.rounds}'
        " --csv {output.csv} --markdown {output.markdown} --figures {output.pdf} {output.png} 2> {log}"
