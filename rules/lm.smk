LM = config["lm"]
FIRST_SEED = LM["irl"]["seeds"][0]


def lm_params(*sections, **extra):
    """JSON of the named lm config sections merged with the chain's seed and device."""
    merged = {"seed": LM["seed"], "device": LM["device"], **extra}
    for section in sections:
        merged.update(LM[section])
    return as_json(merged)


def variant_slug(name):
    import re

    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_")


rule prompts:
    output:
        "work/prompts.parquet",
    params:
        lm=lm_params("prompts"),
    log:
        "logs/prompts.log",
    benchmark:
        "benchmarks/out/prompts.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../environment.yml"
    shell:
        "python src/scripts/prompts.py --params {params.lm:q} --out {output} 2> {log}"


rule policy:
    input:
        prompts=rules.prompts.output[0],
    output:
        directory("work/policies/base"),
    params:
        lm=lm_params("policy"),
    log:
        "logs/policy.log",
    benchmark:
        "benchmarks/out/policy.tsv"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        "../environment.yml"
    shell:
        "python src/scripts/policy.py --params {params.lm:q} --prompts {input.prompts} --out {output} 2> {log}"


rule judge:
    output:
        judge=directory("work/judge"),
        auc="results/lm/judge_auc.csv",
    params:
        lm=lm_params("ground_truth"),
    log:
        "logs/judge.log",
    benchmark:
        "benchmarks/out/judge.tsv"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        "../environment.yml"
    shell:
        "python src/scripts/judge.py --params {params.lm:q} --out {output.judge} --auc {output.auc} 2> {log}"


rule rlhf:
    """RLHF against r*, or re-RLHF against an extracted reward (wildcard: ground_truth or a variant slug)."""
    input:
        policy=rules.policy.output[0],
        prompts=rules.prompts.output[0],
        judge=rules.judge.output.judge,
        rewards=lambda wc: [] if wc.reward == "ground_truth" else ["work/irl/rewards"],
    # Only final/ is declared: Snakemake deletes declared outputs before a re-run, and the
    # checkpoints and step log beside it are what lets a preempted job resume.
    output:
        final=directory("work/rlhf/{reward}/final"),
    params:
        lm=lm_params("rlhf"),
        extracted=lambda wc: "" if wc.reward == "ground_truth"
        else f"--extracted-reward work/irl/rewards/{wc.reward}_seed{FIRST_SEED}.npz",
        out="work/rlhf/{reward}",
    log:
        "logs/rlhf_{reward}.log",
    benchmark:
        "benchmarks/out/rlhf_{reward}.tsv"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=120,
        gpu=1,
    conda:
        "../environment.yml"
    shell:
        "python src/scripts/rlhf.py --params {params.lm:q} --policy {input.policy} --prompts {input.prompts}"
        " --judge {input.judge} {params.extracted} --out {params.out} 2> {log}"


rule pairs:
    input:
        prompts=rules.prompts.output[0],
        base=rules.policy.output[0],
        aligned="work/rlhf/ground_truth/final",
        judge=rules.judge.output.judge,
    output:
        "work/pairs.parquet",
    params:
        lm=lm_params(generation=LM["generation"]),
    log:
        "logs/pairs.log",
    benchmark:
        "benchmarks/out/pairs.tsv"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=60,
        gpu=1,
    conda:
        "../environment.yml"
    shell:
        "python src/scripts/pairs.py --params {params.lm:q} --prompts {input.prompts} --base {input.base}"
        " --aligned {input.aligned} --judge {input.judge} --out {output} 2> {log}"


rule features:
    input:
        pairs=rules.pairs.output[0],
        encoder=rules.policy.output[0],
    output:
        "work/features.npz",
    params:
        lm=lm_params("features"),
    log:
        "logs/features.log",
    benchmark:
        "benchmarks/out/features.tsv"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=60,
        gpu=1,
    conda:
        "../environment.yml"
    shell:
        "python src/scripts/features.py --params {params.lm:q} --pairs {input.pairs} --encoder {input.encoder}"
        " --out {output} 2> {log}"


rule irl:
    input:
        pairs=rules.pairs.output[0],
        features=rules.features.output[0],
    output:
        metrics="results/lm/irl_metrics_per_seed.csv",
        rounds="work/irl/failure_rounds.csv",
        rewards=directory("work/irl/rewards"),
    params:
        lm=lm_params("irl"),
    log:
        "logs/irl.log",
    benchmark:
        "benchmarks/out/irl.tsv"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=60,
    conda:
        "../environment.yml"
    shell:
        "python src/scripts/irl.py --params {params.lm:q} --pairs {input.pairs} --features {input.features}"
        " --metrics {output.metrics} --rounds {output.rounds} --rewards {output.rewards} 2> {log}"


def toxicity_policies():
    names = ["ground_truth", *(variant_slug(v) for v in LM["rerlhf"])]
    return {name: f"work/rlhf/{name}/final" for name in names}


rule toxicity:
    input:
        prompts=rules.prompts.output[0],
        judge=rules.judge.output.judge,
        base=rules.policy.output[0],
        policies=list(toxicity_policies().values()),
    output:
        table="results/lm/toxicity.csv",
        generations="work/eval/generations.parquet",
    params:
        lm=lm_params(generation=LM["generation"], n_boot=LM["n_boot"]),
        policies=" ".join(f"--policy {name}={path}" for name, path in toxicity_policies().items()),
    log:
        "logs/toxicity.log",
    benchmark:
        "benchmarks/out/toxicity.tsv"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=60,
        gpu=1,
    conda:
        "../environment.yml"
    shell:
        "python src/scripts/toxicity.py --params {params.lm:q} --prompts {input.prompts} --judge {input.judge}"
        " --policy base={input.base} {params.policies} --out {output.table} --generations {output.generations} 2> {log}"
