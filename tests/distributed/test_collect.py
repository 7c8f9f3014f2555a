"""Collectives across 2 real gloo processes on loopback."""

from __future__ import annotations

from dist_ranks import run_ranks
from dist_workers import collectives


def test_gather_broadcast_and_a_failing_rank():
    results = run_ranks(collectives, args=(1,))
    assert results[0][0] == results[1][0] == "ok"
    gathered0, decision0, error0 = results[0][1]
    gathered1, decision1, error1 = results[1][1]
    # rank 0 receives every rank's result, in rank order; the others receive nothing
    assert gathered0 == [{"rank": 0, "square": 0}, {"rank": 1, "square": 1}]
    assert gathered1 is None
    # guard-style decisions: rank 0's value on every rank
    assert decision0 == decision1 == "decided by rank 0"
    # rank 1 fails: it raises its own error, rank 0 a clear one naming rank 1
    assert error1 == ("RobenchError", "checkpoint missing on this node")
    assert error0 == (
        "PeerFailedError",
        "the evaluation failed on rank 1 of 2: checkpoint missing on this node; "
        "nothing was written or stored",
    )
