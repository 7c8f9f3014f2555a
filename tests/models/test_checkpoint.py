"""Checkpoints are untrusted: each bad file is one CheckpointError line, and no file ever runs code."""

from __future__ import annotations

import builtins
import pickle
from collections import OrderedDict

import pytest
import torch

from robench.errors import CheckpointError
from robench.models import create_model
from robench.models.checkpoint import fit_state_dict, read_state_dict, save_checkpoint, sha256_file


def _net(classes: int = 10):
    torch.manual_seed(0)
    return create_model("small_cnn", num_classes=classes, in_channels=1, width=4)


def _one_line(info) -> str:
    message = str(info.value)
    assert "\n" not in message
    return message


def _assert_same_weights(state, net):
    expected = net.state_dict()
    assert set(state) == set(expected)
    assert all(torch.equal(state[k], expected[k]) for k in expected)


def test_save_checkpoint_round_trips_and_returns_sha256(tmp_path):
    net = _net()
    sha = save_checkpoint(net, tmp_path / "net.safetensors")
    assert sha == sha256_file(tmp_path / "net.safetensors") and len(sha) == 64
    _assert_same_weights(read_state_dict(tmp_path / "net.safetensors"), net)
    assert not list(tmp_path.glob("*.partial"))


@pytest.mark.parametrize(
    "wrap",
    [
        lambda sd: sd,
        lambda sd: OrderedDict((f"module.{k}", v) for k, v in sd.items()),
        lambda sd: {"state_dict": sd, "epoch": 3, "best_acc": 0.5},
        lambda sd: {"model": {f"module.{k}": v for k, v in sd.items()}, "optimizer": {"lr": 0.1}},
    ],
    ids=["plain", "dataparallel", "nested-state_dict", "nested-model-dataparallel"],
)
@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_torch_save_variants_load(tmp_path, wrap, legacy):
    net = _net()
    path = tmp_path / "net.pt"
    torch.save(wrap(net.state_dict()), path, _use_new_zipfile_serialization=not legacy)
    fresh = create_model("small_cnn", num_classes=10, in_channels=1, width=4)
    fit_state_dict(fresh, read_state_dict(path), arch="small_cnn", num_classes=10, source=str(path))
    _assert_same_weights(fresh.state_dict(), net)


