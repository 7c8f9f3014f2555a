"""Silent acceptance, refused: card values and the same flags, checkpoint weights of the wrong dtype, a
compressed checkpoint that would expand before its shape error."""

from __future__ import annotations

import io
import warnings
import zipfile

import pytest
import torch

from robench.core.limits import CLASSES

INF, NAN = float("inf"), float("nan")


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"eps": True}, ["'eps' must be a number", "True"]),
        ({"eps": INF, "threat": "l2"}, ["'eps': eps must be positive and finite"]),
        ({"eps": NAN}, ["'eps': eps must be positive and finite"]),
        ({"std": [INF]}, ["'std' values must be finite numbers"]),
        ({"std": [-1.0]}, ["'std' values must be positive"]),
        ({"mean": [NAN]}, ["'mean' values must be finite numbers"]),
        ({"mean": [True]}, ["'mean' values must be finite numbers"]),
        ({"num_classes": 1_000_000_000_000}, [f"'num_classes' must be an integer >= 2 and <= {CLASSES:,}"]),
        ({"arch_kwargs": {"width": -1}}, ["width must be a positive integer, got -1"]),
        ({"arch_kwargs": {"width": "x"}}, ["width must be an integer, got 'x'"]),
        ({"arch_kwargs": {"width": {"deep": [1]}}}, ["width must be an integer"]),
        ({"arch_kwargs": {"width": 1_000_000}}, ["parameters, more than the cap"]),
    ],
)
def test_card_values_are_checked(write_card, cli, check_error, changes, words):
    path = write_card(**changes)
    check_error(cli("evaluate", "--model", path, "-n", "4"), *words)


def _from_checkpoint(checkpoint, *extra: str) -> list[str]:
    argv = ["evaluate", "--checkpoint", str(checkpoint), "--arch", "small_cnn", "--dataset", "digits"]
    return [*argv, "--threat", "linf", "--eps", "0.1", "-n", "4", *extra]


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--arch-kwargs", '{"width": -1}'], ["architecture 'small_cnn': width must be a positive integer"]),
        (["--arch-kwargs", '{"width": "x"}'], ["width must be an integer, got 'x'"]),
        (["--arch-kwargs", '{"width": {"a": {"b": 1}}}'], ["width must be an integer"]),
        (
            ["--arch-kwargs", '{"width": ' + "[" * 5000 + "]" * 5000 + "}"],
            ["--arch-kwargs must be a JSON object"],
        ),
        (["--num-classes", "1000000000000"], [f"--num-classes must be at most {CLASSES:,}"]),
        (["--std", "-1", "--mean", "0"], ["the --mean/--std values: 'std' values must be positive"]),
        (["--std", "inf", "--mean", "0"], ["'std' values must be finite numbers"]),
        (["--std", "1", "--mean", "nan"], ["'mean' values must be finite numbers"]),
    ],
)
def test_the_same_values_from_the_command_line(tiny_digits_checkpoint, cli, check_error, extra, words):
    check_error(cli(*_from_checkpoint(tiny_digits_checkpoint, *extra)), *words)


@pytest.mark.parametrize("dtype", [torch.bool, torch.int8, torch.int64, torch.float8_e4m3fn])
def test_weights_that_are_not_floats_are_refused(tiny_digits_card, tmp_path, cli, check_error, dtype):
    from safetensors.torch import load_file, save_file

    state = load_file(str(tiny_digits_card.checkpoint_path))
    path = tmp_path / "cast.safetensors"
    save_file({k: v.to(dtype) for k, v in state.items()}, str(path))
    name = str(dtype).removeprefix("torch.")
    extra = ["--arch-kwargs", '{"width": 16}']
    check_error(
        cli(*_from_checkpoint(path, *extra)), f"holds {name} tensors where the network has float32 weights"
    )


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_float_weights_are_cast_and_the_note_says_so(tiny_digits_card, tmp_path, dtype):
    from safetensors.torch import load_file, save_file

    from robench.models.loading import LoadNote, load_model

    state = load_file(str(tiny_digits_card.checkpoint_path))
    path = tmp_path / "cast.safetensors"
    save_file({k: v.to(dtype) for k, v in state.items()}, str(path))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = load_model(
            checkpoint=path, arch="small_cnn", num_classes=10, in_channels=1, arch_kwargs={"width": 16}
        )
    name = str(dtype).removeprefix("torch.")
    assert [str(w.message) for w in caught if w.category is LoadNote] == [
        f"{path}: its {name} weights were cast to float32"
    ]
    weight = next(loaded.module.parameters())
    assert weight.dtype == torch.float32 and torch.equal(weight, state["0.weight"].to(dtype).float())


def test_a_deflated_checkpoint_is_refused_before_it_expands(tmp_path, cli, check_error):
    buffer = io.BytesIO()
    torch.save({"0.weight": torch.zeros(5_000_000)}, buffer)  # 20 MB of zeros deflate to ~20 KB
    plain = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    path = tmp_path / "bomb.pt"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as packed:
        for name in plain.namelist():
            packed.writestr(name, plain.read(name))
    assert path.stat().st_size < 200_000
    check_error(cli(*_from_checkpoint(path)), "expands", "times, to 20,000", "torch.save")
