"""The shipped zoos: ``python -m robench.training.zoo [--dataset D]`` (or ``robench train-zoo``) retrains one.

``digits`` (``ZOO``): six small CNNs on scikit-learn digits at linf eps 0.3, written to
``models/digits/linf/`` with their cards and training logs. Runs are seeded and CPU-deterministic, so the
command reproduces the files. ``fgsm`` (no random start) is the zoo's catastrophically overfit model:
robust to FGSM, not to PGD. ``ibp`` is trained for certified robustness (Gowal et al. 2018; 300 epochs,
most of the zoo's training time): the one model whose certified accuracy at eps 0.3 is well above 0, so
its bracket is informative.

``fashion-mnist`` (``FASHION_ZOO``): the same six recipes on all of Fashion-MNIST's training images
(59,000 trained on, 1,000 held out for the per-epoch validation) at linf eps 0.1, in Wong & Kolter's
small conv net (``wk_small_mnist``), written to ``models/fashion-mnist/linf/``. Models listed in
``SELECT_BEST`` publish the weights of their best validation-PGD epoch (Rice et al. 2020's early stop):
their card is pointed at ``<name>.best.safetensors``; every card says the validation split and which
epoch's weights it names (``selected_checkpoint``, ``selected_epoch``).

After training, each model's test-split clean / FGSM / PGD-20 accuracy is measured and printed.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from robench.models.cards import load_card, models_root
from robench.training.config import TrainConfig
from robench.training.loop import train

EPS = 0.3
_COMMON = dict(
    arch="small_cnn",
    dataset="digits",
    threat="linf",
    eps=EPS,
    batch_size=64,
    optimizer="adam",
    lr=3e-3,
    weight_decay=0.0,
    schedule="constant",
    seed=0,
    device="cpu",
    keep_best=False,
)

ZOO: dict[str, TrainConfig] = {
    "standard": TrainConfig(recipe="standard", epochs=10, **_COMMON),
    "pgd": TrainConfig(recipe="pgd", epochs=20, attack_steps=7, **_COMMON),
    "trades": TrainConfig(recipe="trades", epochs=20, attack_steps=7, beta=6.0, **_COMMON),
    "fgsm": TrainConfig(recipe="fgsm", epochs=30, **_COMMON),
    "fgsm-rs": TrainConfig(recipe="fgsm-rs", epochs=30, **_COMMON),
    "ibp": TrainConfig(recipe="ibp", epochs=300, **{**_COMMON, "lr": 1e-3}),
}


FASHION_EPS = 0.1
_FASHION = dict(
    arch="wk_small_mnist",
    dataset="fashion-mnist",
    threat="linf",
    eps=FASHION_EPS,
    batch_size=128,
    optimizer="adam",
    lr=1e-3,
    weight_decay=0.0,
    schedule="piecewise",
    seed=0,
    device="cpu",
    keep_best=True,
    monitor_n=1000,
)

FASHION_ZOO: dict[str, TrainConfig] = {
    "standard": TrainConfig(recipe="standard", epochs=10, **_FASHION),
    "pgd": TrainConfig(recipe="pgd", epochs=10, attack_steps=7, **_FASHION),
    "trades": TrainConfig(recipe="trades", epochs=10, attack_steps=7, beta=6.0, **_FASHION),
    "fgsm": TrainConfig(recipe="fgsm", epochs=20, **{**_FASHION, "schedule": "constant"}),
    "fgsm-rs": TrainConfig(recipe="fgsm-rs", epochs=15, **_FASHION),
    "ibp": TrainConfig(recipe="ibp", epochs=20, **_FASHION),
}

ZOO_DATASETS = ("digits", "fashion-mnist")
#: zoo models whose card points at the best validation-PGD epoch's weights instead of the last epoch's
SELECT_BEST: dict[str, tuple[str, ...]] = {"digits": (), "fashion-mnist": ("pgd", "trades", "fgsm-rs")}


def zoo_for(dataset: str) -> dict[str, TrainConfig]:
    """A dataset's zoo: ``ZOO`` (digits) or ``FASHION_ZOO`` (fashion-mnist); any other is a user error."""
    if dataset not in ZOO_DATASETS:
        from robench.errors import RobenchError

        raise RobenchError(f"robench ships no {dataset!r} zoo (choose {' or '.join(ZOO_DATASETS)})")
    return ZOO if dataset == "digits" else FASHION_ZOO


