"""The shipped digits zoo: ``python -m robench.training.zoo`` (or ``robench train-zoo``) retrains it.

Six small CNNs on scikit-learn digits at linf eps 0.3, written to ``models/digits/linf/`` with their
cards and training logs. Runs are seeded and CPU-deterministic, so the command reproduces the files.
``fgsm`` (no random start) is the zoo's catastrophically overfit model: robust to FGSM, not to PGD.
``ibp`` is trained for certified robustness (Gowal et al. 2018; 300 epochs, most of the zoo's training
time): the one model whose certified accuracy at eps 0.3 is well above 0, so its bracket is informative.
After training, each model's test-split clean / FGSM / PGD-20 accuracy is measured and printed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from robench.models.cards import load_card, models_root
from robench.training.config import TrainConfig
from robench.training.loop import train

EPS = 0.3
_COMMON = dict(
    arch="small_cnn", dataset="digits", threat="linf", eps=EPS, batch_size=64, optimizer="adam",
    lr=3e-3, weight_decay=0.0, schedule="constant", seed=0, device="cpu", keep_best=False,
)  # fmt: skip

ZOO: dict[str, TrainConfig] = {
    "standard": TrainConfig(recipe="standard", epochs=10, **_COMMON),
    "pgd": TrainConfig(recipe="pgd", epochs=20, attack_steps=7, **_COMMON),
    "trades": TrainConfig(recipe="trades", epochs=20, attack_steps=7, beta=6.0, **_COMMON),
    "fgsm": TrainConfig(recipe="fgsm", epochs=30, **_COMMON),
    "fgsm-rs": TrainConfig(recipe="fgsm-rs", epochs=30, **_COMMON),
    "ibp": TrainConfig(recipe="ibp", epochs=300, **{**_COMMON, "lr": 1e-3}),
}


def default_zoo_dir() -> Path:
    return models_root() / "digits" / "linf"


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


def train_zoo(out_dir: Path | None = None, names: list[str] | None = None) -> dict[str, dict[str, float]]:
    out_dir = Path(out_dir) if out_dir is not None else default_zoo_dir()
    results = {}
    for name in names or list(ZOO):
        outcome = train(ZOO[name], out_dir, name=name, overwrite=True)
        results[name] = test_accuracy(outcome.paths.card)
        flags = outcome.summary["flags"]
        print(
            f"{name:9s} " + " ".join(f"{k} {v:.3f}" for k, v in results[name].items())
            + f"  catastrophic_overfitting={flags['catastrophic_overfitting']}",
            flush=True,
        )  # fmt: skip
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="output folder (default models/digits/linf)")
    parser.add_argument("--only", nargs="*", choices=list(ZOO), help="retrain only these models")
    args = parser.parse_args(argv)
    train_zoo(args.out, args.only)


if __name__ == "__main__":
    main()
