"""`python -m ui [--index DIR] [--host 127.0.0.1] [--port 7860] [--workers N] [--no-auth]`: the web app.

Serves the chat at "/" and the REST API, health, metrics and MCP (/mcp) beside it (see
`ui.server`). Binds to loopback unless told otherwise; any other address needs a password
(QA_UI_PASSWORD, user "nhs" or QA_UI_USER) or an explicit `--no-auth` (behind a proxy that
authenticates). Without --index the default index is used (QA_INDEX_DIR, else var/index in the
project folder, or the user's data folder when installed with pip: see qa.config), built from
the corpus on first use. `--workers N` runs N server processes on the one port (see `ui.workers`).
Installed with pip, the command is `qa-serve`.
"""

from __future__ import annotations

import argparse
import gc
import ipaddress
import logging
import os
import socket
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


def exposure_problem(host: str, auth: list[tuple[str, str]] | None, no_auth: bool) -> str:
    """Why serving on `host` as configured would be unsafe ("" if it is not)."""
    if is_loopback(host) or auth is not None or no_auth:
        return ""
    return (
        f"--host {host} makes the chat and the API reachable from other machines, and no password is set: "
        "set QA_UI_PASSWORD (and QA_UI_USER), or pass --no-auth if a proxy in front authenticates users"
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ui", description="Serve the web chat.")
    parser.add_argument("--index", type=Path, help="index directory (default: the default index)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=7860, help="port (default: 7860)")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=4,
        help="chat questions answered at the same time per process; others wait in the queue (default: 4)",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="server processes on the one port, over the same index (default: 1)"
    )
    parser.add_argument(
        "--no-auth", action="store_true", help="serve a non-loopback --host without a password (a proxy authenticates)"
    )
    # Internal: the Unix socket over which `--workers`' front hands this worker its connections.
    parser.add_argument("--worker-fd", type=int, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on `host`:`port` (OSError if the port is taken)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Libraries that narrate routine work at INFO (CPU feature probing, every HTTP request).
    for noisy in ("faiss.loader", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if args.concurrency < 1 or args.workers < 1:
        print("--concurrency and --workers must be at least 1", file=sys.stderr)
        return 2
    auth = auth_from_env(os.environ)
    problem = exposure_problem(args.host, auth, args.no_auth)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    if args.worker_fd is not None:
        return _serve(args, auth, None)
    if args.workers > 1 and args.index is None:
        # Built (if stale) once here, not raced by N workers.
        from qa.default import ensure_default_index

        ensure_default_index()
    try:
        listener = bind(args.host, args.port)
    except OSError as exc:  # e.g. the port is taken
        print(f"error: cannot serve on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    log.info("serving on http://%s:%d with %d worker(s)", args.host, args.port, args.workers)
    if args.workers > 1:
        from ui.workers import run_workers

        worker_args = [*(["--index", str(args.index)] if args.index else []), "--concurrency", str(args.concurrency)]
        with listener:
            return run_workers(listener, args.workers, [*worker_args, "--host", args.host, "--no-auth"])
    return _serve(args, auth, listener)


def _serve(args: argparse.Namespace, auth: list[tuple[str, str]] | None, listener: socket.socket | None) -> int:
    """Load the index and serve the app on `listener`, or as a worker on the connections handed to it."""
    import uvicorn

    import qa
    from ui.server import create_app

    try:
        index = qa.serving_index(args.index)
    except qa.QAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    # The 240,000 objects loaded by now (the index, Gradio, FastAPI) live as long as the process;
    # frozen, the collector no longer walks them, which cost about 170 ms a full collection:
    # a pause in every question then being answered.
    gc.freeze()
    try:
        app = create_app(
            index,
            auth=auth,
            api_token=os.environ.get("QA_API_TOKEN", "").strip() or None,
            concurrency=args.concurrency,
        )
    except ValueError as exc:  # a setting out of range (QA_RATE_LIMIT, QA_TRUSTED_PROXIES): one line, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.worker_fd is not None:
        from ui.workers import serve_handed

        serve_handed(app, args.worker_fd)
        return 0
    config = uvicorn.Config(app, log_config=None, access_log=False, timeout_graceful_shutdown=5)
    uvicorn.Server(config).run(sockets=[listener])
    return 0


if __name__ == "__main__":
    sys.exit(main())
