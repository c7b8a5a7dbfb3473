"""Answering slots: how many questions a server process answers at once, the rest in turn.

Answering is CPU work: more questions at once than there are cores only share the cores out,
and each takes as long as all of them. So a process answers `QA_QUESTION_SLOTS` at once and the
others wait, first come first served. A freed slot is handed straight to the question that has
waited longest: with a plain semaphore a question arriving just then could take it first, and
under load the unlucky ones waited many turns (the p95 a server can promise is set by them).
"""

from __future__ import annotations

import threading
from collections import deque
from types import TracebackType


class Slots:
    """A context manager held by at most `count` threads at once, handed on in order of arrival.

    >>> slots = Slots(1)
    >>> with slots:
    ...     slots.free
    0
    >>> slots.free
    1
    """

    def __init__(self, count: int) -> None:
        if count < 1:
            raise ValueError(f"QA_QUESTION_SLOTS must be at least 1, not {count}")
        self._free = count
        self._lock = threading.Lock()
        self._waiting: deque[threading.Lock] = deque()

    @property
    def free(self) -> int:
        """Slots no one holds now."""
        return self._free

    def __enter__(self) -> Slots:
        with self._lock:
            if self._free and not self._waiting:
                self._free -= 1
                return self
            turn = threading.Lock()
            turn.acquire()
            self._waiting.append(turn)
        turn.acquire()  # released by the holder that hands its slot over
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        with self._lock:
            if self._waiting:
                self._waiting.popleft().release()  # the slot passes on without ever being free
            else:
                self._free += 1
