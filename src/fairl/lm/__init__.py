"""The language-model chain (rules/lm.smk): prompts, policies, judges, RLHF, preference pairs, features h(o),
reward extraction and toxicity evaluation, and the files each stage hands the next."""
