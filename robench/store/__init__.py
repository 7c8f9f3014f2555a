"""robench.store."""
