"""Wrapping pyautoattack's attacks: quiet logging, a batch seed, an isolated torch RNG, a base class."""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from collections.abc import Iterator

import torch
from torch import nn

from robench.attacks.base import Attack
from robench.core.seeding import batch_seed
from robench.threat import ThreatModel

AA_LOGGER = "auto-attack"
AA_NORMS = {"linf": "Linf", "l2": "L2"}
log = logging.getLogger("robench.attacks")


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


class PyAutoAttackAttack(Attack):
    """An attack that pyautoattack runs on exactly the points given, as one batch seeded with
    ``batch_seed(seeds)``; its log is kept as text in ``last_log``. Subclasses implement :meth:`run`."""

    batch_random = True

    def __init__(self, threat: ThreatModel, spec: str | None = None) -> None:
        super().__init__(threat, spec)
        self.last_log = ""

    @property
    def aa_norm(self) -> str:
        """The threat's norm as pyautoattack names it."""
        return AA_NORMS[self.threat.norm]

    def perturb(
        self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, seeds: torch.Tensor
    ) -> torch.Tensor:
        if x.shape[0] == 0:
            return x.clone()
        with quiet_external(x.device) as log_text:
            x_adv = self.run(model, x.detach(), y.detach(), batch_seed(seeds))
        self.last_log = log_text.getvalue()
        return x_adv.detach()

    def run(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, seed: int) -> torch.Tensor:
        raise NotImplementedError
