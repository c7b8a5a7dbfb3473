"""Answering slots (ui.slots): at most so many holders, the others served in order of arrival."""

import threading
import time

import pytest

from ui.slots import Slots


def test_a_freed_slot_goes_to_the_question_that_waited_longest():
    slots = Slots(1)
    order: list[int] = []
    slots.__enter__()  # held, as by a question being answered

    def wait(n: int) -> None:
        with slots:
            order.append(n)

    threads = []
    for n in range(6):
        thread = threading.Thread(target=wait, args=(n,))
        thread.start()
        threads.append(thread)
        while len(slots._waiting) < n + 1:  # queued before the next one arrives
            time.sleep(0.001)
    slots.__exit__(None, None, None)
    for thread in threads:
        thread.join(10)
    assert order == list(range(6))
    assert slots.free == 1


def test_no_more_than_count_hold_a_slot_at_once():
    slots = Slots(2)
    holding, most = 0, 0
    count = threading.Lock()

    def work() -> None:
        nonlocal holding, most
        with slots:
            with count:
                holding += 1
                most = max(most, holding)
            time.sleep(0.01)
            with count:
                holding -= 1

    threads = [threading.Thread(target=work) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert most == 2 and slots.free == 2


def test_a_slot_held_by_a_failed_question_is_freed():
    slots = Slots(1)
    with pytest.raises(RuntimeError), slots:
        raise RuntimeError("the question failed")
    assert slots.free == 1


@pytest.mark.parametrize("count", [0, -1])
def test_a_server_needs_at_least_one_slot(count):
    with pytest.raises(ValueError, match="QA_QUESTION_SLOTS must be at least 1"):
        Slots(count)
