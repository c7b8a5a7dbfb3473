"""The question log: what readers asked, how it was answered, and whether the answer helped.

One SQLite file (`QA_LOG_DB`, default var/questions.db) shared by every server process: WAL
mode lets readers run beside the one writer, and a busy timeout makes a writer wait its turn
rather than fail with "database is locked". Each row is one question: when, the question, the
answer's status, its top source and quote, how long answering took, which way in (chat or api),
and the reader's thumbs up or down. No user name, address or session is ever stored with a
question, and what identifies a person in the question (NHS numbers, e-mail addresses, phone
numbers, postcodes, dates of birth) is replaced by a marker before it is written (qa/redact.py).
A second table keeps the audit trail of the Library's admin actions (`audit`), with the admin's
address: who changed the content is a record an organisation must keep.
Rows older than `QA_LOG_DAYS` are removed whenever the log is opened (each server start), and
once a day by a running server.

    log = open_log()                           # None when QA_LOG=0
    row = log.record(question, answer, 0.012)  # the row id, or None if the write failed
    log.feedback(row, helpful=False)           # thumbs down
    log.report(judge=lambda q: index.ask(q).status)  # unanswered ones re-asked of the index now

Logging never breaks answering: a failed write is logged as a warning and the question is
answered as usual.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from difflib import SequenceMatcher
from pathlib import Path

from qa.config import SETTINGS, Settings
from qa.lexical import tokenize
from qa.redact import REDACTED, redact
from qa.types import ANSWERED, NOT_COVERED, RELATED, UNSURE, Answer

log = logging.getLogger(__name__)

# 2 added the audit table (every statement of _SCHEMA is IF NOT EXISTS, so a version 1 file
# simply gains it).
SCHEMA_VERSION = 2
# A writer waits this long for another process's write to finish before giving up on the row.
BUSY_SECONDS = 10.0
# Stored text is cut to these lengths: a log row is evidence of a question, not an archive.
QUESTION_CHARS = 1000
ANSWER_CHARS = 600
# Two wordings are the same question when their content words mostly agree, or when their text
# differs by little more than a typo (one word spelt differently).
SAME_WORDS = 0.75
SAME_TEXT = 0.9

_SCHEMA = """
CREATE TABLE IF NOT EXISTS questions (
    id          INTEGER PRIMARY KEY,
    asked_at    TEXT NOT NULL,             -- ISO-8601 UTC, sorts as text
    question    TEXT NOT NULL,
    status      TEXT NOT NULL,             -- answered | unsure | related | not_covered
    top_source  TEXT NOT NULL DEFAULT '',
    answer      TEXT NOT NULL DEFAULT '',  -- the quoted answer ('' when not answered)
    latency_ms  REAL NOT NULL,
    channel     TEXT NOT NULL DEFAULT '',  -- chat | api
    helpful     INTEGER,                   -- 1 thumbs up, 0 thumbs down, NULL no feedback
    feedback_at TEXT
);
CREATE INDEX IF NOT EXISTS questions_asked_at ON questions (asked_at);
CREATE TABLE IF NOT EXISTS audit (
    id      INTEGER PRIMARY KEY,
    at      TEXT NOT NULL,                 -- ISO-8601 UTC
    action  TEXT NOT NULL,                 -- add | replace | remove | refresh | token
    target  TEXT NOT NULL DEFAULT '',      -- the documents or addresses concerned
    result  TEXT NOT NULL DEFAULT '',      -- "done: ...", "failed: ...", "refused: ..."
    client  TEXT NOT NULL DEFAULT ''       -- the admin's address
);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
"""
# Stored audit text is cut to this length: a target can list fifty addresses.
AUDIT_CHARS = 500


def _now() -> datetime:
    return datetime.now(UTC)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class QuestionGroup:
    """One question as readers asked it, near-duplicate wordings folded in.

    `question` is the wording asked most often; `count` counts every asking of every wording;
    `variants` are the other wordings, most asked first. `status`, `top_source` and `answer`
    are those of the latest asking. `status_now` is the status the question gets from the index
    when the report was built ("" if it was not asked again).
    """

    question: str
    count: int
    last_asked: str
    status: str
    top_source: str = ""
    answer: str = ""
    variants: tuple[str, ...] = ()
    status_now: str = ""

    @property
    def answered_since(self) -> bool:
        """Listed as not answered when asked, but answered by the content now."""
        return self.status != ANSWERED and self.status_now == ANSWERED

    @property
    def outcome(self) -> str:
        """The outcome in words: the status when asked ("not covered"), or "answered since"."""
        return "answered since" if self.answered_since else self.status.replace("_", " ")


@dataclass(frozen=True)
class AuditEntry:
    """One admin action or failed admin-token attempt, as kept in the log."""

    at: str
    action: str
    target: str
    result: str
    client: str


@dataclass(frozen=True)
class Report:
    """What `python -m qa report` prints: unanswered questions, unhelpful answers, and the questions
    where the service was unsure (it showed the closest passages and left the judgement to the reader)."""

    since_days: float
    questions: int  # all questions asked in the period
    unanswered: list[QuestionGroup] = field(default_factory=list)
    unhelpful: list[QuestionGroup] = field(default_factory=list)
    unsure: list[QuestionGroup] = field(default_factory=list)
    keep_days: int = 90  # how long the log keeps a question (QA_LOG_DAYS)


def storage_note(keep_days: int) -> str:
    """What the report's readers are told about the stored questions: redacted, and kept how long.

    >>> note = storage_note(30)
    >>> note.startswith("Stored questions have NHS numbers, e-mail addresses, phone numbers"), note[-40:]
    (True, ' and are kept for 30 days (QA_LOG_DAYS).')
    """
    return f"Stored questions have {REDACTED} replaced by markers, and are kept for {keep_days} days (QA_LOG_DAYS)."


def normalise(question: str) -> str:
    """The question reduced to lower-case words, for spotting the same question typed again.

    >>> normalise("  What’s a  CCG?? ")
    "what's a ccg"
    """
    text = unicodedata.normalize("NFKC", question).casefold().replace("’", "'")
    return " ".join(re.findall(r"\w+(?:'\w+)*", text))


def _words(key: str) -> frozenset[str]:
    """The content words (stems) of a normalised question; all its words if it has none."""
    return frozenset(tokenize(key) or key.split())


def _near(a: str, words_a: frozenset[str], b: str, words_b: frozenset[str]) -> bool:
    if a == b or len(words_a & words_b) >= SAME_WORDS * len(words_a | words_b) > 0:
        return True
    if len(words_a ^ words_b) > 2:  # more than one word apart: no typo explains that
        return False
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    return (
        matcher.real_quick_ratio() >= SAME_TEXT and matcher.quick_ratio() >= SAME_TEXT and matcher.ratio() >= SAME_TEXT
    )


def _could_be_near(shared: int, size_a: int, size_b: int) -> bool:
    """Whether word sets of these sizes sharing `shared` words could pass `_near`'s word tests."""
    union = size_a + size_b - shared
    return shared >= SAME_WORDS * union or union - shared <= 2


