"""robench.attacks."""
