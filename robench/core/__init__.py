"""Primitives every layer shares: seeding, pass counting and costs, verification, the randomness probe,
the results record and the run environment. Imports nothing from robench above the foundation modules
(errors, registry, threat, progress)."""
