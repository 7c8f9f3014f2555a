"""Same seed, same results: for any batch size, across shards, and after an interrupted run resumes."""

from __future__ import annotations

import pytest
from engine_toys import THREAT, RandomNoise, ToyModel, toy_dataset

from robench.engine.evaluate import merge_shards
from robench.engine.evaluation import Evaluation
from robench.engine.settings import RunSettings
from robench.engine.state import FileState, MemoryState
from robench.errors import RobenchError
from robench.pipeline.evaluate import evaluate

N = 60
BLOCK = 16  # block size (the sharding unit) for the sharded run: four blocks, the last one partial


def _suite():
    return [RandomNoise(THREAT, "noise-a", tries=2), RandomNoise(THREAT, "noise-b", tries=2)]


def _decisions(result):
    stages = [
        (s.attack, s.robust_acc, s.attacked, s.broken, s.rejected, s.cost.forward, s.cost.backward)
        for s in result.stages
    ]
    return result.samples, stages, result.clean_acc, result.robust_acc, result.subset_sha256


def _run(**kwargs):
    kwargs.setdefault("suite", _suite())
    return evaluate(ToyModel(), toy_dataset(N), THREAT, diagnostics=False, **kwargs)


def test_results_do_not_depend_on_batch_size_but_on_the_seed():
    small, large = _run(batch_size=7), _run(batch_size=64)
    assert _decisions(small) == _decisions(large)
    assert 0 < small.stages[0].broken < small.stages[0].attacked  # the attack really decides something
    assert [s.broken_by for s in _run(seed=1, batch_size=7).samples] != [s.broken_by for s in small.samples]


def test_sharded_evaluation_merges_into_the_single_process_record():
    whole = _run(batch_size=5)
    settings = RunSettings(suite=_suite(), batch_size=4, block_size=BLOCK)
    outcomes = [
        Evaluation(ToyModel(), toy_dataset(N), THREAT, settings).run(None, shard=(r, 3)) for r in range(3)
    ]
    merged = merge_shards([o.to_dict() for o in reversed(outcomes)])
    assert _decisions(merged) == _decisions(whole)
    with pytest.raises(RobenchError, match="cover 44 of 60"):
        merge_shards(outcomes[:2])
    with pytest.raises(RobenchError, match="overlap"):
        merge_shards([outcomes[0], outcomes[0], outcomes[1], outcomes[2]])


class Killed(BaseException):
    """Stands in for a kill: not an Exception, so nothing in the engine may swallow it."""


class DiesAfter(RandomNoise):
    def __init__(self, threat, spec, batches):
        super().__init__(threat, spec, tries=2)
        self.allowed = batches

    def perturb(self, model, x, y, seeds):
        if len(self.batches) == self.allowed:
            raise Killed
        return super().perturb(model, x, y, seeds)


def test_resume_after_a_kill_mid_stage_redoes_nothing_and_gives_identical_results(tmp_path):
    baseline = _run(batch_size=8)
    state = FileState(tmp_path / "run.state.json")
    first, dying = RandomNoise(THREAT, "noise-a", tries=2), DiesAfter(THREAT, "noise-b", batches=2)
    with pytest.raises(Killed):
        _run(suite=[first, dying], batch_size=8, state=state)
    assert state.path.exists()
    done_in_b = sum(dying.batches)
    assert done_in_b == 16

    again = [RandomNoise(THREAT, "noise-a", tries=2), RandomNoise(THREAT, "noise-b", tries=2)]
    resumed = _run(suite=again, batch_size=8, state=state)
    assert again[0].batches == []  # stage a finished before the kill: not redone
    assert sum(again[1].batches) == baseline.stages[1].attacked - done_in_b  # only the unfinished points
    assert _decisions(resumed) == _decisions(baseline)
    assert not state.path.exists()  # cleared when the evaluation completed


def test_state_from_a_different_evaluation_is_not_reused():
    state = MemoryState()
    state.save({"config": {"model": "other"}, "indices": []})
    with pytest.warns(UserWarning, match="different evaluation"):
        result = _run(batch_size=16, state=state)
    assert result.n == N and state.data is None


def test_file_state_round_trips_and_ignores_an_unreadable_file(tmp_path):
    state = FileState(tmp_path / "s.json")
    assert state.load() is None
    state.save({"a": [1, 2]})
    state.save({"a": [3]})
    assert state.load() == {"a": [3]}
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]  # no temporary files left behind
    state.path.write_text("{truncated")
    assert state.load() is None
    state.clear()
    assert not state.path.exists()


def test_a_save_killed_mid_write_leaves_the_previous_state_intact(tmp_path, monkeypatch):
    """Atomicity: the new state is written to a temporary file and renamed; dying while writing it (here
    json.dump raises after writing half of the text) must leave the old file whole and no debris."""
    import json

    state = FileState(tmp_path / "s.json")
    state.save({"done": [1, 2, 3]})
    real_dump = json.dump

    def half_then_die(obj, handle):
        text = json.dumps(obj)
        handle.write(text[: len(text) // 2])
        raise Killed

    monkeypatch.setattr(json, "dump", half_then_die)
    with pytest.raises(Killed):
        state.save({"done": [1, 2, 3, 4, 5, 6]})
    monkeypatch.setattr(json, "dump", real_dump)
    assert state.load() == {"done": [1, 2, 3]}
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]
