"""`python -m ui [--index DIR] [--host 127.0.0.1] [--port 7860]`: serve the web chat.

Binds to loopback unless told otherwise. Set QA_UI_PASSWORD to require a login (user name
"nhs", or QA_UI_USER). Without --index the default index is used (QA_INDEX_DIR or the
project's own), built from corpus/ on first use.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

# Set before Gradio is imported: no usage reporting or version checks phoning home.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

log = logging.getLogger("ui")

DEFAULT_USER = "nhs"


def auth_from_env(env: Mapping[str, str]) -> list[tuple[str, str]] | None:
    """Gradio's `auth` from QA_UI_PASSWORD (and QA_UI_USER); None when no password is set."""
    password = env.get("QA_UI_PASSWORD", "")
    if not password:
        return None
    user = env.get("QA_UI_USER", "").strip() or DEFAULT_USER
    return [(user, password)]


def is_loopback(host: str) -> bool:
    """True when `host` is only reachable from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ui", description="Serve the web chat.")
    parser.add_argument("--index", type=Path, help="index directory (default: the default index)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=7860, help="port (default: 7860)")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=4,
        help="questions answered at the same time; others wait in the queue (default: 4)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Libraries that narrate routine work at INFO (CPU feature probing, every HTTP request).
    for noisy in ("faiss.loader", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if args.concurrency < 1:
        print("--concurrency must be at least 1", file=sys.stderr)
        return 2

    import qa
    from ui.app import build_app, launch

    try:
        index = qa.Index.load(args.index) if args.index else qa.default_index()
    except qa.QAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    auth = auth_from_env(os.environ)
    if not is_loopback(args.host) and auth is None:
        log.warning("serving on %s without a password; set QA_UI_PASSWORD to require one", args.host)
    demo = build_app(index)
    try:
        launch(demo, host=args.host, port=args.port, auth=auth, concurrency=args.concurrency)
    except OSError as exc:  # e.g. the port is taken
        print(f"error: cannot serve on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
