"""robench.diagnostics."""
