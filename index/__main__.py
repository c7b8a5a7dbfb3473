"""Build and change an index from the command line.

    python -m index build [SOURCE ...] [--out DIR]   (re)build from files, folders or URLs (default: corpus/)
    python -m index add FILE_OR_FOLDER_OR_URL ... [--out DIR]   add documents, or replace changed ones
    python -m index refresh [--out DIR]               fetch the web documents again, re-embed the changed
    python -m index remove NAME ... [--out DIR]      remove documents by the name they are cited by
    python -m index list [--out DIR]                 what is indexed, when, and how many passages

build and add take `--ray [ADDRESS]`: read, split and embed on a Ray cluster (without ADDRESS, a
local one); the index is the one a local build makes. Put --ray last, or write --ray=ADDRESS.

Unchanged documents keep their vectors: only what is new or changed is embedded.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from index.build import BuildReport, add, build, remove
from index.fetch import FetchError, fetch_all, is_url
from index.refresh import RefreshReport, refresh
from qa import store
from qa.config import SETTINGS
from qa.errors import QAError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m index", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    build_cmd = commands.add_parser("build", help="build the index from SOURCE files or folders")
    build_cmd.add_argument(
        "sources", nargs="*", metavar="SOURCE", help=f"file, folder or URL; default: {SETTINGS.corpus_dir}"
    )
    add_cmd = commands.add_parser("add", help="add files, folders or web pages (http/https), replacing same-named ones")
    add_cmd.add_argument("paths", nargs="+", metavar="FILE_OR_FOLDER_OR_URL")
    remove_cmd = commands.add_parser("remove", help="remove documents by the name `list` shows")
    remove_cmd.add_argument("names", nargs="+", metavar="NAME")
    list_cmd = commands.add_parser("list", help="list the indexed documents")
    refresh_cmd = commands.add_parser("refresh", help="fetch every web document again; re-embed those that changed")
    for command in (build_cmd, add_cmd, remove_cmd, list_cmd, refresh_cmd):
        command.add_argument("--out", type=Path, default=SETTINGS.index_dir, metavar="DIR", help="default: %(default)s")
    for command in (build_cmd, add_cmd, remove_cmd, refresh_cmd):
        command.add_argument("--quiet", action="store_true", help="no progress bars")
    for command in (build_cmd, add_cmd):
        command.add_argument(
            "--ray",
            nargs="?",
            const="",
            metavar="ADDRESS",
            help="run on the Ray cluster at ADDRESS (host:port), or on a local one without ADDRESS",
        )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    # The libraries' own chatter about a page they could not parse repeats what the skip warning says.
    for name in ("faiss", "pypdf", "trafilatura", "htmldate", "courlan"):
        logging.getLogger(name).setLevel(logging.ERROR)

    try:
        if args.command == "list":
            print(_listing(args.out))
            return 0
        if args.command == "refresh":
            refreshed = refresh(args.out, progress=not args.quiet)
            for url, reason in refreshed.failed.items():
                print(f"warning: kept {url} as indexed: {reason}", file=sys.stderr)
            print(_refreshed(refreshed, args.out))
            return 0
        if args.command == "remove":
            report = remove(args.names, args.out, progress=not args.quiet)
        else:
            with tempfile.TemporaryDirectory(prefix="qa-fetch-") as folder, _engine(args.ray) as engine:
                if args.command == "build":
                    sources = _sources(args.sources, Path(folder), args.quiet)
                    report = build(sources or None, args.out, progress=not args.quiet, engine=engine)
                else:
                    sources = _sources(args.paths, Path(folder), args.quiet)
                    report = add(sources, args.out, progress=not args.quiet, engine=engine)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except QAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        # Nothing is published until a build is whole, so the index serving before is still there.
        print(f"interrupted: {args.out} is as it was", file=sys.stderr)
        return 130
    if report.full_rebuild_reason:
        print(f"full rebuild: {report.full_rebuild_reason}", file=sys.stderr)
    print(_summary(report, args.out))
    if args.command != "build":
        _warn_if_default_will_undo(args.out)
    return 0


def _engine(ray_address: str | None) -> contextlib.AbstractContextManager[Any]:
    """Where the build runs: a Ray cluster if --ray was given (the connection closed after), else here."""
    if ray_address is None:
        return contextlib.nullcontext(None)
    try:
        from index.distributed import RayEngine

        return RayEngine(ray_address or None)
    except ImportError:
        raise QAError("--ray needs Ray: `pip install -r requirements-ray.txt`") from None
    except ConnectionError as exc:
        raise QAError(f"cannot reach the Ray cluster at {ray_address!r}: {exc}") from None


def _sources(items: Sequence[str], folder: Path, quiet: bool) -> list:
    """Paths as they are, web addresses fetched into `folder`; one line per address that failed.

    With nothing left to build from, the fetch errors are the error: one line, index untouched.
    """
    urls = [i for i in items if is_url(i)]
    with tqdm(total=len(urls), desc="Fetching", unit="page", disable=quiet or len(urls) < 2) as bar:
        files, failed = fetch_all(urls, folder, lambda _stage, done, _total: bar.update(done - bar.n))
    if failed and not files and len(urls) == len(items):
        reasons = "; ".join(f"{url}: {reason}" for url, reason in failed.items())
        raise FetchError(f"{reasons}; the index is unchanged")
    for url, reason in failed.items():
        print(f"warning: skipped {url}: {reason}", file=sys.stderr)
    return [Path(i) for i in items if not is_url(i)] + files


def _refreshed(report: RefreshReport, out: Path) -> str:
    if report.build is None:
        return f"checked {report.checked} web documents: none changed; {out} is unchanged"
    changed = f"checked {report.checked} web documents, {len(report.changed)} changed: {', '.join(report.changed)}"
    return f"{changed}\n{_summary(report.build, out)}"


def _summary(report: BuildReport, out: Path) -> str:
    removed = f"removed {', '.join(report.removed)}; " if report.removed else ""
    return (
        f"{removed}indexed {report.documents} documents, {report.passages} passages "
        f"({report.read} documents read, {report.embedded} passages embedded, {report.reused} reused, "
        f"{len(report.skipped)} files skipped) in {report.seconds:.1f}s -> {out}"
    )


def _listing(out: Path) -> str:
    """The documents of the index at `out`: name, passages, when indexed, title; then totals."""
    data = store.load(out)  # validates the whole index, so a damaged one is reported, not listed
    manifest = data.manifest
    documents = manifest["documents"]
    rows = [("NAME", "PASSAGES", "INDEXED", "TITLE")] + [
        (d["source"], str(d["passages"]), d.get("indexed_at", manifest["built_at"])[:16], d["title"]) for d in documents
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [f"{r[0]:<{widths[0]}}  {r[1]:>{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}" for r in rows]
    lines.append(
        f"{len(documents)} documents, {manifest['counts']['passages']} passages; "
        f"built {manifest['built_at']} with {manifest['model']}; at {store.resolve(out)}"
    )
    return "\n".join(lines)


def _warn_if_default_will_undo(out: Path) -> None:
    """Say so when an add or remove on the default index will be undone by its corpus check."""
    if out.absolute() != SETTINGS.index_dir.absolute():
        return
    from qa.default import stale_reason

    reason = stale_reason()
    if reason:
        print(
            f"warning: {out} is the default index, which follows {SETTINGS.corpus_dir} ({reason}), so it will "
            f"be rebuilt from there on next use; to keep this change, make it in {SETTINGS.corpus_dir} instead",
            file=sys.stderr,
        )


if __name__ == "__main__":
    sys.exit(main())
