"""A run killed mid-epoch resumes to exactly the weights of an uninterrupted run."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from robench.errors import RobenchError
from robench.training import TrainConfig, train

# fgsm-rs draws random starts and (forced on here) crop/flip augmentation from the run's generator, adam
# has per-parameter state, the cyclic rate depends on the global step: all must come back exactly.
# 512 training points in batches of 64: 8 steps per epoch.
CONFIG = TrainConfig(
    recipe="fgsm-rs", epochs=2, batch_size=64, train_size=512, augment=True, optimizer="adam", lr=3e-3,
    schedule="cyclic", monitor_n=48, monitor_pgd_steps=2, seed=3, arch_kwargs={"width": 16},
)  # fmt: skip


class Killed(Exception):
    pass


def kill_at(epoch: int, step: int):
    def callback(event):
        if event.kind == "step" and (event.epoch, event.step) == (epoch, step):
            raise Killed

    return callback


def weights(path):
    return load_file(str(path))


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("full")
    return train(CONFIG, out, "run")


@pytest.mark.parametrize("save_every", [0, 4])
def test_killed_mid_epoch_resumes_to_identical_weights(tmp_path, uninterrupted, save_every):
    config = TrainConfig.from_dict({**CONFIG.to_dict(), "save_every": save_every})
    with pytest.raises(Killed):
        train(config, tmp_path, "run", callbacks=[kill_at(epoch=2, step=6)])
    assert (tmp_path / "run.resume.json").exists() and not (tmp_path / "run.toml").exists()
    saved = json.loads((tmp_path / "run.resume.json").read_text())["progress"]
    # killed at global step 14; with save_every=4 the last save was at step 12 = epoch 2, step 4
    assert (saved["epoch"], saved["step"]) == ((1, 4) if save_every else (1, 0))

    with pytest.raises(RobenchError, match="--resume"):
        train(config, tmp_path, "run")
    resumed = train(config, tmp_path, "run", resume=True)

    full, again = weights(uninterrupted.paths.final), weights(resumed.paths.final)
    assert full.keys() == again.keys()
    assert all(torch.equal(full[k], again[k]) for k in full)
    assert torch.equal(weights(uninterrupted.paths.best)["0.weight"], weights(resumed.paths.best)["0.weight"])
    strip = [{k: v for k, v in row.items() if k != "seconds"} for row in resumed.rows]
    assert strip == [{k: v for k, v in row.items() if k != "seconds"} for row in uninterrupted.rows]
    assert not (tmp_path / "run.resume.json").exists()  # cleared once the run is complete


def test_resume_refuses_other_settings(tmp_path):
    changed = TrainConfig.from_dict({**CONFIG.to_dict(), "save_every": 1, "lr": 0.1})
    with pytest.raises(Killed):
        train(changed, tmp_path, "run", callbacks=[kill_at(epoch=1, step=2)])
    with pytest.raises(RobenchError, match="different settings \\(lr\\)"):
        train(CONFIG, tmp_path, "run", resume=True)
    with pytest.raises(RobenchError, match="no interrupted run 'missing'"):
        train(CONFIG, tmp_path, "missing", resume=True)


def test_resume_refuses_another_number_of_processes(tmp_path):
    config = TrainConfig.from_dict({**CONFIG.to_dict(), "save_every": 1})
    with pytest.raises(Killed):
        train(config, tmp_path, "run", callbacks=[kill_at(epoch=1, step=2)])
    path = tmp_path / "run.resume.json"
    info = json.loads(path.read_text())
    assert info["world_size"] == 1
    path.write_text(json.dumps({**info, "world_size": 2}))  # as if interrupted under torchrun with 2 ranks
    with pytest.raises(RobenchError, match="trained on 2 process\\(es\\) and this one has 1"):
        train(config, tmp_path, "run", resume=True)
