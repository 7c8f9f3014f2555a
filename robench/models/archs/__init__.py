"""Architectures, one file each. Imported lazily through robench.models.ARCHITECTURES."""
