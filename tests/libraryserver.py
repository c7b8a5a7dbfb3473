"""A real FastAPI app with the Library mounted, served by uvicorn on 127.0.0.1 in a thread."""

from __future__ import annotations

import io
import shutil
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from tests.test_browser import free_port
from tests.test_formats import make_docx

TOKEN = "s3cret-admin-token"


def copy_index(built_index: Path, folder: Path) -> Path:
    """A private copy of the session's built index at `folder` (a test may change or rebuild it;
    the session's own must not change); returns the path to load it from."""
    shutil.copytree(built_index.parent, folder, symlinks=True)
    return folder / built_index.name


@contextmanager
def serve_app(app: FastAPI) -> Iterator[str]:
    """Serve `app` until the block ends; yields its address."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def make_docx_bomb(path: Path, inflated: int) -> Path:
    """A real .docx with one more part of `inflated` zero bytes (a few kB once deflated)."""
    make_docx(path)
    with (
        zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open("word/media/padding.bin", "w", force_zip64=True) as part,
    ):
        for _ in range(inflated >> 20):
            part.write(bytes(1 << 20))
    return path


def zip_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()
