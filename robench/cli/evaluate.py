"""``robench evaluate``: run an attack suite on a model and write the results JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from robench.errors import RobenchError


def _floats(text: str | None, option: str) -> tuple[float, ...] | None:
    if text is None:
        return None
    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError:
        raise RobenchError(
            f"{option} must be comma-separated numbers such as 0.5,0.5,0.5, got '{text}'"
        ) from None


def print_result(result) -> None:
    """The per-stage table, then clean/robust accuracy, verdict and flags."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(
        title=f"{result.model} · {result.dataset} · {result.threat} eps={result.eps:.6g} · n={result.n}"
    )
    for column in ("stage", "robust acc", "attacked", "broken", "forward", "backward", "seconds"):
        table.add_column(column, justify="left" if column == "stage" else "right")
    for stage in result.stages:
        broken = f"{stage.broken}" + (f" ({stage.rejected} rejected)" if stage.rejected else "")
        table.add_row(
            stage.attack,
            f"{100 * stage.robust_acc:.2f}%",
            str(stage.attacked),
            broken,
            f"{stage.forward:,}",
            f"{stage.backward:,}",
            f"{stage.seconds:.2f}",
        )
    console.print(table)
    console.print(
        f"clean accuracy [bold]{100 * result.clean_acc:.2f}%[/]  ·  robust accuracy "
        f"[bold]{100 * result.robust_acc:.2f}%[/] ({result.mode}, worst case per point)  ·  "
        f"verdict [bold]{result.verdict}[/]"
    )
    from robench.diagnostics.evidence import format_evidence

    for flag in result.flags:
        console.print(f"  [{flag.severity}] {flag.code}: {flag.message}", markup=False)
        console.print(f"      evidence: {format_evidence(flag.evidence)}", markup=False)


def evaluate_command(
    model: Annotated[str | None, typer.Option("--model", help="model card id or name")] = None,
    checkpoint: Annotated[Path | None, typer.Option(help="checkpoint file (.safetensors or .pt)")] = None,
    arch: Annotated[str | None, typer.Option(help="architecture for --checkpoint")] = None,
    num_classes: Annotated[int | None, typer.Option(help="classes (default: the dataset's)")] = None,
    mean: Annotated[
        str | None, typer.Option(help="normalisation mean for --checkpoint, e.g. 0.49,0.48,0.45")
    ] = None,
    std: Annotated[str | None, typer.Option(help="normalisation std for --checkpoint")] = None,
    dataset: Annotated[str | None, typer.Option(help="dataset (default: the card's)")] = None,
    split: Annotated[str, typer.Option(help="dataset split")] = "test",
    threat: Annotated[str | None, typer.Option(help="linf or l2 (default: the card's)")] = None,
    eps: Annotated[str | None, typer.Option(help="radius, e.g. 0.3 or 8/255 (default: the card's)")] = None,
    suite: Annotated[str, typer.Option(help="suite name or TOML/YAML file")] = "standard",
    n: Annotated[
        int | None, typer.Option("--n", "-n", help="number of points (default: the whole split)")
    ] = None,
    seed: Annotated[int, typer.Option(help="seed of the subset and of every random start")] = 0,
    out: Annotated[Path | None, typer.Option(help="results JSON to write")] = None,
    independent: Annotated[bool, typer.Option(help="run every attack on every point (no cascade)")] = False,
    batch_size: Annotated[int | None, typer.Option(help="override the automatic batch size")] = None,
    device: Annotated[str, typer.Option(help="cpu or cuda")] = "cpu",
    data_root: Annotated[str | None, typer.Option(help="local dataset root (default: $ROBENCH_DATA)")] = None,
    resume: Annotated[bool, typer.Option(help="resume from OUT.state after an interruption")] = True,
    diagnostics: Annotated[bool, typer.Option(help="run the reliability checks after the suite")] = True,
) -> None:
    """Evaluate a model's robustness with a suite of escalating attacks (cascade)."""
    from robench.data import load_dataset
    from robench.engine.evaluate import evaluate, resolve_device
    from robench.engine.state import FileState
    from robench.models.loading import load_model
    from robench.threat import ThreatModel

    if (model is None) == (checkpoint is None and arch is None):
        raise RobenchError("give either --model CARD or --checkpoint PATH --arch ARCH")
    from robench.distributed import launched_distributed, rank_device, rank_state_path

    device = rank_device(resolve_device(device))  # cuda -> cuda:LOCAL_RANK under torchrun
    card = None
    if model is not None:
        from robench.models.cards import find_card

        card = find_card(model)
        dataset, threat, eps = (
            dataset or card.dataset,
            threat or card.threat,
            eps if eps is not None else card.eps,
        )
    missing = [o for o, v in (("--dataset", dataset), ("--threat", threat), ("--eps", eps)) if v is None]
    if missing:
        raise RobenchError(f"give {', '.join(missing)} (there is no model card to take it from)")
    threat_model = ThreatModel.parse(threat, eps)
    data = load_dataset(dataset, split=split, root=data_root)
    if card is not None:
        loaded = load_model(card, checkpoint=checkpoint, device=device)
    else:
        loaded = load_model(
            checkpoint=checkpoint,
            arch=arch,
            num_classes=num_classes or data.num_classes,
            in_channels=data.input_shape[0],
            mean=_floats(mean, "--mean"),
            std=_floats(std, "--std"),
            device=device,
        )
    state = None
    if out is not None:
        state = FileState(rank_state_path(out.with_name(out.name + ".state")))  # per rank under torchrun
        if not resume:
            state.clear()
    run = evaluate
    if launched_distributed():  # torchrun: shard the points over the ranks, rank 0 gets the record
        from robench.distributed import evaluate_distributed as run
    result = run(
        loaded.module,
        data,
        threat_model,
        suite=suite,
        n=n,
        seed=seed,
        batch_size=batch_size,
        device=device,
        independent=independent,
        diagnostics=diagnostics,
        model_name=loaded.name,
        checkpoint_sha256=loaded.sha256,
        state=state,
    )
    if result is None:  # another rank of a torchrun launch: rank 0 prints and writes the results
        return
    if card is not None:
        result.extra["card"] = {
            "id": card.id,
            "recipe": card.recipe,
            "source": card.source,
            "paper": card.paper,
        }
    print_result(result)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        result.to_json(out)
        typer.echo(f"results written to {out}")


def register(app: typer.Typer) -> None:
    app.command("evaluate")(evaluate_command)