def same_question(a: str, b: str) -> bool:
    """Whether two normalised questions are near-duplicates (see `SAME_WORDS`, `SAME_TEXT`).

    >>> same_question("what is a freedom to speak up guardian", "what is a freedom to speak up guardain")
    True
    >>> same_question("how many nhs trusts are there in england", "how many patients does the nhs treat")
    False
    """
    return _near(a, _words(a), b, _words(b))


@dataclass
class _Form:
    """All rows whose question normalises to `key`."""

    key: str
    words: frozenset[str]
    count: int = 0
    wordings: Counter[str] = field(default_factory=Counter)
    latest: tuple[str, str, str, str] = ("", "", "", "")  # asked_at, status, top_source, answer


def group_questions(rows: Iterable[tuple[str, str, str, str, str]]) -> list[QuestionGroup]:
    """Fold rows of (question, asked_at, status, top_source, answer) into near-duplicate groups.

    Most asked first (then most recently asked). Each wording joins the first group whose main
    wording it nearly duplicates, so a group never drifts away from its main wording. Only
    groups sharing a content word with it are compared, so thousands of questions take a moment.

    >>> rows = [("What is a CCG?", "2026-01-02", "related", "", ""), ("what is a ccg", "2026-01-03", "related", "", ""),
    ...         ("Who pays?", "2026-01-01", "not_covered", "", "")]
    >>> [(g.question, g.count, g.variants) for g in group_questions(rows)]
    [('What is a CCG?', 2, ('what is a ccg',)), ('Who pays?', 1, ())]
    """
    forms: dict[str, _Form] = {}
    for question, asked_at, status, top_source, answer in rows:
        key = normalise(question)
        form = forms.get(key)
        if form is None:
            form = forms[key] = _Form(key, _words(key))
        form.count += 1
        form.wordings[question] += 1
        form.latest = max(form.latest, (asked_at, status, top_source, answer))
    clusters: list[list[_Form]] = []  # each led by its main form
    by_word: dict[str, list[int]] = {}  # content word -> clusters whose main form has it
    for form in sorted(forms.values(), key=lambda f: (f.count, f.latest[0]), reverse=True):
        # Clusters sharing content words with this form, and how many: the word tests of `_near`
        # need only these counts, so most clusters are ruled out without comparing any text.
        shared = Counter(n for word in form.words for n in by_word.get(word, ()))
        home = next(
            (
                n
                for n in sorted(shared)
                if _could_be_near(shared[n], len(form.words), len(clusters[n][0].words))
                and _near(clusters[n][0].key, clusters[n][0].words, form.key, form.words)
            ),
            None,
        )
        if home is None:
            for word in form.words:
                by_word.setdefault(word, []).append(len(clusters))
            clusters.append([form])
        else:
            clusters[home].append(form)
    groups = []
    for members in clusters:
        wordings: Counter[str] = Counter()
        for form in members:
            wordings.update(form.wordings)
        asked_at, status, top_source, answer = max(form.latest for form in members)
        ranked = [w for w, _ in wordings.most_common()]
        groups.append(
            QuestionGroup(
                question=ranked[0],
                count=sum(form.count for form in members),
                last_asked=asked_at,
                status=status,
                top_source=top_source,
                answer=answer,
                variants=tuple(ranked[1:]),
            )
        )
    groups.sort(key=lambda g: (g.count, g.last_asked), reverse=True)
    return groups


