# The run's last step: every table it wrote, compared with the committed reference of this
# configuration (`reference`; fairl.reproduction). Its summary line is printed when the run ends.
rule reproduction:
    input:
        tables=reproduced_tables(),
    output:
        csv=report(reproduction_check.REPORT_CSV, caption="../report/reproduction.rst", category="Reproduction"),
        markdown=report(reproduction_check.REPORT_MARKDOWN, caption="../report/reproduction.rst", category="Reproduction"),
    log:
        "logs/reproduction.log",
    benchmark:
        "benchmarks/out/reproduction.tsv"
    conda:
        "../environment.yml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        check=as_json(
            {
                "config": reproduction_check.reproduced_config(config),
                "reference": REFERENCE,
                "tolerance": config.get("reproduction", {}),
            }
        ),
        reference="" if REFERENCE is None else f"--reference {shlex.quote(os.path.join(REPO, REFERENCE))}",
    shell:
        'python "$FAIRL_SCRIPTS/reproduction.py" check --params {params.check:q} --root . {params.reference}'
        " --tables {input.tables} --csv {output.csv} --markdown {output.markdown} 2> {log}"
