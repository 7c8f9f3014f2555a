"""robench.reports."""
