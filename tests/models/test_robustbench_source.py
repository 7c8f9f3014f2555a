"""The robustbench: model source without building big models: importing it in a current environment,
naming entries, where their files live, what a load refuses, downloads only when asked, the record."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch
from robustbench_files import needs_robustbench, torch_home, write_entry  # noqa: F401

from robench.errors import CheckpointError, RobenchError

SMALL = "robustbench:cifar10/Linf/Ding2020MMA"  # the zoo's smallest network (WideResNet-28-4, 5.8 M)


def test_robench_never_imports_robustbench_unasked():
    code = (
        "import sys, robench, robench.pipeline.evaluate, robench.models.spec\n"
        "from robench.cli import main\n"
        "assert main(['models', '--json']) == 0\n"
        "assert main(['evaluate', '--help']) == 0\n"
        "robench.load_model\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('robustbench', 'autoattack')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


@needs_robustbench
def test_robustbench_imports_with_stand_ins_that_do_not_stay():
    import importlib.util

    from robench.models.robustbench.imports import resource_filename, robustbench

    zoo = robustbench()
    assert zoo.version == "1.1.1" and "cifar10" in {d.value for d in zoo.model_dicts}
    for name in ("pkg_resources", "autoattack"):  # a stand-in is gone once robustbench is imported
        if importlib.util.find_spec(name) is None:
            assert name not in sys.modules
    # the one pkg_resources function robustbench calls, as its loaders module calls it
    ids = Path(resource_filename("robustbench.loaders", "helper_files/imagenet_test_image_ids.txt"))
    assert ids.is_file()
    theirs = [line.strip() for line in ids.read_text().splitlines() if line.strip()]
    from robench.data.imagenet import package_lines

    assert package_lines("imagenet_robustbench_5000.txt") == theirs and len(theirs) == 5000


def test_missing_robustbench_is_one_sentence(monkeypatch):
    import importlib.util

    from robench.models.robustbench import imports

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "robustbench" else real(name, *a)
    )
    imports.robustbench.cache_clear()
    try:
        with pytest.raises(RobenchError, match=r"pip install 'robench\[robustbench\]'"):
            imports.robustbench()
    finally:
        imports.robustbench.cache_clear()


@needs_robustbench
def test_entries_by_name():
    from robench.models.robustbench.entries import find_entry, list_entries, zoo_names

    assert len(zoo_names(corruptions=True)) == 206 and len(list_entries()) == 76 + 21 + 38 + 30
    assert [len(list_entries("cifar10", "l2")), len(list_entries("IMAGENET"))] == [21, 30]
    entry = find_entry("robustbench:CIFAR10/linf/Carmon2019Unlabeled")  # dataset and threat in any case
    assert (entry.id, entry.kind, entry.norm, entry.num_classes) == (
        "robustbench:cifar10/Linf/Carmon2019Unlabeled",
        "file",
        "linf",
        10,
    )
    assert entry.architecture == "WideResNet(depth=28, widen_factor=10, sub_block1=True)"
    assert entry.weight_files("zoo") == [Path("zoo/cifar10/Linf/Carmon2019Unlabeled.pt")]
    assert find_entry("robustbench:cifar10/Linf/Ding2020MMA").architecture == "Ding2020MMANet(WideResNet)"
    ensemble = find_entry("robustbench:cifar10/Linf/Chen2020Adversarial")
    assert ensemble.kind == "ensemble"
    assert [p.name for p in ensemble.weight_files()] == [f"Chen2020Adversarial.pt_m{i}.pt" for i in range(3)]
    assert ensemble.weight_files()[0].parent == Path("models/cifar10/Linf")  # RobustBench's ./models


@needs_robustbench
def test_hub_entries_and_preprocessing(torch_home):  # noqa: F811
    from robench.models.robustbench.entries import find_entry

    xcit = find_entry("robustbench:imagenet/Linf/Debenedetti2022Light_XCiT-S12")
    assert xcit.kind == "timm" and xcit.preprocessing == "BicubicRes224Crop224"
    assert xcit.weight_files() == [
        torch_home / "hub/checkpoints/debenedetti2022light-xcit-s-imagenet-linf.pth.tar"
    ]
    standard = find_entry("robustbench:imagenet/Linf/Standard_R50")
    assert standard.kind == "torchvision"
    assert standard.weight_files() == [torch_home / "hub/checkpoints/resnet50-0676ba61.pth"]
    names = {
        n: find_entry(f"robustbench:imagenet/Linf/{n}").preprocessing
        for n in ("Wong2020Fast", "Salman2020Do_R18", "Mo2022When_ViT-B", "Liu2023Comprehensive_Swin-B")
    }
    assert names == {
        "Wong2020Fast": "Crop288",
        "Salman2020Do_R18": "Res256Crop224",
        "Mo2022When_ViT-B": "Res224",
        "Liu2023Comprehensive_Swin-B": "BicubicRes256Crop224",
    }
    assert find_entry(SMALL).preprocessing is None


@needs_robustbench
@pytest.mark.parametrize(
    "name, message",
    [
        ("robustbench:cifar10/corruptions/Standard", "not common corruptions"),
        ("robustbench:cifar10/Linf/Carmon2019Unlabelled", "did you mean Carmon2019Unlabeled"),
        ("robustbench:svhn/Linf/Standard", "no dataset 'svhn'"),
        ("robustbench:cifar10/Linf", "robustbench:<dataset>/<threat>/<name>"),
        ("robustbench:cifar10/Linf/../../etc/passwd", "robustbench:<dataset>/<threat>/<name>"),
        ("robustbench:cifar100/L2/Standard", "no cifar100 threat model 'L2'"),
    ],
)
def test_names_refused(name, message):
    from robench.models.robustbench.entries import find_entry

    with pytest.raises(RobenchError, match=message.replace("(", r"\(")):
        find_entry(name)


@needs_robustbench
def test_options_a_zoo_entry_fixes_are_refused():
    import robench
    from robench.models.spec import ModelSpec

    with pytest.raises(RobenchError, match="brings its own architecture.*drop --arch, --mean"):
        ModelSpec(model=SMALL, arch="resnet18", mean=(0.5,)).find_card()
    with pytest.raises(RobenchError, match="drop num_classes"):
        robench.load_model(SMALL, num_classes=10)
    with pytest.raises(RobenchError, match="are for robustbench: models"):
        ModelSpec(model="digits/linf/pgd", model_dir="zoo").find_card()


@needs_robustbench
def test_missing_files_name_the_path_and_download(tmp_path, torch_home):  # noqa: F811
    from robench.models.robustbench.load import load_zoo_model

    with pytest.raises(CheckpointError) as missing:
        load_zoo_model(SMALL, model_dir=tmp_path)
    assert str(tmp_path / "cifar10/Linf/Ding2020MMA.pt") in str(missing.value)
    assert "--download" in str(missing.value) and "\n" not in str(missing.value)
    with pytest.raises(CheckpointError, match="hub/checkpoints/debenedetti2022light-xcit-s-cifar10-linf"):
        load_zoo_model("robustbench:cifar10/Linf/Debenedetti2022Light_XCiT-S12", model_dir=tmp_path)


@needs_robustbench
def test_download_only_when_asked(tmp_path, monkeypatch):
    from robench.models.robustbench.entries import find_entry
    from robench.models.robustbench.imports import robustbench
    from robench.models.robustbench.load import load_zoo_model

    source = write_entry(find_entry(SMALL), tmp_path / "source")[0]
    calls = []

    def fake_download(gdrive_id, path):  # RobustBench's own function, replaced: no network here
        calls.append((gdrive_id, Path(path)))
        Path(path).write_bytes(source.read_bytes())

    monkeypatch.setattr(robustbench().utils, "download_gdrive_new", fake_download)
    with pytest.raises(CheckpointError, match="--download"):
        load_zoo_model(SMALL, model_dir=tmp_path / "zoo")
    assert calls == []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loaded = load_zoo_model(SMALL, model_dir=tmp_path / "zoo", download=True)
    target = tmp_path / "zoo/cifar10/Linf/Ding2020MMA.pt"
    assert calls == [(find_entry(SMALL).gdrive_ids[0], target)]
    assert loaded.sha256 == hashlib.sha256(target.read_bytes()).hexdigest()

    def offline(gdrive_id, path):
        raise ConnectionError("Name or service not known")

    monkeypatch.setattr(robustbench().utils, "download_gdrive_new", offline)
    with pytest.raises(RobenchError, match="downloading .* failed \\(Name or service not known\\)"):
        load_zoo_model(SMALL, model_dir=tmp_path / "offline", download=True)


@needs_robustbench
def test_the_record_keeps_entry_sha256_and_version(tmp_path):
    import robench

    path = write_entry(
        __import__("robench.models.robustbench.entries").models.robustbench.entries.find_entry(SMALL),
        tmp_path,
    )[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loaded = robench.load_model(SMALL, model_dir=tmp_path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert loaded.name == SMALL and loaded.sha256 == digest
    assert loaded.provenance()["robustbench"] == {
        "entry": SMALL,
        "version": "1.1.1",
        "kind": "file",
        "files": {"Ding2020MMA.pt": digest},
        "preprocessing": None,
    }
    assert not loaded.module.training and not any(p.requires_grad for p in loaded.module.parameters())
    x = torch.rand(2, 3, 32, 32)
    assert loaded.module(x).shape == (2, 10)
    json.dumps(loaded.provenance())  # JSON-ready


@needs_robustbench
@pytest.mark.parametrize("kind", ["pickled module", "html", "tensor", "other network"])
def test_bad_files_are_refused(tmp_path, kind):
    from robench.models.robustbench.entries import find_entry
    from robench.models.robustbench.load import load_zoo_model

    path = tmp_path / "cifar10/Linf/Ding2020MMA.pt"
    path.parent.mkdir(parents=True)
    if kind == "pickled module":
        torch.save(torch.nn.Linear(2, 2), path)
        message = "holds pickled Python objects"
    elif kind == "html":
        path.write_text("<!DOCTYPE html><html>Google Drive - quota exceeded</html>")
        message = "looks like an HTML page"
    elif kind == "tensor":
        torch.save(torch.zeros(3), path)
        message = "holds a Tensor, not a state dict"
    else:
        torch.save(
            {"state_dict": find_entry("robustbench:cifar10/Linf/Wong2020Fast").spec["model"]().state_dict()},
            path,
        )
        message = "does not fit RobustBench's robustbench:cifar10/Linf/Ding2020MMA .*missing keys"
    with pytest.raises(CheckpointError, match=message) as refused:
        load_zoo_model(SMALL, model_dir=tmp_path)
    assert "\n" not in str(refused.value)


def test_weights_only_loads_is_forced_and_restored(tmp_path, monkeypatch):
    import os
    import pickle

    from robench.models.robustbench.load import FORCE, weights_only_loads

    monkeypatch.delenv(FORCE, raising=False)
    path = tmp_path / "module.pt"
    torch.save(torch.nn.Linear(2, 2), path)
    with weights_only_loads(), pytest.raises(pickle.UnpicklingError):
        torch.load(path, weights_only=False)  # what a zoo constructor could ask for
    assert FORCE not in os.environ
    assert isinstance(torch.load(path, weights_only=False), torch.nn.Linear)


def test_combined_sha256():
    from robench.models.robustbench.load import combined_sha256

    assert combined_sha256({"a.pt": "1" * 64}) == "1" * 64
    lines = f"a.pt_m0.pt {'1' * 64}\na.pt_m1.pt {'2' * 64}\n"
    assert (
        combined_sha256({"a.pt_m0.pt": "1" * 64, "a.pt_m1.pt": "2" * 64})
        == hashlib.sha256(lines.encode()).hexdigest()
    )


@needs_robustbench
@pytest.mark.parametrize(
    "entry",
    [
        "Salman2020Do_R18",
        "Liu2023Comprehensive_Swin-B",
        "Mo2022When_ViT-B",
        "Wong2020Fast",
        "Debenedetti2022Light_XCiT-S12",
    ],
)
def test_imagenet_preprocessing_is_robustbenchs(entry, tmp_path):
    """robench decodes an image exactly as RobustBench's preprocessing for the entry does."""
    from PIL import Image

    from robench.data.imagenet import imagenet_preprocess
    from robench.models.robustbench.entries import find_entry
    from robench.models.robustbench.imports import robustbench

    robustbench()
    from robustbench.data import get_preprocessing
    from robustbench.model_zoo.enums import BenchmarkDataset, ThreatModel

    pixels = torch.randint(
        0, 256, (310, 350, 3), generator=torch.Generator().manual_seed(0), dtype=torch.uint8
    )
    path = tmp_path / "image.png"
    Image.fromarray(pixels.numpy()).save(path)
    name = find_entry(f"robustbench:imagenet/Linf/{entry}").preprocessing
    theirs = get_preprocessing(BenchmarkDataset.imagenet, ThreatModel.Linf, entry, None)
    with Image.open(path) as image:
        expected = theirs(image.convert("RGB"))
    assert torch.equal(imagenet_preprocess(None, name)(str(path)), expected)


@needs_robustbench
def test_a_failing_constructor_is_one_sentence(tmp_path, monkeypatch):
    """Some zoo constructors need CUDA (Bai2023Improving_edm): their error names the entry."""
    from robench.models.robustbench.entries import find_entry
    from robench.models.robustbench.load import load_zoo_model

    write_entry(find_entry(SMALL), tmp_path)

    def needs_cuda():
        raise RuntimeError("Found no NVIDIA driver on your system.")

    monkeypatch.setitem(find_entry(SMALL).spec, "model", needs_cuda)
    with pytest.raises(
        RobenchError, match="constructor of robustbench:cifar10/Linf/Ding2020MMA raised RuntimeError"
    ):
        load_zoo_model(SMALL, model_dir=tmp_path)
