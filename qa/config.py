"""All settings in one place: defaults, each overridable by an environment variable.

Read once at import; tests and scripts that need other values pass them explicitly
(e.g. `--index DIR`) rather than mutating these.
"""

from __future__ import annotations

import os
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, TypeVar

from qa.glossary import FILE as GLOSSARY

PACKAGE_ROOT = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_ROOT.parent
APP_NAME = "collective-leadership-qa"
# Run from the project folder (a checkout: pyproject.toml and corpus/ beside qa/), everything the
# service writes stays in its var/ as before. Installed with pip (qa/ inside site-packages, which
# has neither), there is no project folder to write to: the index, uploads and question log go in
# the user's data folder, the exported model in their cache folder (XDG), and the corpus is the
# article bundled with the package (qa/corpus/).
IN_PROJECT = (PROJECT_ROOT / "pyproject.toml").is_file() and (PROJECT_ROOT / "corpus").is_dir()


def _user_dir(variable: str, fallback: str) -> Path:
    """$`variable`/collective-leadership-qa, or ~/`fallback`/... when it is unset or relative (XDG's rule)."""
    base = os.environ.get(variable, "").strip()
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / fallback
    return root / APP_NAME


DATA_DIR = PROJECT_ROOT / "var" if IN_PROJECT else _user_dir("XDG_DATA_HOME", ".local/share")
CACHE_DIR = PROJECT_ROOT / "var" / "cache" if IN_PROJECT else _user_dir("XDG_CACHE_HOME", ".cache")
BUNDLED_CORPUS = PROJECT_ROOT / "corpus" if IN_PROJECT else PACKAGE_ROOT / "corpus"


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser() if value else default


T = TypeVar("T", int, float)


def _env_number(name: str, default: T, parse: Callable[[str], T], what: str) -> T:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return parse(value)
    except ValueError:
        raise ValueError(f"{name}={value!r} is not {what}; unset it or fix it") from None


def _env_int(name: str, default: int) -> int:
    return _env_number(name, default, int, "a whole number")


def _env_float(name: str, default: float) -> float:
    return _env_number(name, default, float, "a number")


