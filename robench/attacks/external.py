"""Helpers for wrapping pyautoattack's attacks: quiet logging, a batch seed, an isolated torch RNG."""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import warnings
from collections.abc import Iterator

import torch

AA_LOGGER = "auto-attack"
log = logging.getLogger("robench.attacks")


def batch_seed(seeds: torch.Tensor) -> int:
    """A 31-bit seed that is a pure function of the points' seeds (and their order in the batch).

    pyautoattack draws its randomness per call, so its result for a point depends on the whole batch:
    the same points in the same batches reproduce exactly, other batch splits are equally valid runs.
    """
    digest = hashlib.sha256(seeds.detach().cpu().to(torch.int64).numpy().tobytes()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


@contextlib.contextmanager
def quiet_external(device: torch.device) -> Iterator[io.StringIO]:
    """Capture prints, warnings and the 'auto-attack' logger into one text buffer; isolate the torch RNG.

    pyautoattack reseeds torch's global generator; ``fork_rng`` restores the caller's state afterwards.
    The captured text is also re-emitted at DEBUG level on the ``robench.attacks`` logger.
    """
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    aa_logger = logging.getLogger(AA_LOGGER)
    saved = (aa_logger.level, aa_logger.propagate)
    aa_logger.addHandler(handler)
    aa_logger.setLevel(logging.DEBUG)
    aa_logger.propagate = False
    devices = [device] if device.type == "cuda" else []
    try:
        with (
            torch.random.fork_rng(devices=devices),
            contextlib.redirect_stdout(buffer),
            warnings.catch_warnings(record=True) as caught,
        ):
            warnings.simplefilter("always")
            yield buffer
        for warning in caught:
            buffer.write(f"WARNING {warning.message}\n")
    finally:
        aa_logger.removeHandler(handler)
        aa_logger.setLevel(saved[0])
        aa_logger.propagate = saved[1]
        if buffer.getvalue():
            log.debug("%s", buffer.getvalue().rstrip())
