"""How the engine runs a suite: one frozen settings object, built once by the CLI or the Python API."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from robench.core.identity import BLOCK_SIZE
from robench.core.threads import threads_field
from robench.errors import RobenchError
from robench.options import option


@dataclass(frozen=True)
class RunSettings:
    suite: Any = field(default="standard", metadata=option("suite name or TOML/YAML file"))
    n: int | None = field(
        default=None, metadata=option("number of points (default: the whole split)", short="-n")
    )
    seed: int = field(default=0, metadata=option("seed of the subset and of every random start"))
    batch_size: int | None = field(
        default=None,
        metadata=option(
            "points per model call for the attacks, the diagnostics and the certificates (default: "
            "automatic, as fits in memory; per-call-random attacks run a whole block per call)"
        ),
    )
    block_size: int = field(
        default=BLOCK_SIZE,
        metadata=option("points per block: AutoAttack and Square run per block; the sharding unit"),
    )
    device: str = field(default="cpu", metadata=option("cpu or cuda"))
    threads: int | None = threads_field()
    independent: bool = field(default=False, metadata=option("run every attack on every point (no cascade)"))
    trust_code: bool = field(  # the same flag as the model's: one opt-in for every file that names code
        default=False, metadata=option("run code (package.module:function) that a card or suite file names")
    )

    def __post_init__(self) -> None:
        from robench.core.seeding import check_seed  # torch-free start-up: imported when built

        check_seed(self.seed)
        if self.batch_size is not None and self.batch_size < 1:
            raise RobenchError(f"--batch-size must be positive, got {self.batch_size}")
        if self.block_size < 1:
            raise RobenchError(f"the block size must be positive, got {self.block_size}")
        if not (self.device == "cpu" or self.device.startswith("cuda")):
            raise RobenchError(f"unknown device '{self.device}' (choose cpu or cuda)")

    @property
    def mode(self) -> str:
        return "independent" if self.independent else "cascade"
