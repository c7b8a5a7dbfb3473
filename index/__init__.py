"""Offline: source files -> clean documents -> passages -> vectors -> an index on disk."""

from index.build import BuildReport, add, build, remove

__all__ = ["BuildReport", "add", "build", "remove"]
