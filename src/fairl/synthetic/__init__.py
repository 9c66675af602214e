"""The synthetic known-reward benchmark (rules/synthetic.smk): preference data with a known r*, every IRL
variant fitted on it, and its table and figure."""