class _Payload:
    """Unpickling this object would create the marker file: proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (builtins.open, (self.marker, "w"))


def test_malicious_pickle_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    raw, zipped = tmp_path / "raw.pt", tmp_path / "zipped.pt"
    raw.write_bytes(pickle.dumps({"weight": _Payload(marker)}, protocol=2))
    torch.save({"state_dict": {"weight": _Payload(marker)}}, zipped)
    for path in (raw, zipped):
        with pytest.raises(CheckpointError, match="pickled Python objects, not just tensors") as info:
            read_state_dict(path)
        _one_line(info)
        assert not marker.exists()
    with open(raw, "rb") as handle:  # the payload is live: plain unpickling does run it
        pickle.load(handle)
    assert marker.exists()


def test_whole_model_pickle_is_refused(tmp_path):
    torch.save(_net(), tmp_path / "model.pt")
    with pytest.raises(CheckpointError, match="save model.state_dict\\(\\) or a safetensors file"):
        read_state_dict(tmp_path / "model.pt")


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist") as info:
        read_state_dict(tmp_path / "nope.safetensors")
    _one_line(info)


@pytest.mark.parametrize("name", ["net.safetensors", "net.pt"])
def test_truncated_files(tmp_path, name):
    path = tmp_path / name
    if name.endswith(".pt"):
        torch.save(_net().state_dict(), path)
    else:
        save_checkpoint(_net(), path)
    data = path.read_bytes()
    for cut in (len(data) // 2, 20):
        path.write_bytes(data[:cut])
        with pytest.raises(CheckpointError, match="truncated or corrupt") as info:
            read_state_dict(path)
        _one_line(info)


def test_empty_and_garbage_files(tmp_path):
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(CheckpointError, match="is empty"):
        read_state_dict(tmp_path / "empty.pt")
    (tmp_path / "junk.bin").write_bytes(b"\x00\x01garbage" * 10)
    with pytest.raises(CheckpointError, match="neither a safetensors file nor a torch.save checkpoint"):
        read_state_dict(tmp_path / "junk.bin")


@pytest.mark.parametrize(
    "page", [b"<!DOCTYPE html>\n<html><head><title>Sign in</title>", b"\n  <html lang='en'><body>404</body>"]
)
def test_html_page_saved_as_checkpoint(tmp_path, page):
    path = tmp_path / "weights.pt"
    path.write_bytes(page + b" " * 500)
    with pytest.raises(CheckpointError, match="this looks like an HTML page") as info:
        read_state_dict(path)
    _one_line(info)


def test_git_lfs_pointer(tmp_path):
    path = tmp_path / "net.safetensors"
    path.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n")
    with pytest.raises(CheckpointError, match="Git LFS pointer"):
        read_state_dict(path)


def test_non_tensor_entries_are_refused(tmp_path):
    torch.save({"conv.weight": torch.zeros(2), "note": "hello"}, tmp_path / "odd.pt")
    with pytest.raises(CheckpointError, match="entries note are not tensors"):
        read_state_dict(tmp_path / "odd.pt")


def test_wrong_architecture_names_missing_unexpected_and_mismatched_keys(tmp_path):
    path = tmp_path / "resnet.safetensors"
    save_checkpoint(create_model("resnet18", num_classes=10, in_channels=1), path)
    net = create_model("preact_resnet18_rice", num_classes=10, in_channels=1)
    with pytest.raises(CheckpointError) as info:
        fit_state_dict(
            net, read_state_dict(path), arch="preact_resnet18_rice", num_classes=10, source=str(path)
        )
    message = _one_line(info)
    assert "does not fit architecture 'preact_resnet18_rice'" in message
    assert "missing keys (bn.weight" in message  # preact's final BN is absent from resnet18
    assert "unexpected keys (bn1." in message  # resnet18's stem BN is unknown to preact
    assert "shape mismatches" in message and "layer1.0.bn1.weight 64 vs 64" not in message
    assert message.endswith("the keys look like resnet18 (He et al. 2016: post-activation BasicBlocks, 3x3 "
                            "stem, no max-pool; keys shortcut.0/1, linear): use --arch resnet18")  # fmt: skip


def test_shape_mismatch_names_both_shapes(tmp_path):
    path = tmp_path / "wide.safetensors"
    save_checkpoint(create_model("small_cnn", num_classes=10, in_channels=1, width=8), path)
    with pytest.raises(CheckpointError, match=r"0.weight 8x1x3x3 vs 4x1x3x3"):
        fit_state_dict(_net(), read_state_dict(path), arch="small_cnn", num_classes=10, source="wide")


def test_wrong_number_of_classes(tmp_path):
    path = tmp_path / "c100.safetensors"
    save_checkpoint(_net(classes=100), path)
    with pytest.raises(CheckpointError, match="has 100 output classes but the model is built for 10") as info:
        fit_state_dict(
            _net(classes=10), read_state_dict(path), arch="small_cnn", num_classes=10, source="c100"
        )
    _one_line(info)


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_damaged_torch_files_never_escape_as_other_errors(tmp_path, legacy):
    """Random byte damage either still loads (the sha256 check is for that) or is one CheckpointError."""
    import random

    path = tmp_path / "net.pt"
    torch.save(_net().state_dict(), path, _use_new_zipfile_serialization=not legacy)
    original, rng, refused = path.read_bytes(), random.Random(0), 0
    for _ in range(60):
        damaged = bytearray(original[: rng.randrange(1, len(original))] if rng.random() < 0.3 else original)
        for _ in range(rng.randint(1, 8)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        path.write_bytes(bytes(damaged))
        try:
            read_state_dict(path)
        except CheckpointError as exc:
            assert "\n" not in str(exc)
            refused += 1
    assert refused > 10
