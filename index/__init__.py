"""Offline: source files -> clean documents -> passages -> vectors -> an index on disk."""

from index.build import BuildReport, build

__all__ = ["BuildReport", "build"]
