"""imagenet: the shipped 1,000-wnid and RobustBench lists, tiny fake ImageNet folders in the layouts users
have (torchvision's ImageNet root, val/<wnid>, a root that is the val folder), global 1,000-class labels,
official-index canonical order, Res256Crop224, lazy decoding and each bad layout."""

from __future__ import annotations

import hashlib
import shutil
from importlib import resources

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import datasets as tv
from torchvision import transforms

from robench.data import default_eps, load_dataset
from robench.data.imagenet import imagenet_wnids, robustbench_subset
from robench.errors import DatasetNotFoundError, RobenchError

# (wnid, official number): three of RobustBench's 5,000 test images, and val_00000001 (a sea snake).
IN_TEST = [("n01440764", 31094), ("n02123045", 33420), ("n15075141", 41824)]
VAL_ONLY = [("n01751748", 1)]


def git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def package_bytes(name: str) -> bytes:
    return resources.files("robench.data").joinpath(name).read_bytes()


def write_val(val_dir, images=IN_TEST + VAL_ONLY, size=(300, 240)) -> None:
    rng = np.random.default_rng(0)
    for wnid, number in images:
        (val_dir / wnid).mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
        Image.fromarray(pixels).save(val_dir / wnid / f"ILSVRC2012_val_{number:08d}.JPEG", quality=90)


def write_meta(root, truth: dict[int, str]) -> None:
    """torchvision's meta.bin: (wnid_to_classes, the wnid of each of the 50,000 validation images)."""
    val_wnids = [truth.get(number, "n01440764") for number in range(1, 50_001)]
    torch.save(({w: (w,) for w in imagenet_wnids()}, val_wnids), root / "meta.bin")


@pytest.fixture
def imagenet_root(tmp_path):
    write_val(tmp_path / "val")
    return tmp_path


def test_wnid_list_is_the_standard_sorted_1000():
    wnids = imagenet_wnids()
    assert len(wnids) == 1000 and len(set(wnids)) == 1000 and list(wnids) == sorted(wnids)
    assert (wnids[0], wnids[-1]) == ("n01440764", "n15075141")
    assert wnids.index("n01751748") == 65 and wnids.index("n02123045") == 281  # sea snake, tabby cat
    assert (
        git_blob_sha1(package_bytes("imagenet_wnids.txt")) == "88aa58f966b3c4b7264a52bb71dcb25e856f6c1f"
    )  # timm's


def test_robustbench_list_is_their_5000_image_file():
    assert (
        git_blob_sha1(package_bytes("imagenet_robustbench_5000.txt"))
        == "cb6494cb1b2784e5d430b45d0ae4d61b29150e99"
    )
    subset = robustbench_subset()
    assert len(subset) == 5000 and len({index for index, _ in subset}) == 5000
    assert subset[0] == (15252, "n09468604") and subset[-1] == (25431, "n13133613")
    assert {wnid for _, wnid in subset} <= set(imagenet_wnids())
    assert all(0 <= index < 50_000 for index, _ in subset)


def test_val_wnid_layout_loads_with_global_labels_and_official_indices(imagenet_root):
    test = load_dataset("imagenet", "test", root=str(imagenet_root))
    assert test.indices.tolist() == [31093, 33419, 41823] and test.labels.tolist() == [0, 281, 999]
    assert test.missing == 4997 and test.num_classes == 1000 and len(test) == 3
    assert (test.name, test.spec, test.preprocessing) == ("imagenet", "imagenet", "Res256Crop224")
    assert test.is_lazy and test.input_shape == (3, 224, 224) and test.mean == (0.485, 0.456, 0.406)
    val = load_dataset("imagenet", "val", root=str(imagenet_root))
    assert val.indices.tolist() == [0, 31093, 33419, 41823] and val.labels.tolist() == [65, 0, 281, 999]
    assert val.missing == 49_996


def test_a_root_that_is_the_val_folder_or_holds_imagenet_gives_the_same_data(imagenet_root, tmp_path_factory):
    direct = load_dataset("imagenet", "val", root=str(imagenet_root / "val"))
    nested = tmp_path_factory.mktemp("data")
    shutil.copytree(imagenet_root, nested / "imagenet")
    under = load_dataset("imagenet", "val", root=str(nested))
    reference = load_dataset("imagenet", "val", root=str(imagenet_root))
    for data in (direct, under):
        assert torch.equal(data.labels, reference.labels) and torch.equal(data.indices, reference.indices)
    assert direct.images.paths == reference.images.paths


def test_torchvision_imagenet_root_reads_and_labels_are_global_not_folder_positions(imagenet_root):
    truth = {number: wnid for wnid, number in IN_TEST + VAL_ONLY}
    write_meta(imagenet_root, truth)
    reference = tv.ImageNet(str(imagenet_root), split="val")  # torchvision accepts this root as is
    assert reference.targets == [0, 1, 2, 3]  # its labels are positions among the 4 present folders
    data = load_dataset("imagenet", "val", root=str(imagenet_root))
    by_path = dict(zip(data.images.paths, data.labels.tolist(), strict=True))
    for path, position in reference.samples:
        assert by_path[path] == imagenet_wnids().index(reference.wnids[position])
    assert sorted(by_path.values()) == [0, 65, 281, 999]


