"""``robench evaluate``: run an attack suite on a model and write the results JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from robench.cli.options import ArchKwargsOption


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
    arch_kwargs: ArchKwargsOption = None,
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
    block_size: Annotated[
        int | None,
        typer.Option(help="points per block (default 256): AutoAttack/Square run per block; sharding unit"),
    ] = None,
    device: Annotated[str, typer.Option(help="cpu or cuda")] = "cpu",
    data_root: Annotated[str | None, typer.Option(help="local dataset root (default: $ROBENCH_DATA)")] = None,
    resume: Annotated[bool, typer.Option(help="resume from OUT.state after an interruption")] = True,
    diagnostics: Annotated[bool, typer.Option(help="run the reliability checks after the suite")] = True,
) -> None:
    """Evaluate a model's robustness with a suite of escalating attacks (cascade)."""
    from robench.cli.options import parse_arch_kwargs, parse_floats
    from robench.distributed import launched_distributed, rank_device, rank_state_path
    from robench.engine.evaluate import resolve_device
    from robench.engine.state import FileState
    from robench.models.spec import ModelSpec
    from robench.models.target import resolve_target

    device = rank_device(resolve_device(device))  # cuda -> cuda:LOCAL_RANK under torchrun
    spec = ModelSpec(model=model, checkpoint=checkpoint, arch=arch, num_classes=num_classes)
    spec.mean, spec.std = parse_floats(mean, "--mean"), parse_floats(std, "--std")
    spec.arch_kwargs = parse_arch_kwargs(arch_kwargs)
    target = resolve_target(
        spec, dataset=dataset, threat=threat, eps=eps, split=split, data_root=data_root, device=device
    )
    state = None
    if out is not None:
        state = FileState(rank_state_path(out.with_name(out.name + ".state")))  # per rank under torchrun
        if not resume:
            state.clear()
    run = None
    if launched_distributed():  # torchrun: shard the points over the ranks, rank 0 gets the record
        from robench.distributed import evaluate_distributed as run
    result = target.evaluate(
        run=run,
        suite=suite,
        n=n,
        seed=seed,
        batch_size=batch_size,
        **({"block_size": block_size} if block_size is not None else {}),  # else the engine's default
        independent=independent,
        diagnostics=diagnostics,
        state=state,
    )
    if result is None:  # another rank of a torchrun launch: rank 0 prints and writes the results
        return
    card = target.card
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