def _env_list(name: str) -> tuple[str, ...]:
    """A comma- or space-separated setting as a tuple of its items."""
    return tuple(item for item in re.split(r"[,\s]+", os.environ.get(name, "")) if item)


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
    corpus_dir: Path = field(default_factory=lambda: _env_path("QA_CORPUS_DIR", BUNDLED_CORPUS))
    index_dir: Path = field(default_factory=lambda: _env_path("QA_INDEX_DIR", DATA_DIR / "index"))
    # The exported ONNX model is shared by every index built with the same weights.
    cache_dir: Path = field(default_factory=lambda: _env_path("QA_CACHE_DIR", CACHE_DIR))

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
    # Questions a server process searches and judges at once (ui/slots.py); the others wait their
    # turn, first come first served. Answering is CPU work: more at once than there are cores only
    # shares the cores out, and a question the reader reads then holds every other one back. One a
    # core in each worker process (`--workers N` sets cores / N) took the REST p95 from 1.9x the
    # p50 to 1.4x at the same throughput (bench/load.py).
    question_slots: int = field(default_factory=lambda: _env_int("QA_QUESTION_SLOTS", os.cpu_count() or 1))
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
    # Internal addresses a fetch may reach all the same (index/guard.py refuses loopback, private,
    # link-local and other non-public ones): networks (10.20.0.0/16), addresses or host names,
    # comma-separated. None by default, so an admin's typo cannot read the server's own network.
    fetch_allow: tuple[str, ...] = field(
        default_factory=lambda: tuple(e.strip() for e in os.environ.get("QA_FETCH_ALLOW", "").split(",") if e.strip())
    )

    # Who readers tell about an accessibility problem (an e-mail address, a web address or plain
    # words), named in the accessibility statement at /accessibility (ui/accessibility.py).
    contact: str = field(default_factory=lambda: os.environ.get("QA_CONTACT", "").strip())

    # The Library (admin page and API). No token: the admin routes are off.
    admin_token: str = field(default_factory=lambda: os.environ.get("QA_ADMIN_TOKEN", "").strip())
    # Uploaded files are kept here, so a later rebuild (`index build corpus UPLOADS`) still has them.
    upload_dir: Path = field(default_factory=lambda: _env_path("QA_UPLOAD_DIR", DATA_DIR / "uploads"))
    # One upload request at most (several files); each file at most `max_file_bytes`.
    upload_max_request_bytes: int = field(default_factory=lambda: _env_int("QA_UPLOAD_MAX_REQUEST_BYTES", 100_000_000))
    # A .docx is a zip: what it may inflate to, in all (a zip bomb is refused before it is read).
    docx_max_unzipped_bytes: int = field(default_factory=lambda: _env_int("QA_DOCX_MAX_UNZIPPED_BYTES", 100_000_000))

    # Security (ui/security.py). Who may frame the pages (CSP frame-ancestors: "'self'", or e.g.
    # "'self' https://intranet.example.nhs.uk" to embed the chat in an intranet page); HSTS only
    # behind TLS, where the browser should never again try plain http.
    frame_ancestors: str = field(default_factory=lambda: os.environ.get("QA_FRAME_ANCESTORS", "").strip() or "'self'")
    hsts: bool = field(default_factory=lambda: _env_flag("QA_HSTS", False))
    # Questions a second per client (chat and API), with bursts of three times that; 0 turns the
    # limit off. A person typing asks one every few seconds and clicks at most a handful of example
    # questions in a row, so 5 a second (15 at once) is never met by a reader, only by a script.
    rate_limit: float = field(default_factory=lambda: _env_float("QA_RATE_LIMIT", 5.0))
    # Addresses (CIDRs) of reverse proxies whose X-Forwarded-For is believed; nobody else's is.
    trusted_proxies: tuple[str, ...] = field(default_factory=lambda: _env_list("QA_TRUSTED_PROXIES"))
    # Wrong admin tokens from one client before it is locked out, and for how many seconds.
    admin_max_failures: int = field(default_factory=lambda: _env_int("QA_ADMIN_MAX_FAILURES", 5))
    admin_lockout_seconds: int = field(default_factory=lambda: _env_int("QA_ADMIN_LOCKOUT", 60))

    # The question log (qa/questionlog.py): what readers asked, how it was answered, their thumbs
    # up or down. No user name or address is ever stored; rows older than `log_days` are removed
    # each time a server (or `python -m qa report`) opens the log.
    log_enabled: bool = field(default_factory=lambda: _env_flag("QA_LOG", True))
    log_db: Path = field(default_factory=lambda: _env_path("QA_LOG_DB", DATA_DIR / "questions.db"))
    log_days: int = field(default_factory=lambda: _env_int("QA_LOG_DAYS", 90))

    # The keys of `splitter_id` that decide how a question's words meet an index's (what is
    # BM25-indexed, and the glossary both sides read through): an index built with others answers
    # worse, and says so when loaded.
    QUESTION_READING: ClassVar[tuple[str, ...]] = ("embedding_version", "glossary")

    def splitter_id(self) -> dict[str, int]:
        """What, besides the model, decides documents, passages and vectors.

        Recorded in each manifest, so an index built another way is rebuilt rather than mixed.
        Bump `reader_version` when a reader's output changes (index/read.py, index/formats.py,
        index/clean.py), `splitter_version` when index/split.py's does, and `embedding_version`
        when what is embedded or BM25-indexed changes (index/build.py, qa.lexical.tokenize).
        """
        return {
            "passage_chars": self.passage_chars,
            "sentence_chars": self.sentence_chars,
            "max_tokens": self.max_tokens,
            "splitter_version": 3,
            "reader_version": 5,
            "embedding_version": 7,
            # Edited by hand, so it is fingerprinted rather than versioned: BM25 reads through it.
            "glossary": zlib.crc32(GLOSSARY.read_bytes()),
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
