"""Cost of robench's L2 C&W against foolbox's full binary search, on the same points, side by side.

robench runs foolbox's ``L2CarliniWagnerAttack`` one binary-search step at a time, each point at its own
constant, and a point leaves the search once it has an example inside the eps ball. foolbox alone runs
every search step for every point. Both use the same settings (100 Adam steps, 6 search steps, c0 0.01,
step 0.05, no early abort); foolbox's examples are then restricted to the ball as robench's are. The table
gives forward/backward passes per point (counted at the model), seconds, and whether the per-point
decisions (misclassified inside the ball) agree.

    python benchmarks/cw_l2_early_stop.py                          # digits/linf/pgd, 128 test points
    python benchmarks/cw_l2_early_stop.py --model digits/linf/standard --eps 0.5 1.0 2.0
"""

from __future__ import annotations

import argparse
import time
import warnings

import torch

from robench.attacks import build_attack
from robench.attacks.cw import L2_SEARCH_STEPS, L2_STEPS
from robench.core.counting import CountingModel
from robench.core.verify import verify
from robench.data import load_dataset
from robench.models.loading import load_model
from robench.threat import ThreatModel


def foolbox_full(model, x, y, threat):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import foolbox
    attack = foolbox.attacks.L2CarliniWagnerAttack(
        binary_search_steps=L2_SEARCH_STEPS, steps=L2_STEPS, stepsize=0.05, initial_const=0.01,
        abort_early=False,
    )  # fmt: skip
    fmodel = foolbox.PyTorchModel(model, bounds=(0.0, 1.0))
    found = attack.run(fmodel, x, foolbox.criteria.Misclassification(y))
    missing = (found.flatten(1) == 0).all(1)  # foolbox's "nothing found"
    found[missing] = x[missing]
    return threat.project(found.detach(), x)


def robench_cw(model, x, y, threat):
    return build_attack("cw", threat)(model, x, y)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="digits/linf/pgd")
    parser.add_argument("--n", type=int, default=128)
    parser.add_argument("--eps", type=float, nargs="+", default=[0.5, 1.0, 1.5])
    args = parser.parse_args()
    model = CountingModel(load_model(args.model).module).eval()
    data = load_dataset("digits", "test").subset(args.n, seed=0)
    with torch.no_grad():
        correct = model(data.images).argmax(1) == data.labels
    x, y = data.images[correct], data.labels[correct]  # the points an attack stage would get
    print(f"{args.model}: {len(x)} clean-correct of {args.n} digits test points, l2 C&W")
    print(f"{'eps':>5} {'method':<18}{'fwd/pt':>8}{'bwd/pt':>8}{'seconds':>9}{'robust':>8}  decisions")
    for eps in args.eps:
        threat = ThreatModel("l2", eps)
        robust = {}
        for name, run in (("foolbox (full)", foolbox_full), ("robench (per point)", robench_cw)):
            start, count0 = time.perf_counter(), model.count()
            x_adv = run(model, x.clone(), y.clone(), threat)
            used, seconds = model.count() - count0, time.perf_counter() - start
            robust[name] = ~verify(model, x, x_adv, y, threat).broken
            same = "" if len(robust) == 1 else ("same" if torch.equal(*robust.values()) else "DIFFER")
            print(f"{eps:>5g} {name:<18}{used.forward / len(x):>8.0f}{used.backward / len(x):>8.0f}"
                  f"{seconds:>9.2f}{robust[name].float().mean().item():>8.3f}  {same}")  # fmt: skip


if __name__ == "__main__":
    main()
