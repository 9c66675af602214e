# The language-model chain, per policy (wildcard {policy}: a name in lm.policies):
# prompts → policy → judge → rlhf (r*) → pairs → features → irl (per variant) → rlhf (extracted)
# → eval_generations (per policy: base, r*'s, each re-RLHF's) → toxicity.
# Prompts and the judges are shared by every policy.
#
# Assets are materialised once, by the three local rules below (on SLURM they run on the submitting host,
# where the network is): the prompt set (prompts), each base policy (policy), the r* and evaluation judges
# (judge), all into work/. The GPU rules read only work/ and run with the hub's offline switches set.


localrules:
    prompts,
    policy,
    judge,


wildcard_constraints:
    policy="|".join(re.escape(name) for name in POLICIES),
    variant="|".join(re.escape(slug) for slug in IRL_VARIANTS),
    reward="|".join(re.escape(run) for run in RLHF_RUNS),
    evaluated="|".join(re.escape(name) for name in EVALUATED_POLICIES),
    seed="[0-9]+",


rule prompts:
    output:
        "work/prompts.parquet",
    log:
        "logs/prompts.log",
    benchmark:
        "benchmarks/out/prompts.tsv"
    conda:
        "../environment.yml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        lm=lm_params("prompts"),
    shell:
        'python "$FAIRL_SCRIPTS/prompts.py" --params {params.lm:q} --out {output} 2> {log}'


rule policy:
    input:
        prompts=rules.prompts.output[0],
    output:
        directory("work/{policy}/base"),
    log:
        "logs/{policy}/policy.log",
    benchmark:
        "benchmarks/out/{policy}/policy.tsv"
    conda:
        "../environment.yml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        lm=lambda wc: as_json({"seed": LM["seed"], "device": LM["device"], **POLICY[wc.policy]}),
    shell:
        'python "$FAIRL_SCRIPTS/policy.py" --params {params.lm:q} --prompts {input.prompts} --out {output} 2> {log}'


rule judge:
    output:
        judge=directory("work/judge"),
        evaluation_judge=directory("work/evaluation_judge"),
        auc="results/lm/judge_auc.csv",
    log:
        "logs/judge.log",
    benchmark:
        "benchmarks/out/judge.tsv"
    conda:
        "../environment.yml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        lm=lm_params("ground_truth", evaluation_judge=LM["evaluation_judge"]),
    shell:
        'python "$FAIRL_SCRIPTS/judge.py" --params {params.lm:q} --out {output.judge}'
        " --evaluation-out {output.evaluation_judge} --auc {output.auc} 2> {log}"


rule rlhf:
    """RLHF against r*, or re-RLHF against an extracted reward (wildcard: a run of RLHF_RUNS: ground_truth or a
    variant slug, with -N for its N-th repeat)."""
    input:
        policy=rules.policy.output[0],
        prompts=rules.prompts.output[0],
        judge=rules.judge.output.judge,
        extracted=extracted_reward,
    # Only final/ is declared: Snakemake deletes declared outputs before a re-run, and the
    # checkpoints and step log beside it are what lets a preempted job resume.
    output:
        final=directory(RLHF_FINAL),
    log:
        "logs/{policy}/rlhf_{reward}.log",
    benchmark:
        "benchmarks/out/{policy}/rlhf_{reward}.tsv"
    conda:
        "../environment.yml"
    threads: rlhf_threads
    resources:
        mem_mb=8000,
        runtime=120,
        gpu=1,
    params:
        offline=OFFLINE,
        lm=lambda wc: lm_params("rlhf", features=LM["features"], seed=rlhf_seed(wc.reward)),
        extracted=lambda wc, input: f"--extracted-reward {input.extracted}" if input.extracted else "",
        out="work/{policy}/rlhf/{reward}",
    shell:
        '{params.offline}python "$FAIRL_SCRIPTS/rlhf.py" --params {params.lm:q} --policy {input.policy} --prompts {input.prompts}'
        " --judge {input.judge} {params.extracted} --out {params.out} 2> {log}"


rule pairs:
    input:
        prompts=rules.prompts.output[0],
        base=rules.policy.output[0],
        aligned=RLHF_FINAL.replace("{reward}", GROUND_TRUTH),
        judge=rules.judge.output.judge,
        evaluation_judge=rules.judge.output.evaluation_judge,
    output:
        "work/{policy}/pairs.parquet",
    log:
        "logs/{policy}/pairs.log",
    benchmark:
        "benchmarks/out/{policy}/pairs.tsv"
    conda:
        "../environment.yml"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=60,
        gpu=1,
    params:
        offline=OFFLINE,
        # rlhf: what the aligned policy must have been trained with (checked against its sidecar).
        lm=lm_params(generation=LM["generation"], rlhf=LM["rlhf"], pairs=LM["pairs"]),
    shell:
        '{params.offline}python "$FAIRL_SCRIPTS/pairs.py" --params {params.lm:q} --prompts {input.prompts} --base {input.base}'
        " --aligned {input.aligned} --judge {input.judge} --evaluation-judge {input.evaluation_judge} --out {output}"
        " 2> {log}"


