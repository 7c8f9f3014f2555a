"""Functions run inside the spawned ranks of the tests (importable by the child processes)."""

from __future__ import annotations

import torch

from robench.distributed import barrier, current
from robench.threat import ThreatModel

THREAT = ThreatModel("linf", 0.1)
SUITE = ["fgsm-rs", "pgd-10"]


def digits_cnn(state_dict: dict[str, torch.Tensor] | None = None) -> torch.nn.Module:
    model = narrow_cnn()
    if state_dict is not None:
        model.load_state_dict(state_dict)
    return model.eval()


def train_digits_cnn(epochs: int = 3, seed: int = 0) -> dict[str, torch.Tensor]:
    """A small CNN with ~95 % clean accuracy on digits, trained in a few seconds."""
    from robench.data import load_dataset

    torch.manual_seed(seed)
    data = load_dataset("digits", split="train")
    model = digits_cnn().train()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for batch in torch.randperm(len(data), generator=generator).split(64):
            loss = torch.nn.functional.cross_entropy(model(data.images[batch]), data.labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def evaluate_digits(state_dict, n: int, seed: int = 0, state=None, fail_rank: int | None = None):
    """evaluate_distributed on digits; rank ``fail_rank`` gets a model that raises mid-evaluation."""
    from robench.data import load_dataset
    from robench.distributed import evaluate_distributed

    model = digits_cnn(state_dict)
    if current().rank == fail_rank:
        model.register_forward_hook(_explode_once_progress_saved(state, current().rank))
    result = evaluate_distributed(
        model,
        load_dataset("digits"),
        THREAT,
        suite=SUITE,
        n=n,
        seed=seed,
        batch_size=16,
        diagnostics=False,
        state=state,
    )
    return None if result is None else result.to_dict()


def _explode_once_progress_saved(state: str, rank: int):
    """Crash on the first forward after this rank's shard has saved some progress."""
    from pathlib import Path

    from robench.distributed.sharding import shard_state_path

    saved = shard_state_path(state, rank, current().world_size)

    def hook(module, inputs, output):
        if Path(saved).exists():
            raise RuntimeError("simulated crash on this rank")

    return hook


def narrow_cnn(num_classes: int = 10, in_channels: int = 1) -> torch.nn.Module:
    """The test CNN as a user architecture factory (``--arch dist_workers:narrow_cnn``)."""
    from robench.models.archs.small_cnn import small_cnn

    return small_cnn(num_classes=num_classes, in_channels=in_channels, width=8)


class Interrupted(Exception):
    pass


def _interrupt_after_epoch(event) -> None:
    if event.kind == "epoch" and event.epoch == 1:
        raise Interrupted


def train_full_and_resumed(out: str):
    """An uninterrupted 2-epoch run, and one interrupted after epoch 1 then resumed: what each rank saw."""
    import hashlib
    from pathlib import Path

    from robench.training import TrainConfig, train

    config = TrainConfig(
        recipe="pgd", attack_steps=2, epochs=2, batch_size=64, lr=0.05, val_size=100, monitor_n=64,
        arch_kwargs={"width": 8},
    )  # fmt: skip
    full = train(config, Path(out) / "full", "m")
    try:
        train(config, Path(out) / "cut", "m", callbacks=[_interrupt_after_epoch])
    except Interrupted:
        barrier()  # as a relaunch would: every rank has stopped before the run resumes
    resumed = train(config, Path(out) / "cut", "m", resume=True)

    def digest(model):
        state = model.state_dict()
        return hashlib.sha256(b"".join(state[k].numpy().tobytes() for k in sorted(state))).hexdigest()

    return {
        "full": (digest(full.model), full.rows, full.summary),
        "resumed": (digest(resumed.model), resumed.rows, resumed.summary),
    }


def crashing_cnn(num_classes: int = 10, in_channels: int = 1) -> torch.nn.Module:
    """narrow_cnn whose forward fails on rank 1 (a user architecture that breaks on one node)."""
    import os

    model = narrow_cnn(num_classes, in_channels)
    if os.environ.get("RANK") == "1":
        model.register_forward_hook(_fail_forward)
    return model


def _fail_forward(module, inputs, output):
    raise RuntimeError("simulated crash on this rank")


def slow_then_silent_peer(limit: float):
    """Rank 1 first works 2.5 x limit seconds beating every half second (rank 0 must wait it out), then works
    without a heartbeat (rank 0 must give up after ``limit`` seconds).

    Returns (first gather, its seconds, the error of the second)."""
    import os
    import time

    from robench.distributed.collect import Heartbeat, run_and_gather

    os.environ["ROBENCH_DIST_TIMEOUT"] = str(limit)
    rank = current().rank

    def slow(heartbeat):
        for _ in range(int(5 * limit)):
            time.sleep(0.5 if rank == 1 else 0.0)
            heartbeat.beat()
        return rank

    started = time.monotonic()
    heartbeat = Heartbeat()
    first = run_and_gather(lambda: slow(heartbeat), "the evaluation", heartbeat)
    waited = time.monotonic() - started
    heartbeat = Heartbeat()
    try:
        run_and_gather(lambda: time.sleep(2 * limit + 1 if rank == 1 else 0.0), "the evaluation", heartbeat)
    except Exception as exc:
        return first, waited, (type(exc).__name__, str(exc))
    return first, waited, None