def default_zoo_dir(dataset: str = "digits") -> Path:
    return models_root() / dataset / "linf"


def finish_card(card_path: Path, best: bool) -> None:
    """Write the validation split into a trained card and, with ``best``, point it at the best
    validation-PGD epoch's checkpoint (``<name>.best.safetensors``) instead of the last epoch's."""
    from dataclasses import replace

    from robench.models.cards import write_card
    from robench.models.checkpoint import sha256_file

    card = load_card(card_path)
    log = json.loads((card_path.parent / card.training["log_json"]).read_text())
    split = log["validation"]
    training = {**card.training, "train_size": split["train_size"], "val_size": split["val_size"]}
    training["validation"] = f"{split['split']}; {split['monitored']} points each epoch: {split['attacks']}"
    checkpoint, sha = card.checkpoint, card.sha256
    if best:
        checkpoint = card.training.get("best_checkpoint")
        if not checkpoint:
            raise RuntimeError(f"{card_path} keeps no best checkpoint (train it with keep_best)")
        sha = sha256_file(card_path.parent / checkpoint)
    training["selected_checkpoint"] = "best" if best else "final"
    training["selected_epoch"] = log["best" if best else "final"]["epoch"]
    write_card(replace(card, checkpoint=checkpoint, sha256=sha, training=training), card_path)


def test_accuracy(card_path: Path, attacks=("fgsm", "pgd-20"), seed: int = 0) -> dict[str, float]:
    """Clean and per-attack (each on its own, not cascaded) accuracy on the digits test split."""
    from robench.attacks import build_attack
    from robench.data import load_dataset
    from robench.errors import AttackError
    from robench.models.loading import load_model
    from robench.threat import ThreatModel

    card = load_card(card_path)
    model = load_model(card).module
    test = load_dataset(card.dataset, split="test")
    threat = ThreatModel(card.threat, card.eps)
    seeds = test.indices * 1_000 + seed
    with torch.no_grad():
        result = {"clean": float((model(test.images).argmax(1) == test.labels).float().mean())}
    for spec in attacks:
        x_adv = build_attack(spec, threat)(model, test.images, test.labels, seeds)
        if not bool(threat.contains(x_adv, test.images).all()):
            raise AttackError(f"{spec} returned points outside the eps ball; the zoo figures would be wrong")
        with torch.no_grad():
            result[spec] = float((model(x_adv).argmax(1) == test.labels).float().mean())
    return result


def train_zoo(
    out_dir: Path | None = None, names: list[str] | None = None, dataset: str = "digits"
) -> dict[str, dict[str, float]]:
    zoo = zoo_for(dataset)
    out_dir = Path(out_dir) if out_dir is not None else default_zoo_dir(dataset)
    results = {}
    for name in names or list(zoo):
        outcome = train(zoo[name], out_dir, name=name, overwrite=True)
        if dataset != "digits":  # the digits cards stay as they were
            finish_card(outcome.paths.card, best=name in SELECT_BEST[dataset])
        results[name] = test_accuracy(outcome.paths.card)
        co = outcome.summary.flags.catastrophic_overfitting is not None
        accuracies = " ".join(f"{k} {v:.3f}" for k, v in results[name].items())
        print(f"{name:9s} {accuracies}  catastrophic_overfitting={co}", flush=True)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dataset", choices=ZOO_DATASETS, default="digits", help="which zoo (default digits)"
    )
    parser.add_argument("--out", type=Path, default=None, help="output folder (default models/DATASET/linf)")
    parser.add_argument("--only", nargs="*", help="retrain only these models")
    args = parser.parse_args(argv)
    zoo = zoo_for(args.dataset)
    unknown = [n for n in args.only or [] if n not in zoo]
    if unknown:
        parser.error(f"'{unknown[0]}' is not a {args.dataset} zoo model (choose from {', '.join(zoo)})")
    train_zoo(args.out, args.only, args.dataset)


if __name__ == "__main__":
    main()
