# Report layer of the language-model chain: every table and figure, aggregated over policies, each its own
# target (`snakemake paper_figures/lm_starc.pdf`). One rule per entry of fairl.report.outputs.LM_REPORT,
# generated below: its name, files, caption, inputs and command follow from the entry.


include: "report_common.smk"


for output in LM_REPORT:

    rule:
        name:
            output.rule
        input:
            **report_inputs(output),
        output:
            **report_outputs(output),
        log:
            f"logs/{output.rule}.log",
        benchmark:
            f"benchmarks/out/{output.rule}.tsv"
        conda:
            "../environment.yml"
        threads: 1
        resources:
            mem_mb=output.mem_mb,
            runtime=10,
        params:
            script=output.script,
            name=output.name,
            lm=report_params(output),
            inputs=report_arguments(output),
            outputs=output.output_arguments,
        shell:
            'python "$FAIRL_SCRIPTS/{params.script}" {params.name} --params {params.lm:q} {params.inputs} {params.outputs}'
            " 2> {log}"


rule paper_vs_reproduced:
    input:
        claims=os.path.join(REPO, "config", "paper_claims.yaml"),
        classification=table_file("classification"),
        starc=table_file("starc"),
        toxicity=table_file("rerlhf_repeats"),
    output:
        **{
            key: report(path, caption="../report/paper_vs_reproduced.rst", category="Paper vs reproduced")
            for key, path in PAPER_VS_REPRODUCED.items()
        },
    log:
        "logs/paper_vs_reproduced.log",
    benchmark:
        "benchmarks/out/paper_vs_reproduced.tsv"
    conda:
        "../environment.yml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        lm=as_json({"config_label": f"policies {', '.join(POLICIES)}; IRL seeds {LM['irl']['seeds']}"}),
    shell:
        'python "$FAIRL_SCRIPTS/lm_tables.py" paper_vs_reproduced --params {params.lm:q} --claims {input.claims}'
        " --classification {input.classification} --starc {input.starc} --toxicity {input.toxicity}"
        " --csv {output.csv} --markdown {output.markdown} 2> {log}"
