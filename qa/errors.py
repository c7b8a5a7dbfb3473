"""Errors the service raises on purpose: one line each, saying what to do."""


class QAError(Exception):
    """Base of every error the service raises on purpose (safe to show a person)."""


class IndexNotFoundError(QAError):
    """There is no index at the given path."""


class IndexCorruptError(QAError):
    """The index on disk is damaged, truncated, inconsistent or from another format version."""


class IndexBusyError(QAError):
    """Another build of the same index is running."""


class BuildError(QAError):
    """A build could not produce an index (e.g. no usable document); the old index is untouched."""