def test_meta_bin_disagreeing_with_a_folder_is_an_error(imagenet_root):
    write_meta(imagenet_root, {1: "n01443537"})
    with pytest.raises(
        RobenchError, match=r"ILSVRC2012_val_00000001.JPEG lies in folder n01751748 but .*meta.bin"
    ):
        load_dataset("imagenet", "val", root=str(imagenet_root))
    (imagenet_root / "meta.bin").write_bytes(b"not a torch file")
    with pytest.raises(RobenchError, match="meta.bin is not torchvision's ImageNet meta.bin"):
        load_dataset("imagenet", "val", root=str(imagenet_root))


def test_preprocessing_is_robustbench_res256crop224(imagenet_root):
    data = load_dataset("imagenet", "test", root=str(imagenet_root))
    chain = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor()])
    expected = chain(Image.open(data.images.paths[1]).convert("RGB"))
    assert torch.equal(data.images[1], expected)
    larger = load_dataset("imagenet", "test", root=str(imagenet_root), image_size=288)
    assert larger.preprocessing == "Res329Crop288" and larger.input_shape == (3, 288, 288)


def test_only_selected_images_are_decoded(imagenet_root):
    broken = imagenet_root / "val" / "n01751748" / "ILSVRC2012_val_00000001.JPEG"
    broken.write_bytes(broken.read_bytes()[:300])  # truncated: fails only if decoded
    val = load_dataset("imagenet", "val", root=str(imagenet_root))
    assert val.take(torch.tensor([1, 2, 3])).materialize().images.shape == (3, 3, 224, 224)
    with pytest.raises(RobenchError, match=f"{broken} cannot be read as an image"):
        val.take(torch.tensor([0])).materialize()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda v: (v / "n01440764" / "cat.JPEG").write_bytes(b""),
            "cat.JPEG is not named ILSVRC2012_val_NNNNNNNN",
        ),
        (lambda v: (v / "n99999999").mkdir(), "n99999999 is not one of the 1,000 ILSVRC-2012 class folders"),
        (lambda v: write_val(v, [("n01443537", 1)]), "are the same validation image"),
        (lambda v: write_val(v, [("n01443537", 31094)]), "are the same validation image"),
        (lambda v: (v / "ILSVRC2012_val_00000002.JPEG").write_bytes(b""), "lies directly in"),
        (
            lambda v: (v / "n01440764" / "ILSVRC2012_val_00060000.JPEG").write_bytes(b""),
            r"00000001..00050000",
        ),
    ],
)
def test_bad_layouts_are_one_clear_line(imagenet_root, change, expected):
    change(imagenet_root / "val")
    with pytest.raises(RobenchError, match=expected) as info:
        load_dataset("imagenet", "val", root=str(imagenet_root))
    assert "\n" not in str(info.value)


def test_a_test_image_in_the_wrong_class_folder_is_caught_by_robustbench_labels(tmp_path):
    write_val(tmp_path / "val", [("n01443537", 31094)])  # RobustBench labels this image n01440764
    with pytest.raises(
        RobenchError, match="lies in folder n01443537 but RobustBench's test list labels it n01440764"
    ):
        load_dataset("imagenet", "test", root=str(tmp_path))


def test_missing_root_split_or_images_are_clear(tmp_path, monkeypatch):
    monkeypatch.delenv("ROBENCH_DATA", raising=False)
    with pytest.raises(DatasetNotFoundError, match="--data-root DIR or set ROBENCH_DATA"):
        load_dataset("imagenet")
    with pytest.raises(
        DatasetNotFoundError, match=r"no ImageNet validation folder under .*val/<wnid>/ILSVRC2012"
    ):
        load_dataset("imagenet", root=str(tmp_path))
    write_val(tmp_path / "val", VAL_ONLY)
    with pytest.raises(DatasetNotFoundError, match="holds none of the 5,000 images of imagenet's test split"):
        load_dataset("imagenet", root=str(tmp_path))
    with pytest.raises(RobenchError, match="imagenet has splits 'test', 'val', not 'train'"):
        load_dataset("imagenet", "train", root=str(tmp_path))
    with pytest.raises(RobenchError, match=r"imagenet images are RGB \(3 channels\), not 1"):
        load_dataset("imagenet", "val", root=str(tmp_path), channels=1)


def test_imagenet_default_budgets():
    assert default_eps("imagenet", "linf") == 4 / 255 and default_eps("imagenet", "L2") == 3.0
    assert default_eps("cifar10", "linf") == 8 / 255 and default_eps("cifar10", "l2") == 0.5
    assert default_eps("digits", "linf") == 0.3 and default_eps("mnist", "linf") == 0.3
    assert default_eps("svhn", "linf") is None and default_eps("imagenet", "l1") is None
