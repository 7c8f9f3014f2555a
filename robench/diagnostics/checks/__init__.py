"""One module per diagnostic check; each exposes ``run(ctx) -> list[Flag]``."""
