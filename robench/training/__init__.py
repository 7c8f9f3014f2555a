"""robench.training."""
