"""A randomised model (test-time dropout) evaluated with EOT: same seed, same per-sample results, for any
batch size, any sharding and whatever the caller's global RNG state, which evaluate leaves unchanged."""

from __future__ import annotations

import re

import pytest
import torch
from engine_toys import DropoutAtTest

from robench.attacks.base import Attack
from robench.engine.evaluate import merge_shards
from robench.engine.evaluation import Evaluation
from robench.engine.settings import RunSettings
from robench.pipeline.evaluate import evaluate
from robench.threat import ThreatModel

THREAT = ThreatModel("linf", 0.1)
SUITE = ["fgsm", "pgd-7"]
N = 24
BLOCK = 8  # three blocks: several seeded calls per stage

pytestmark = pytest.mark.filterwarnings("ignore:the model's outputs change between identical forwards")


@pytest.fixture(scope="module")
def model(tiny_digits_model):
    return DropoutAtTest(getattr(tiny_digits_model, "net", tiny_digits_model)).eval()


def _run(model, data, *, caller_seed=0, diagnostics=False, **kwargs):
    torch.manual_seed(caller_seed)  # the caller's global generator must not matter
    settings = {"suite": SUITE, "n": N, "seed": 0, "block_size": BLOCK, "batch_size": 4, **kwargs}
    return evaluate(model, data, THREAT, diagnostics=diagnostics, **settings)


def _decisions(result):
    stages = [(s.attack, s.attacked, s.broken, s.cost.forward, s.cost.backward) for s in result.stages]
    return result.samples, stages, result.clean_acc, result.robust_acc


def test_same_seed_gives_identical_results(model, digits_test):
    first = _run(model, digits_test, caller_seed=1)
    second = _run(model, digits_test, caller_seed=2)
    assert first.eot_samples > 1  # the probe found the model randomised
    assert 0 < first.robust_acc < first.clean_acc  # the attacks really decide something
    assert _decisions(first) == _decisions(second)


def test_results_do_not_depend_on_batch_size(model, digits_test):
    assert _decisions(_run(model, digits_test, batch_size=4)) == _decisions(
        _run(model, digits_test, batch_size=64)
    )


def test_results_do_not_depend_on_sharding(model, digits_test):
    whole = _run(model, digits_test)
    settings = RunSettings(suite=SUITE, n=N, seed=0, block_size=BLOCK, batch_size=16)
    shards = [Evaluation(model, digits_test, THREAT, settings).run(None, shard=(r, 2)) for r in range(2)]
    assert _decisions(merge_shards(shards)) == _decisions(whole)


def test_evaluate_leaves_the_global_rng_state_unchanged(model, digits_test):
    torch.manual_seed(5)
    before = torch.get_rng_state()
    evaluate(model, digits_test, THREAT, suite=SUITE, n=N, seed=0, block_size=BLOCK, diagnostics=False)
    assert torch.equal(torch.get_rng_state(), before)


def test_final_number_with_diagnostics_is_reproducible(model, digits_test):
    small = _run(model, digits_test, caller_seed=1, diagnostics=True, batch_size=4)
    large = _run(model, digits_test, caller_seed=2, diagnostics=True, batch_size=64)
    assert len(small.diagnostics.broken) > 0  # the diagnostics broke extra points
    assert small.diagnostics.broken == large.diagnostics.broken
    assert _decisions(small) == _decisions(large)
    assert [(f.code, f.evidence) for f in small.flags] == [(f.code, f.evidence) for f in large.flags]


class OutOfMemoryAbove(Attack):
    """Returns x unchanged, but runs 'out of CUDA memory' on batches larger than ``limit``."""

    family = "oom"

    def __init__(self, limit: int) -> None:
        super().__init__(THREAT)
        self.limit = limit

    def perturb(self, model, x, y, seeds):
        if x.shape[0] > self.limit:
            raise torch.cuda.OutOfMemoryError("out of memory (simulated)")
        return x.clone()


def test_a_block_split_for_memory_warns_that_results_depend_on_the_batch_size(model, digits_test):
    with pytest.warns(UserWarning) as caught:
        evaluate(
            model, digits_test, THREAT, suite=[OutOfMemoryAbove(4)], n=N, block_size=BLOCK, diagnostics=False
        )
    lowered = [str(w.message) for w in caught if "out of memory" in str(w.message)]
    sizes = [int(re.search(r"lowered to (\d+)", message)[1]) for message in lowered]
    assert min(sizes) <= 4 < BLOCK < max(sizes)  # halved from whole blocks to split ones
    for size, message in zip(sizes, lowered, strict=True):
        split = "blocks are split, so results are no longer reproducible with another batch size"
        assert (split in message) == (size < BLOCK)
