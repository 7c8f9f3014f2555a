"""Every seed robench derives, in one place.

- ``point_seed(seed, index, stage)``: one int64 per evaluated point and stage (splitmix64 of the key),
  the source of every per-point random start; independent of batch size and sharding.
- ``point_noise(seeds, shape, salt)``: U[-1, 1] noise per point from its seed and a salt.
- ``salt(name)``: the salt of a named random draw (an attack spec, a diagnostic check), crc32 of the name.
- ``call_seed(*key)`` / ``seeded_rng(device, *key)``: a torch generator seed fixed by a key such as
  (seed, stage, block), and a fork of torch's global generators seeded with it, for models and attacks
  that draw from the global generator (randomised models, pyautoattack).
- ``batch_seed(seeds)``: one seed for a call on a whole batch, from its points' seeds.
- ``sample_generator(seed, salt)``: the generator that picks a bounded sample of points.
- ``rank_step_seed(seed, step, rank)``: per-rank, per-step training noise under torchrun.
- ``STAGE_BASE``: the first seed-stage position of each phase of an evaluation (the suite's attacks take
  0, 1, 2, ...; every later phase starts far beyond); no other module invents a stage number.
"""

from __future__ import annotations

import contextlib
import hashlib
import zlib
from collections.abc import Iterator

import torch

from robench.errors import RobenchError

MASK64 = (1 << 64) - 1
SEED_LIMIT = 2**63  # a seed is a non-negative int64 (what torch.manual_seed and the subset draw take)
_NOISE_MULTIPLIER = 1_000_003
_SAMPLE_MULTIPLIER = 7919

#: first seed-stage position of each phase: a phase's k-th attack or draw uses ``STAGE_BASE[phase] + k``
STAGE_BASE: dict[str, int] = {
    "suite": 0,
    #: randomized smoothing's noise (robench.certify.smoothing): a point's seed at stage 0, told apart from
    #: the suite's first attack by the salts of its draws; kept so that its certificates stay as they were
    "smoothing": 0,
    "diagnostics": 1000,
    "escalation": 2000,
    "round": 3000,
    "focus": 4000,
    "adaptive": 5000,
}


def check_seed(seed: object) -> int:
    """A user's seed (``--seed``, ``seed=``): an integer from 0 to 2**63 - 1, else one RobenchError."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < SEED_LIMIT:
        raise RobenchError(f"the seed (--seed) must be an integer from 0 to 2**63 - 1, got {seed!r}")
    return seed


def _splitmix64(value: int) -> int:
    value = (value + 0x9E3779B97F4A7C15) & MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & MASK64
    return value ^ (value >> 31)


def point_seed(seed: int, index: int, stage: int) -> int:
    """A non-negative int64 from (seed, canonical index, stage position): batch and shard independent."""
    value = 0
    for part in (seed, index, stage):
        value = _splitmix64(value ^ (part & MASK64))
    return value >> 1


def point_seeds(seed: int, indices: list[int], stage: int) -> torch.Tensor:
    """``point_seed`` of each canonical index, as an int64 tensor."""
    return torch.tensor([point_seed(seed, int(i), stage) for i in indices], dtype=torch.int64)


def salt(name: str) -> int:
    """The salt of a named draw: crc32 of the lower-cased name (so two stages never share noise)."""
    return zlib.crc32(name.lower().encode())


def point_noise(seeds: torch.Tensor, shape: tuple[int, ...], salt: int = 0) -> torch.Tensor:
    """U[-1, 1] noise of ``shape`` per point, a pure function of (seed, salt): batch-size independent."""
    rows = []
    for seed in seeds.tolist():
        generator = torch.Generator().manual_seed((int(seed) * _NOISE_MULTIPLIER + salt) % (2**63 - 1))
        rows.append(torch.rand(shape, generator=generator) * 2 - 1)
    return torch.stack(rows) if rows else torch.empty((0, *shape))


def call_seed(*key: int | str) -> int:
    """A ``torch.manual_seed`` value (non-negative int64) fixed by ``key``, e.g. (seed, stage, block)."""
    digest = hashlib.sha256(repr(key).encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def batch_seed(seeds: torch.Tensor) -> int:
    """A 31-bit seed that is a pure function of the points' seeds (and their order in the batch).

    pyautoattack draws its randomness per call, so its result for a point depends on the whole batch:
    the same points in the same batches reproduce exactly, other batch splits are equally valid runs.
    """
    digest = hashlib.sha256(seeds.detach().cpu().to(torch.int64).numpy().tobytes()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


@contextlib.contextmanager
def seeded_rng(device: str | torch.device, *key: int | str) -> Iterator[None]:
    """Run the body in a fork of torch's global generators (CPU, and the evaluation's CUDA device when
    on CUDA) seeded from ``key``: a randomised model's draws depend on the key only; the caller's state
    is restored afterwards."""
    device = torch.device(device)
    index = None
    if device.type == "cuda":
        index = torch.cuda.current_device() if device.index is None else device.index
    with torch.random.fork_rng(devices=[] if index is None else [index]):
        value = call_seed(*key)
        torch.random.default_generator.manual_seed(value)
        if index is not None:
            torch.cuda.default_generators[index].manual_seed(value)
        yield


def sample_generator(seed: int, salt: int) -> torch.Generator:
    """The generator that draws a bounded sample of points for (evaluation seed, salt)."""
    return torch.Generator().manual_seed(int(seed) * _SAMPLE_MULTIPLIER + salt)


def rank_step_seed(seed: int, step: int, rank: int) -> int:
    """Training noise of one rank at one step under torchrun (ranks never share noise)."""
    return hash((int(seed), int(step), int(rank))) % (2**63 - 1)
