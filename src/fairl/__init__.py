"""fairl: failure-aware inverse RL for auditing what an RLHF-ed model was rewarded for."""
__version__ = "0.1.0"
