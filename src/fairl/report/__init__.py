"""The report layer (rules/report.smk): tables and figures of the LM chain, the paper comparison, and the
table and figure helpers the synthetic report shares."""
