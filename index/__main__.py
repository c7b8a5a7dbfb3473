"""`python -m index build [SOURCE ...] [--out DIR]`: (re)build an index from files or folders."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from index.build import build
from qa.config import SETTINGS
from qa.errors import QAError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m index", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    build_cmd = commands.add_parser("build", help="build the index from SOURCE files or folders")
    build_cmd.add_argument("sources", nargs="*", type=Path, metavar="SOURCE", help=f"default: {SETTINGS.corpus_dir}")
    build_cmd.add_argument("--out", type=Path, default=SETTINGS.index_dir, metavar="DIR", help="default: %(default)s")
    build_cmd.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    logging.getLogger("faiss").setLevel(logging.WARNING)

    try:
        report = build(args.sources or None, args.out, progress=not args.quiet)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except QAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if report.full_rebuild_reason:
        print(f"full rebuild: {report.full_rebuild_reason}", file=sys.stderr)
    print(
        f"indexed {report.documents} documents, {report.passages} passages "
        f"({report.embedded} embedded, {report.reused} reused, {len(report.skipped)} files skipped) "
        f"in {report.seconds:.1f}s -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
