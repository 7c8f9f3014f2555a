"""Functions run inside the spawned ranks of the tests (importable by the child processes)."""

from __future__ import annotations

import torch

from robench.distributed import barrier, current
from robench.threat import ThreatModel

THREAT = ThreatModel("linf", 0.1)
SUITE = ["fgsm-rs", "pgd-10"]


def digits_cnn(state_dict: dict[str, torch.Tensor] | None = None) -> torch.nn.Module:
    model = tiny_cnn()
    if state_dict is not None:
        model.load_state_dict(state_dict)
    return model.eval()


def distributed_digits(model, n: int, seed: int, state):
    """evaluate_distributed of ``model`` on digits with the tests' suite (None on ranks other than 0)."""
    from robench.data import load_dataset
    from robench.engine.settings import RunSettings
    from robench.pipeline.distributed import evaluate_distributed
    from robench.pipeline.request import request_from_options
    from robench.pipeline.target import resolve_target

    request = request_from_options(model, dataset=load_dataset("digits"), threat="linf", eps=THREAT.eps)
    run = RunSettings(suite=SUITE, n=n, seed=seed, batch_size=16)
    return evaluate_distributed(resolve_target(request), run, diagnostics=False, state=state)


def evaluate_digits(state_dict, n: int, seed: int = 0, state=None, fail_rank: int | None = None):
    """evaluate_distributed on digits; rank ``fail_rank`` gets a model that raises mid-evaluation."""
    model = digits_cnn(state_dict)
    if current().rank == fail_rank:
        model.register_forward_hook(_explode_once_progress_saved(state, current().rank))
    result = distributed_digits(model, n, seed, state)
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


def tiny_cnn(num_classes: int = 10, in_channels: int = 1) -> torch.nn.Module:
    """The shared tiny digits CNN's architecture (small_cnn, width 16) as a user architecture factory
    (``--arch dist_workers:tiny_cnn``)."""
    from robench.models.archs.small_cnn import small_cnn

    return small_cnn(num_classes=num_classes, in_channels=in_channels, width=16)


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
    """tiny_cnn whose forward fails on rank 1 (a user architecture that breaks on one node)."""
    import os

    model = tiny_cnn(num_classes, in_channels)
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


def fail_after_gathering_then_rerun(state_dict, n: int, seed: int, state: str):
    """Rank 0 fails merging the gathered shards; the rerun then resumes from the kept shard states.

    Returns (rank 0's error, files after the failure, samples forwarded by this rank in the rerun,
    the rerun's record on rank 0, files after the rerun)."""
    from contextlib import nullcontext
    from pathlib import Path
    from unittest import mock

    from robench.pipeline import distributed as engine

    def files():
        return sorted(p.name for p in Path(state).parent.iterdir())

    error = None
    fail = mock.patch.object(
        engine, "merge_shards", side_effect=RuntimeError("simulated failure after gathering")
    )
    with fail if current().rank == 0 else nullcontext():
        try:
            evaluate_digits(state_dict, n, seed, state)
        except RuntimeError as exc:
            error = str(exc)
    barrier()
    kept = files()
    barrier()
    forwarded = [0]
    model = digits_cnn(state_dict)
    model.register_forward_hook(
        lambda module, inputs, output: forwarded.__setitem__(0, forwarded[0] + len(inputs[0]))
    )
    result = distributed_digits(model, n, seed, state)
    barrier()
    return error, kept, forwarded[0], None if result is None else result.to_dict(), files()
