"""The pipeline: what runs an evaluation end to end, for the CLI and the Python API alike.

A request (``EvaluationRequest``: model, data, threat, run settings, diagnostics) is resolved to a
``Target`` (the loaded model, its data and threat model, its card), then probe → suite → diagnostics
produce the record; ``submit`` stores it and writes the entry, board and report; ``gate`` checks it
against thresholds. Everything below this layer (engine, diagnostics, store, leaderboard, reports, gate)
knows nothing of the others' orchestration.
"""
