"""Offline: source files -> clean documents -> passages -> vectors -> an index on disk."""

from index.build import BuildReport, add, build, remove
from index.refresh import RefreshReport, refresh

__all__ = ["BuildReport", "RefreshReport", "add", "build", "refresh", "remove"]
