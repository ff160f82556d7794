"""The SQLite write gate: one writer at a time, first come first served, handed between
threads, and a wait that runs out leaves nothing behind."""

import threading
import time

import pytest

from app.db import WriteGate
from app.errors import DatabaseBusy


def _wait_for_queue(gate: WriteGate, length: int) -> None:
    deadline = time.monotonic() + 10
    while gate.waiting != length:
        assert time.monotonic() < deadline, "the gate never reached the expected state"
        time.sleep(0.001)


def test_writers_get_the_gate_in_the_order_they_asked() -> None:
    gate = WriteGate()
    gate.enter(timeout=1)
    order: list[int] = []

    def writer(n: int) -> None:
        gate.enter(timeout=10)
        order.append(n)
        gate.leave()

    threads = []
    for n in range(5):
        thread = threading.Thread(target=writer, args=(n,))
        thread.start()
        threads.append(thread)
        _wait_for_queue(gate, n + 1)
    gate.leave()
    for thread in threads:
        thread.join(timeout=10)
    assert order == [0, 1, 2, 3, 4]
    gate.enter(timeout=0.01)  # free again once everyone has left


def test_another_thread_can_hand_the_gate_on() -> None:
    # A request takes the gate in one worker thread and commits in another.
    gate = WriteGate()
    gate.enter(timeout=1)
    leaver = threading.Thread(target=gate.leave)
    leaver.start()
    leaver.join(timeout=10)
    gate.enter(timeout=1)


def test_a_wait_that_runs_out_is_busy_and_leaves_the_queue_clean() -> None:
    gate = WriteGate()
    gate.enter(timeout=1)
    with pytest.raises(DatabaseBusy) as refused:
        gate.enter(timeout=0.05)
    assert refused.value.status == 503
    assert refused.value.headers["Retry-After"]
    assert gate.waiting == 0
    gate.leave()
    gate.enter(timeout=0.01)
