"""The audit trail of admin actions: one JSON log line and one row in the question log each.

Each add, replace, remove and refresh of the Library (when its job ends, with how it ended) and
each wrong admin token is recorded as (time, action, target, result, client). The rows live in
the question-log database (`qa.questionlog`), so they are kept, and removed, with the questions;
with the question log off (QA_LOG=0) only the log lines remain.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from datetime import UTC, datetime

from qa.questionlog import AuditEntry, QuestionLog

audit_log = logging.getLogger("ui.audit")


class Audit:
    """Records admin actions to the `ui.audit` logger and, if there is one, the question log."""

    def __init__(self, question_log: QuestionLog | None) -> None:
        self.question_log = question_log

    def record(self, action: str, target: str, result: str, client: str) -> AuditEntry:
        """Record one action now; the entry is returned as it was written."""
        at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        entry = AuditEntry(at=at, action=action, target=target, result=result, client=client)
        audit_log.info(json.dumps(asdict(entry), ensure_ascii=False))
        if self.question_log is not None:
            self.question_log.audit(entry)
        return entry

    def recent(self, limit: int = 20) -> list[dict[str, str]]:
        """The latest `limit` entries as JSON objects, newest first ([] without a question log)."""
        if self.question_log is None:
            return []
        return [asdict(entry) for entry in self.question_log.audit_trail(limit)]