Judge = Callable[[str], str]  # question -> its status from the index now


def rejudge(groups: list[QuestionGroup], judge: Judge | None) -> list[QuestionGroup]:
    """`groups` with each one's `status_now` from `judge`; those still unanswered first, each part
    in its order (most asked first). Unchanged without a judge.

    >>> groups = [QuestionGroup("Who?", 3, "", "related"), QuestionGroup("Why?", 1, "", "unsure")]
    >>> [(g.question, g.answered_since) for g in rejudge(groups, lambda q: "answered" if q == "Who?" else "related")]
    [('Why?', False), ('Who?', True)]
    """
    if judge is None:
        return groups
    judged = [replace(g, status_now=judge(g.question)) for g in groups]
    return sorted(judged, key=lambda g: g.answered_since)


class QuestionLog:
    """The log at `path`; opening it creates it if needed and removes rows older than `keep_days`.

    Safe to share between threads (one connection, used under a lock: each write takes tens of
    microseconds) and between processes (SQLite's WAL mode and busy timeout). A process forked
    after opening reconnects on its first write.
    """

    def __init__(self, path: str | os.PathLike[str], keep_days: int = 90):
        if keep_days < 1:
            raise ValueError(f"keep_days (QA_LOG_DAYS) must be at least 1, not {keep_days}")
        self.path = Path(path)
        self.keep_days = keep_days
        self._lock = threading.Lock()
        self._pid = -1
        self._connection: sqlite3.Connection | None = None
        self._purged_on = ""  # the UTC day old rows were last removed
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock:
                self._purge(self._connect())
        except (OSError, sqlite3.Error) as exc:
            raise OSError(f"cannot open the question log {self.path}: {exc}; set QA_LOG_DB to a writable file") from exc

    def _purge(self, connection: sqlite3.Connection) -> None:
        """Remove rows older than `keep_days` (call with the lock held)."""
        now = _now()
        cutoff = _stamp(now - timedelta(days=self.keep_days))
        removed = connection.execute("DELETE FROM questions WHERE asked_at < ?", (cutoff,)).rowcount
        connection.execute("DELETE FROM audit WHERE at < ?", (cutoff,))
        self._purged_on = now.date().isoformat()
        if removed:
            log.info("question log: removed %d questions older than %d days", removed, self.keep_days)

    def _connect(self) -> sqlite3.Connection:
        """This process's connection (call with the lock held)."""
        if self._connection is not None and self._pid == os.getpid():
            return self._connection
        # Autocommit: every statement is its own short transaction, so a writer holds the lock
        # only for one INSERT or UPDATE and never upgrades a read lock (which WAL cannot wait on).
        connection = sqlite3.connect(self.path, timeout=BUSY_SECONDS, isolation_level=None, check_same_thread=False)
        connection.execute(f"PRAGMA busy_timeout = {int(BUSY_SECONDS * 1000)}")
        connection.execute("PRAGMA journal_mode = WAL")
        # In WAL mode NORMAL loses nothing on a crash of the process, only perhaps the last rows
        # on a power cut, and spares an fsync on every question.
        connection.execute("PRAGMA synchronous = NORMAL")
        if connection.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
            connection.executescript(_SCHEMA + f"PRAGMA user_version = {SCHEMA_VERSION};")
        self._connection, self._pid = connection, os.getpid()
        return connection

    def _write(self, sql: str, values: tuple) -> sqlite3.Cursor | None:
        try:
            with self._lock:
                connection = self._connect()
                # A server running for months still keeps nothing older than `keep_days`.
                if self._purged_on != _now().date().isoformat():
                    self._purge(connection)
                return connection.execute(sql, values)
        except sqlite3.Error as exc:
            log.warning("question log %s: write failed: %s", self.path, exc)
            return None

    def record(self, question: str, answer: Answer, latency: float, channel: str = "chat") -> int | None:
        """Store one answered question; `latency` in seconds. Returns the row id (None if not stored).

        The question is stored redacted (qa.redact), cut to QUESTION_CHARS after redaction so
        that no identifier is cut in two and kept in part.
        """
        top_source = answer.passages[0].source if answer.passages else ""
        quote = answer.text[:ANSWER_CHARS] if answer.status == ANSWERED else ""
        cursor = self._write(
            "INSERT INTO questions (asked_at, question, status, top_source, answer, latency_ms, channel)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                _stamp(_now()),
                redact(question.strip())[:QUESTION_CHARS],
                answer.status,
                top_source,
                quote,
                latency * 1000,
                channel,
            ),
        )
        return cursor.lastrowid if cursor is not None else None

    def feedback(self, row_id: int, helpful: bool | None) -> bool:
        """Record a thumbs up (True), down (False) or its withdrawal (None); False if no such row."""
        cursor = self._write(
            "UPDATE questions SET helpful = ?, feedback_at = ? WHERE id = ?",
            (None if helpful is None else int(helpful), _stamp(_now()), int(row_id)),
        )
        return cursor is not None and cursor.rowcount == 1

    def audit(self, entry: AuditEntry) -> bool:
        """Keep one admin action (its text cut to AUDIT_CHARS); False if the write failed."""
        cursor = self._write(
            "INSERT INTO audit (at, action, target, result, client) VALUES (?, ?, ?, ?, ?)",
            tuple(value[:AUDIT_CHARS] for value in (entry.at, entry.action, entry.target, entry.result, entry.client)),
        )
        return cursor is not None

    def audit_trail(self, limit: int = 50) -> list[AuditEntry]:
        """The latest `limit` admin actions, newest first."""
        with self._lock:
            rows = (
                self._connect()
                .execute("SELECT at, action, target, result, client FROM audit ORDER BY id DESC LIMIT ?", (limit,))
                .fetchall()
            )
        return [AuditEntry(*row) for row in rows]

    def _rows(self, where: str, since: datetime) -> list[tuple[str, str, str, str, str]]:
        with self._lock:
            return (
                self._connect()
                .execute(
                    "SELECT question, asked_at, status, top_source, answer FROM questions"
                    f" WHERE asked_at >= ? AND {where}",
                    (_stamp(since),),
                )
                .fetchall()
            )

    def count(self, since_days: float | None = None) -> int:
        """How many questions were logged in the last `since_days` days (all kept ones if None)."""
        since = _now() - timedelta(days=since_days or self.keep_days)
        with self._lock:
            return (
                self._connect()
                .execute("SELECT count(*) FROM questions WHERE asked_at >= ?", (_stamp(since),))
                .fetchone()[0]
            )

    def unanswered(self, since_days: float | None = None) -> list[QuestionGroup]:
        """Questions the content does not answer (related or not covered), grouped, most asked first."""
        since = _now() - timedelta(days=since_days or self.keep_days)
        return group_questions(self._rows(f"status IN ('{RELATED}', '{NOT_COVERED}')", since))

    def unsure(self, since_days: float | None = None) -> list[QuestionGroup]:
        """Questions the service was unsure of (a reader had to judge the closest passage), grouped."""
        since = _now() - timedelta(days=since_days or self.keep_days)
        return group_questions(self._rows(f"status = '{UNSURE}'", since))

    def unhelpful(self, since_days: float | None = None) -> list[QuestionGroup]:
        """Questions whose answer a reader marked unhelpful (thumbs down), grouped, most marked first."""
        since = _now() - timedelta(days=since_days or self.keep_days)
        return group_questions(self._rows("helpful = 0", since))

    def report(self, since_days: float | None = None, judge: Judge | None = None) -> Report:
        """The three lists and the number of questions asked, over the last `since_days` days.

        With a `judge` (question -> the status the index gives it now), each unanswered and each
        unsure question is asked again, so one the content answers since it was asked shows as
        answered since.
        """
        days = since_days or self.keep_days
        return Report(
            days,
            self.count(days),
            unanswered=rejudge(self.unanswered(days), judge),
            unhelpful=self.unhelpful(days),
            unsure=rejudge(self.unsure(days), judge),
            keep_days=self.keep_days,
        )

    def close(self) -> None:
        with self._lock:
            if self._connection is not None and self._pid == os.getpid():
                self._connection.close()
            self._connection = None


def open_log(settings: Settings = SETTINGS) -> QuestionLog | None:
    """The log `settings` describe (`QA_LOG_DB`, `QA_LOG_DAYS`), or None when `QA_LOG=0`."""
    if not settings.log_enabled:
        return None
    return QuestionLog(settings.log_db, settings.log_days)
