"""robench.gate."""
