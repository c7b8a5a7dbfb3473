"""Ask the indexed content a question; get quoted passages, the answering sentence marked.

    import qa
    answer = qa.ask("What is collective leadership?")
    answer.found, answer.passages[0].source
    # (True, 'michael-west-collective-leadership-for-culture-change.txt')

(An example, not a doctest: it builds the default index on first use.)
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from qa.config import SETTINGS
from qa.engine import DocumentInfo, Index, IndexInfo, IndexView
from qa.errors import BuildError, IndexBusyError, IndexCorruptError, IndexNotFoundError, QAError
from qa.types import Answer, Document, Passage, Section

__all__ = [
    "Answer",
    "BuildError",
    "Document",
    "DocumentInfo",
    "Index",
    "IndexBusyError",
    "IndexCorruptError",
    "IndexInfo",
    "IndexNotFoundError",
    "IndexView",
    "Passage",
    "QAError",
    "Section",
    "ask",
    "default_index",
    "get_index",
    "retrieve",
    "serving_index",
]

_indexes: dict[Path, Index] = {}
_lock = threading.Lock()


def default_index() -> Index:
    """The index at `SETTINGS.index_dir` (`QA_INDEX_DIR`), built from the corpus if missing or stale.

    Checked once per process; later rebuilds are picked up by the `Index` itself.
    """
    from qa.default import ensure_default_index

    return _cached(Path(SETTINGS.index_dir), prepare=ensure_default_index)


def _cached(path: Path, prepare: Callable[[], None] | None = None) -> Index:
    path = path.absolute()
    with _lock:
        if path not in _indexes:
            if prepare is not None:
                prepare()
            _indexes[path] = Index.load(path)
        return _indexes[path]


def get_index(index: Index | str | os.PathLike[str] | None = None) -> Index:
    """An `Index` object for `index`: itself, the one loaded from a path (cached), or the default."""
    if isinstance(index, Index):
        return index
    if index is None:
        return default_index()
    if not isinstance(index, str | os.PathLike):
        raise ValueError(f"index must be an Index or the path of an index folder, not {type(index).__name__}")
    return _cached(Path(index))


def serving_index(index: str | os.PathLike[str] | None = None) -> Index:
    """The index a server answers from (the one at `index`, or the default), its models loaded.

    Raises QAError (e.g. IndexNotFoundError) when it cannot be loaded.
    """
    loaded = get_index(index)
    loaded.warm()
    return loaded


def retrieve(question: str, k: int = 5, index: Index | str | os.PathLike[str] | None = None) -> list[Passage]:
    """The `k` passages that best answer `question`, best first (no relevance cut).

    E.g. `retrieve("Who is Michael West?", k=1)[0].source` is the article's file name.
    """
    return get_index(index).retrieve(question, k=k)


def ask(
    question: str, k: int = 3, index: Index | str | os.PathLike[str] | None = None, history: Sequence[str] = ()
) -> Answer:
    """Answer `question`: `.found`, `.text` (the answering sentence, quoted) and `.passages`."""
    return get_index(index).ask(question, k=k, history=history)
