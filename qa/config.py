"""All settings in one place: defaults, each overridable by an environment variable.

Read once at import; tests and scripts that need other values pass them explicitly
(e.g. `--index DIR`) rather than mutating these.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser() if value else default


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name}={value!r} is not a whole number; unset it or fix it") from None


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name}={value!r} is not 0 or 1; unset it or fix it")


@dataclass(frozen=True)
class Settings:
    # Where things live.
    corpus_dir: Path = field(default_factory=lambda: _env_path("QA_CORPUS_DIR", PROJECT_ROOT / "corpus"))
    index_dir: Path = field(default_factory=lambda: _env_path("QA_INDEX_DIR", PROJECT_ROOT / "var" / "index"))
    # The exported ONNX model is shared by every index built with the same weights.
    cache_dir: Path = field(default_factory=lambda: _env_path("QA_CACHE_DIR", PROJECT_ROOT / "var" / "cache"))

    # Passages: whole sentences, at most this many characters (one longer sentence stands alone).
    passage_chars: int = field(default_factory=lambda: _env_int("QA_PASSAGE_CHARS", 600))
    # ... up to this many: a longer sentence (a line without full stops) is cut into pieces, so
    # no passage, and no highlight, is longer. 1,000 keeps 10,233 of SQuAD's 10,236 sentences whole.
    sentence_chars: int = field(default_factory=lambda: _env_int("QA_SENTENCE_CHARS", 1000))
    # Tokens the model sees per text; all-MiniLM-L6-v2 was trained with 256 at most.
    max_tokens: int = 256
    # Longer questions are cut to this many characters rather than refused.
    question_chars: int = field(default_factory=lambda: _env_int("QA_QUESTION_CHARS", 1000))
    # A follow-up is searched with at most this many earlier questions, each cut to this many
    # characters: older turns rarely help, and a request's history then costs nothing however long.
    history_turns: int = field(default_factory=lambda: _env_int("QA_HISTORY_TURNS", 3))
    history_chars: int = field(default_factory=lambda: _env_int("QA_HISTORY_CHARS", 300))
    # Passages one question may ask for.
    max_k: int = 100
    # Source files larger than this are skipped with a warning.
    max_file_bytes: int = field(default_factory=lambda: _env_int("QA_MAX_FILE_BYTES", 20_000_000))
    # Model threads for a question and for a build. On a quiet 2-core machine two threads encode
    # a question in 2.5 ms against 3.5-4.8 ms for one; on a crowded one a single thread keeps the
    # p95 steadier (bench/speed.py --threads 1), so a busy shared server may set 1. A build runs
    # that many batches at once, one thread each (see qa/embed.py).
    query_threads: int = field(default_factory=lambda: _env_int("QA_QUERY_THREADS", min(os.cpu_count() or 1, 4)))
    build_threads: int = field(default_factory=lambda: _env_int("QA_BUILD_THREADS", min(os.cpu_count() or 1, 4)))
    # Exact search up to this many passages; an approximate (HNSW) index above. Exact search
    # costs 2.6 ms a question at 20k passages and 64 ms at 200k; HNSW stays under 1 ms with
    # recall@10 >= 0.96 at 1M (bench/scale.py).
    exact_search_limit: int = field(default_factory=lambda: _env_int("QA_EXACT_LIMIT", 20_000))
    # The REST API (ui/rest.py): the largest request body, passages per question and earlier
    # questions it takes; whether the access log may hold question text (personal data, off by default).
    api_max_body_bytes: int = field(default_factory=lambda: _env_int("QA_API_MAX_BODY", 65_536))
    api_max_k: int = 20
    api_max_history: int = 20
    log_questions: bool = field(default_factory=lambda: os.environ.get("QA_LOG_QUESTIONS", "").strip() == "1")

    # Web pages (`index add URL`, the Library): seconds for the whole fetch (a server that
    # trickles bytes is cut off too), the largest page taken, redirects followed.
    fetch_timeout: float = field(default_factory=lambda: float(_env_int("QA_FETCH_TIMEOUT", 20)))
    fetch_max_bytes: int = field(default_factory=lambda: _env_int("QA_FETCH_MAX_BYTES", 20_000_000))
    fetch_max_redirects: int = field(default_factory=lambda: _env_int("QA_FETCH_MAX_REDIRECTS", 5))

    # The Library (admin page and API). No token: the admin routes are off.
    admin_token: str = field(default_factory=lambda: os.environ.get("QA_ADMIN_TOKEN", "").strip())
    # Uploaded files are kept here, so a later rebuild (`index build corpus UPLOADS`) still has them.
    upload_dir: Path = field(default_factory=lambda: _env_path("QA_UPLOAD_DIR", PROJECT_ROOT / "var" / "uploads"))
    # One upload request at most (several files); each file at most `max_file_bytes`.
    upload_max_request_bytes: int = field(default_factory=lambda: _env_int("QA_UPLOAD_MAX_REQUEST_BYTES", 100_000_000))
    # A .docx is a zip: what it may inflate to, in all (a zip bomb is refused before it is read).
    docx_max_unzipped_bytes: int = field(default_factory=lambda: _env_int("QA_DOCX_MAX_UNZIPPED_BYTES", 100_000_000))

    # The question log (qa/questionlog.py): what readers asked, how it was answered, their thumbs
    # up or down. No user name or address is ever stored; rows older than `log_days` are removed
    # each time a server (or `python -m qa report`) opens the log.
    log_enabled: bool = field(default_factory=lambda: _env_flag("QA_LOG", True))
    log_db: Path = field(default_factory=lambda: _env_path("QA_LOG_DB", PROJECT_ROOT / "var" / "questions.db"))
    log_days: int = field(default_factory=lambda: _env_int("QA_LOG_DAYS", 90))

    def splitter_id(self) -> dict[str, int]:
        """What, besides the model, decides documents, passages and vectors.

        Recorded in each manifest, so an index built another way is rebuilt rather than mixed.
        Bump `reader_version` when a reader's output changes (index/read.py, index/formats.py,
        index/clean.py), `splitter_version` when index/split.py's does, and `embedding_version`
        when what is embedded or BM25-indexed changes (index/build.py).
        """
        return {
            "passage_chars": self.passage_chars,
            "sentence_chars": self.sentence_chars,
            "max_tokens": self.max_tokens,
            "splitter_version": 3,
            "reader_version": 5,
            "embedding_version": 2,
        }

    # The site's name in the page title and heading (default: from what is indexed, see ui.site),
    # and the example questions it offers (QA_EXAMPLES, separated by "|"; default: the bundled
    # article's, while the article is indexed).
    site_title: str = field(default_factory=lambda: os.environ.get("QA_SITE_TITLE", "").strip())
    configured_examples: tuple[str, ...] = field(
        default_factory=lambda: tuple(q.strip() for q in os.environ.get("QA_EXAMPLES", "").split("|") if q.strip())
    )
    # How long a server waits for another process's build of the default index (qa.default).
    build_wait_seconds: int = field(default_factory=lambda: _env_int("QA_BUILD_WAIT", 900))

    examples: tuple[str, ...] = (
        "What is collective leadership?",
        "Who is accountable under collective leadership?",
        "What should I do if a senior colleague behaves unsafely?",
        "Why is collective leadership about reinforcing values?",
    )


# The bundled article (corpus/): its own site title and example questions are the defaults.
ARTICLE_SOURCE = "michael-west-collective-leadership-for-culture-change.txt"
ARTICLE_SITE_TITLE = "Ask about collective leadership"

SETTINGS = Settings()