rule features:
    input:
        pairs=rules.pairs.output[0],
        encoder=rules.policy.output[0],
    output:
        "work/{policy}/features.npz",
    log:
        "logs/{policy}/features.log",
    benchmark:
        "benchmarks/out/{policy}/features.tsv"
    conda:
        "../environment.yml"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=60,
        gpu=1,
    params:
        offline=OFFLINE,
        lm=lm_params("features", generation=LM["generation"]),
    shell:
        '{params.offline}python "$FAIRL_SCRIPTS/features.py" --params {params.lm:q} --pairs {input.pairs} --encoder {input.encoder}'
        " --out {output} 2> {log}"


rule irl:
    """One IRL variant (wildcard: its slug) on the frozen features, every regime and seed; a change to one
    variant's hyperparameters re-runs this job and what depends on it, not the other variants."""
    input:
        pairs=rules.pairs.output[0],
        features=rules.features.output[0],
    output:
        metrics="work/{policy}/irl/metrics/{variant}.csv",
        rounds="work/{policy}/irl/rounds/{variant}.csv",
        rewards=[reward_file(VARIANT_REWARDS, r, s) for r in IRL_REGIMES for s in IRL_SEEDS],
    log:
        "logs/{policy}/irl_{variant}.log",
    benchmark:
        "benchmarks/out/{policy}/irl_{variant}.tsv"
    conda:
        "../environment.yml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        lm=lambda wc: as_json(
            {
                "seed": LM["seed"],
                "device": LM["device"],
                "seeds": IRL_SEEDS,
                "regimes": IRL_REGIMES,
                "test_fraction": LM["irl"]["test_fraction"],
                "variant": IRL_VARIANTS[wc.variant],
                # What its inputs must have been made with (checked against their sidecars).
                "precision": LM["precision"],
                "generation": LM["generation"],
                "features": LM["features"],
            }
        ),
        rewards=VARIANT_REWARDS,
    shell:
        'python "$FAIRL_SCRIPTS/irl.py" --params {params.lm:q} --pairs {input.pairs} --features {input.features}'
        " --metrics {output.metrics} --rounds {output.rounds} --rewards {params.rewards} 2> {log}"


rule irl_collect:
    """Every variant's metrics and curriculum rounds of a policy in one table each, in config order."""
    input:
        metrics=expand("work/{{policy}}/irl/metrics/{variant}.csv", variant=IRL_VARIANTS),
        rounds=expand("work/{{policy}}/irl/rounds/{variant}.csv", variant=IRL_VARIANTS),
    output:
        metrics="results/lm/{policy}/irl_metrics_per_seed.csv",
        rounds="work/{policy}/irl/failure_rounds.csv",
    log:
        "logs/{policy}/irl_collect.log",
    benchmark:
        "benchmarks/out/{policy}/irl_collect.tsv"
    conda:
        "../environment.yml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        'python "$FAIRL_SCRIPTS/irl_collect.py" --metrics-in {input.metrics} --rounds-in {input.rounds}'
        " --metrics {output.metrics} --rounds {output.rounds} 2> {log}"


rule eval_generations:
    """One policy's generations on the held-out prompts, scored by both judges, with their log-ratios to the base
    policy (wildcard: base, ground_truth or a re-RLHF reward's slug): each starts as soon as its policy exists."""
    input:
        prompts=rules.prompts.output[0],
        judge=rules.judge.output.judge,
        evaluation_judge=rules.judge.output.evaluation_judge,
        base=rules.policy.output[0],
        policy=evaluated_policy,
    output:
        EVALUATED,
    log:
        "logs/{policy}/eval_generations_{evaluated}.log",
    benchmark:
        "benchmarks/out/{policy}/eval_generations_{evaluated}.tsv"
    conda:
        "../environment.yml"
    threads: EVAL_THREADS
    resources:
        mem_mb=8000,
        runtime=60,
        gpu=1,
    params:
        offline=OFFLINE,
        # rlhf, rewards, rlhf_seeds: what each RLHF'd policy must have been trained with and against (checked against
        # its sidecar).
        lm=lambda wc: lm_params(
            generation=LM["generation"],
            rlhf=LM["rlhf"],
            rewards=rlhf_reward_labels(wc.policy),
            rlhf_seeds={run: rlhf_seed(run) for run in RLHF_RUNS},
        ),
    shell:
        '{params.offline}python "$FAIRL_SCRIPTS/eval_generations.py" --params {params.lm:q} --prompts {input.prompts}'
        " --judge {input.judge} --evaluation-judge {input.evaluation_judge} --base {input.base}"
        " --name {wildcards.evaluated} --policy {input.policy} --out {output} 2> {log}"


rule toxicity:
    """The toxicity table of a policy's base and RLHF'd versions, from their scored generations."""
    input:
        evaluated=lambda wc: [EVALUATED.format(policy=wc.policy, evaluated=name) for name in EVALUATED_POLICIES],
    output:
        table="results/lm/{policy}/toxicity.csv",
        generations="work/{policy}/eval/generations.parquet",
    log:
        "logs/{policy}/toxicity.log",
    benchmark:
        "benchmarks/out/{policy}/toxicity.tsv"
    conda:
        "../environment.yml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        lm=lm_params(generation=LM["generation"], n_boot=LM["n_boot"]),
        evaluated=lambda wc, input: " ".join(
            f"--evaluated {name}={path}" for name, path in zip(EVALUATED_POLICIES, input.evaluated)
        ),
    shell:
        'python "$FAIRL_SCRIPTS/toxicity.py" --params {params.lm:q} {params.evaluated}'
        " --out {output.table} --generations {output.generations} 2> {log}"
