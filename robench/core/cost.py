"""The one cost type: forward and backward passes in samples, counted at the model, and seconds.

A backward pass costs about two forwards, so ``weighted`` (forward + 2 x backward) is the number the
benchmarks compare; ``passes`` (forward + backward) is what boards list beside seconds.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Cost:
    forward: int = 0
    backward: int = 0
    seconds: float = 0.0

    def __add__(self, other: Cost) -> Cost:
        return Cost(
            self.forward + other.forward, self.backward + other.backward, self.seconds + other.seconds
        )

    def __sub__(self, other: Cost) -> Cost:
        return Cost(
            self.forward - other.forward, self.backward - other.backward, self.seconds - other.seconds
        )

    @property
    def passes(self) -> int:
        return self.forward + self.backward

    @property
    def weighted(self) -> int:
        """forward + 2 x backward: the cost measure of the benchmarks (a backward is ~2 forwards)."""
        return self.forward + 2 * self.backward

    def rounded(self, digits: int = 4) -> Cost:
        return Cost(self.forward, self.backward, round(self.seconds, digits))
