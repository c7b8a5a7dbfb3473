"""The Library: admins add, replace and remove documents in the browser or through the API.

`mount_library(app, index_path)` adds to a FastAPI app (the chat's own server):

- `GET /library`: the page (plain HTML and JavaScript): the admin enters the token once, then
  uploads files (several at once, or dropped on the page), adds web addresses, sees every
  document and replaces or removes it, each change a job with a progress bar;
- `GET /api/v1/library`: the documents, recent jobs and the audit trail, for the page;
- `POST /api/v1/documents` (multipart field `files`, with `replace` naming the document a single
  file replaces; or JSON `{"urls": [...]}`) -> 202 `{"job", "refused"}`;
- `DELETE /api/v1/documents/{source}` -> 202 `{"job"}`;
- `GET /api/v1/jobs/{job}` -> `{"state", "progress", "stage", "warnings", "error", "summary", ...}`;
- `POST /api/v1/refresh` -> 202 `{"job"}`: fetch every web document again, re-embed the changed.

All but the page need `Authorization: Bearer <QA_ADMIN_TOKEN>`: 401 without it, 403 with a
wrong one, and nothing changes; with no token configured every Library route answers 404. A
client that sends QA_ADMIN_MAX_FAILURES wrong tokens in a row is refused (429) for
QA_ADMIN_LOCKOUT seconds. Every change and every wrong token is recorded (`ui.audit`) and the
latest are listed with the jobs.
Errors are `{"error": "..."}`. Changes run one at a time (`ui.jobs`) through the index
package's `add`/`remove`/`fetch`, which publish a new index atomically: the chat answers from
the current index until then. Uploaded files are checked (`ui.uploads`) before they are
written, staged, and kept in the upload folder once indexed, so a later rebuild still has them.
A document is cited by its file's name as uploaded; the kept file has a safe name
(`ui.uploads.stored_name`). Each job says what became of each file (added, replaced, unchanged,
refused and why) and sums up in a content owner's words ("2 files read, 12 passages added").
"""

from __future__ import annotations

import hmac
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from index.build import BuildReport, add, remove
from index.fetch import FetchError, fetch_all
from index.refresh import refresh
from qa import Index, get_index, store
from qa.config import SETTINGS
from qa.errors import BuildError, IndexBusyError, QAError
from qa.questionlog import Judge, QuestionLog
from qa.sources import SourceFile
from ui.audit import Audit
from ui.jobs import ADDED, REFUSED, REPLACED, UNCHANGED, FileResult, Job, JobQueue, Outcome, Report, Work, alive
from ui.report import report_html
from ui.rest import ErrorOut
from ui.security import Clients, Lockout, retry_after
from ui.uploads import Limits, Refused, check, stored_name

log = logging.getLogger(__name__)

PAGE = Path(__file__).with_name("library.html")
# Where files are uploaded: the server's general body limit leaves it to the Library's own limits.
UPLOADS = "/api/v1/documents"
_MAX_URLS = 50
# An address the Library fetches, as the API declares and checks it: http or https, a host, no
# white space (the page splits its box on white space, so a script gets the same rule).
WEB_ADDRESS = r"[Hh][Tt][Tt][Pp][Ss]?://[^\s/?#]+[^\s]*"
_MAX_FILES = 50
_INCOMING = ".incoming"  # staging folder inside the upload folder (hidden: never indexed by a build of it)
_JOBS = ".jobs"
# Another process (a CLI build, another server worker) may hold the index's build lock: wait for it.
_BUSY_WAIT_SECONDS = 30 * 60


def mount_library(
    app: FastAPI,
    index_path: Path,
    *,
    admin_token: str | None = None,
    upload_dir: Path | None = None,
    limits: Limits | None = None,
    jobs: JobQueue | None = None,
    question_log: QuestionLog | None = None,
    index: Index | None = None,
    clients: Clients | None = None,
    lockout: Lockout | None = None,
) -> None:
    """Add the Library's page and admin API to `app`, changing the index at `index_path`.

    With a `question_log`, the page also shows what readers asked that the content does not
    answer, and the answers they marked unhelpful (`GET /api/v1/report`); each unanswered
    question is asked again of `index` (the one serving `index_path`; default: loaded from it),
    so one the content answers since shows as answered since. The audit trail of admin actions
    is kept in the log too. `clients` tells admins' addresses apart (behind trusted proxies);
    `lockout` counts their wrong tokens.

    Defaults come from qa/config.py: QA_ADMIN_TOKEN, QA_UPLOAD_DIR, QA_MAX_FILE_BYTES,
    QA_UPLOAD_MAX_REQUEST_BYTES, QA_DOCX_MAX_UNZIPPED_BYTES.
    """
    upload_dir = Path(upload_dir or SETTINGS.upload_dir)
    library = _Library(
        index_path=Path(index_path),
        token=SETTINGS.admin_token if admin_token is None else admin_token,
        upload_dir=upload_dir,
        limits=limits
        or Limits(SETTINGS.max_file_bytes, SETTINGS.upload_max_request_bytes, SETTINGS.docx_max_unzipped_bytes),
        # Job states are kept beside the uploads, so every worker process can report on any job.
        jobs=jobs or JobQueue(folder=upload_dir / _JOBS),
        question_log=question_log,
        index=index,
        audit=Audit(question_log),
        clients=clients or Clients.from_settings(()),
        lockout=lockout or Lockout(),
    )
    library.clear_stale_staging()
    before = list(app.router.routes)
    app.add_api_route("/library", library.page, methods=["GET"], include_in_schema=False)
    admin = {"tags": ["library"], "openapi_extra": {"security": [{"HTTPBearer": []}]}}
    app.add_api_route("/api/v1/library", library.listing, methods=["GET"], responses=_errors(), **admin)
    app.add_api_route(
        UPLOADS,
        library.post_documents,
        methods=["POST"],
        status_code=202,
        responses=_errors(400, 411, 413, 415, 422, accepted=True),
        tags=["library"],
        openapi_extra={"security": [{"HTTPBearer": []}], "requestBody": _UPLOAD_BODY},
    )
    app.add_api_route(
        "/api/v1/documents/{source:path}",
        library.delete_document,
        methods=["DELETE"],
        status_code=202,
        responses=_errors(accepted=True),
        **admin,
    )
    app.add_api_route("/api/v1/jobs/{job}", library.job, methods=["GET"], responses=_errors(), **admin)
    app.add_api_route("/api/v1/report", library.report, methods=["GET"], responses=_errors(422), **admin)
    app.add_api_route(
        "/api/v1/refresh",
        library.refresh_web,
        methods=["POST"],
        status_code=202,
        responses=_errors(409, accepted=True),
        **admin,
    )
    # First in line, so a catch-all mounted earlier (the Gradio chat at "/") does not shadow them.
    added = [r for r in app.router.routes if r not in before]
    app.router.routes[:] = added + before


_ERROR_TEXT = {
    400: "the request cannot be used (the message says why); nothing changed",
    401: "the admin token is needed: Authorization: Bearer <QA_ADMIN_TOKEN>",
    403: "wrong admin token",
    404: "the Library is off (no QA_ADMIN_TOKEN), or no such document or job",
    411: "the request has no Content-Length",
    413: "the upload is too large",
    415: "neither multipart/form-data nor JSON",
    409: "the index has no web documents",
    422: "a parameter is out of bounds, or more than 50 addresses",
    429: "too many wrong admin tokens from this client: wait for Retry-After seconds",
}
_JOB = {"type": "object", "properties": {"job": {"type": "string"}}, "required": ["job"]}
# The two forms POST /api/v1/documents takes, as they are checked (see _add_urls, _add_files).
_UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {
                    "files": {"type": "array", "items": {"type": "string", "format": "binary"}, "minItems": 1},
                    "replace": {"type": "string", "description": "the document a single file replaces"},
                },
                "required": ["files"],
            },
        },
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {
                    "urls": {
                        "type": "array",
                        "items": {"type": "string", "pattern": f"^{WEB_ADDRESS}$"},
                        "minItems": 1,
                        "maxItems": _MAX_URLS,
                    }
                },
                "required": ["urls"],
            }
        },
    },
}


def _errors(*codes: int, accepted: bool = False) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI responses of an admin route: its own error `codes`, those every one has, and 202."""
    responses: dict[int | str, dict[str, Any]] = {
        code: {"model": ErrorOut, "description": _ERROR_TEXT[code]} for code in sorted({401, 403, 404, 429, *codes})
    }
    if accepted:
        responses[202] = {
            "description": "the change is queued as a job",
            "content": {"application/json": {"schema": _JOB}},
        }
    return responses


def error(status: int, message: str, headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    if status == 401:
        headers = {"WWW-Authenticate": "Bearer", **(headers or {})}
    return JSONResponse({"error": message, **extra}, status_code=status, headers=headers)


@dataclass
class _Library:
    """The Library's routes over one index, one upload folder and one job queue."""

    index_path: Path
    token: str
    upload_dir: Path
    limits: Limits
    jobs: JobQueue
    question_log: QuestionLog | None
    audit: Audit
    clients: Clients
    lockout: Lockout
    index: Index | None = None
    # The build the statuses were judged on, and {question: status} (see `_judge`).
    _judged: tuple[str, dict[str, str]] = field(default_factory=lambda: ("", {}), repr=False)

    def _judge(self) -> Judge | None:
        """Asks a question of the index now, for its status; each question once per build of it.

        The page loads the report after every change, and asking takes ~0.1 s a question: the
        statuses are kept until the next build. None if the index cannot be loaded (the report is
        still worth having, as the questions were judged when asked).
        """
        try:
            index = self.index or get_index(self.index_path)
            # Each build is published as a new folder: it names the build (build times are to the second).
            built = str(store.resolve(index.path))
        except (QAError, OSError) as exc:
            log.warning("the report's unanswered questions are not asked again: %s", exc)
            return None
        if self._judged[0] != built:
            self._judged = (built, {})
        statuses = self._judged[1]

        def judge(question: str) -> str:
            if question not in statuses:
                statuses[question] = index.ask(question).status
            return statuses[question]

        return judge

    def clear_stale_staging(self) -> None:
        """Remove staging folders left by a server that stopped mid-job.

        A staging folder is named after the process staging it ("<pid>-..."): one whose process
        is gone (or is this one, just started, so not its job) is no one's. Those of other live
        server workers sharing the folder are theirs, mid-job, and stay.
        """
        incoming = self.upload_dir / _INCOMING
        if not incoming.is_dir():
            return
        for folder in incoming.iterdir():
            owner = folder.name.split("-", 1)[0]
            if not owner.isdigit() or int(owner) == os.getpid() or not alive(int(owner)):
                log.info("removing the staging folder %s of a job that did not finish", folder)
                shutil.rmtree(folder, ignore_errors=True)

    # --- access -------------------------------------------------------------------------------

    def _refuse(self, request: Request) -> JSONResponse | None:
        """The error response for a request that is not an admin's, or None for an admin's."""
        if not self.token:
            return error(404, "the Library is off: set QA_ADMIN_TOKEN on the server to turn it on")
        client = self._client(request)
        if locked := self.lockout.remaining(client):
            return error(
                429,
                f"too many wrong admin tokens from {client}: try again in {retry_after(locked)} s",
                headers={"Retry-After": retry_after(locked)},
            )
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            return error(401, "the Library needs the admin token: send 'Authorization: Bearer <QA_ADMIN_TOKEN>'")
        if not hmac.compare_digest(given.strip().encode(), self.token.encode()):
            self.lockout.failed(client)
            self.audit.record("token", f"{request.method} {request.url.path}", "refused: wrong admin token", client)
            return error(403, "wrong admin token")
        self.lockout.succeeded(client)
        return None

    def _client(self, request: Request) -> str:
        return self.clients.address(request.client.host if request.client else None, request.headers)

    def _submit(
        self, request: Request, action: str, target: str, work: Work, files: list[FileResult] | None = None
    ) -> Job:
        """Queue `work` as the job "<Action> <target>"; when it ends, the audit trail says how."""
        client = self._client(request)

        def audited(report: Report) -> Outcome:
            try:
                outcome = work(report)
            except Exception as exc:
                lines = str(exc).strip().splitlines()
                self.audit.record(action, target, f"failed: {lines[0] if lines else type(exc).__name__}", client)
                raise
            self.audit.record(action, target, f"done: {outcome.summary}", client)
            return outcome

        return self.jobs.submit(f"{action.capitalize()} {target}", audited, files)

    # --- routes -------------------------------------------------------------------------------

    async def page(self) -> Response:
        if not self.token:
            return HTMLResponse(
                "<!doctype html><title>Library</title><p>The Library is off: the server has no QA_ADMIN_TOKEN.</p>",
                status_code=404,
            )
        return HTMLResponse(PAGE.read_text(encoding="utf-8"), headers={"Cache-Control": "no-store"})

    async def listing(self, request: Request) -> Response:
        if refused := self._refuse(request):
            return refused
        manifest = store.read_manifest(self.index_path) or {"documents": []}
        return JSONResponse(
            {
                "documents": [self._document(d) for d in manifest["documents"]],
                "built_at": manifest.get("built_at"),
                "limits": {"file_bytes": self.limits.file_bytes, "request_bytes": self.limits.request_bytes},
                "jobs": self.jobs.recent_json(20),
                "audit": self.audit.recent(20),
            }
        )

    async def report(
        self, request: Request, since: Annotated[float | None, Query(gt=0, le=36500, description="days")] = None
    ) -> Response:
        """What readers asked that the content does not answer, and the answers marked unhelpful."""
        if refused := self._refuse(request):
            return refused
        if self.question_log is None:
            return error(404, "questions are not logged on this server (QA_LOG=0)")
        # Asking each question again takes a moment: off the event loop, so the server keeps serving.
        found = await run_in_threadpool(self.question_log.report, since, self._judge())
        return JSONResponse({**asdict(found), "html": report_html(found)})

    async def job(self, request: Request, job: str) -> Response:
        if refused := self._refuse(request):
            return refused
        found = self.jobs.describe(job)
        return JSONResponse(found) if found else error(404, f"no job {job!r}")

    async def post_documents(self, request: Request) -> Response:
        if refused := self._refuse(request):
            return refused
        kind = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        declared = request.headers.get("Content-Length", "")
        if not declared.isdigit():  # the size is checked before the body is read, so it must be stated
            return error(411, "send the request with a Content-Length")
        if int(declared) > self.limits.request_bytes:
            return error(
                413,
                f"the upload is {int(declared):,} bytes, over the {self.limits.request_bytes:,}-byte limit per request",
            )
        if kind == "application/json":
            return await self._add_urls(request)
        if kind == "multipart/form-data":
            return await self._add_files(request)
        return error(415, 'send multipart/form-data with files in the field "files", or JSON {"urls": [...]}')

    async def delete_document(self, request: Request, source: str) -> Response:
        if refused := self._refuse(request):
            return refused
        if source not in self._sources():
            return error(404, f"{source!r} is not in the index")

        def work(report: Report) -> Outcome:
            result = _when_free(report, lambda: remove([source], self.index_path, progress=False, on_progress=report))
            kept = self._kept(source)
            if kept is not None:
                kept.unlink(missing_ok=True)  # else a rebuild of the upload folder would bring it back
            return Outcome(f"{source} removed; {_library_now(result)}")

        return self._accepted(self._submit(request, "remove", source, work))

    async def refresh_web(self, request: Request) -> Response:
        """Fetch every web document again; re-embed those whose content changed."""
        if refused := self._refuse(request):
            return refused
        if not _web_documents(self.index_path):
            return error(409, "the index has no web documents to fetch again")

        def work(report: Report) -> Outcome:
            result = _when_free(report, lambda: refresh(self.index_path, progress=False, on_progress=report))
            warnings = [f"{url}: {reason}; kept as indexed" for url, reason in result.failed.items()]
            if result.build is None:
                return Outcome(f"{_count(result.checked, 'web page')} checked: none changed", warnings)
            changed = f"{len(result.changed)} of {_count(result.checked, 'web page')} changed"
            return Outcome(f"{changed}; {_summary(result.build, 'web page')}", warnings)

        return self._accepted(self._submit(request, "refresh", "the web documents", work))

    # --- adding -------------------------------------------------------------------------------

    async def _add_urls(self, request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return error(400, "the body is not valid JSON")
        urls = body.get("urls") if isinstance(body, dict) else None
        if not isinstance(urls, list) or not urls or not all(isinstance(u, str) for u in urls):
            return error(400, 'send {"urls": ["https://...", ...]}: a list of web addresses')
        if len(urls) > _MAX_URLS:
            return error(422, f"{len(urls)} addresses: at most {_MAX_URLS} at once")
        bad = [u for u in urls if not re.fullmatch(WEB_ADDRESS, u)]
        if bad:
            listed = "; ".join(repr(u) for u in bad)
            advice = "correct or remove it" if len(bad) == 1 else "correct or remove them"
            return error(400, f"only http and https addresses can be added, so none was: {listed}; {advice}")
        urls = list(dict.fromkeys(urls))

        def work(report: Report) -> Outcome:
            with tempfile.TemporaryDirectory(prefix="qa-fetch-") as folder:
                files, failed = fetch_all(urls, Path(folder), report)
                if not files:
                    reasons = "; ".join(f"{url}: {reason}" for url, reason in failed.items())
                    raise FetchError(f"{reasons}; the index is unchanged")
                before = self._digests()
                result = _when_free(report, lambda: add(files, self.index_path, progress=False, on_progress=report))
            results = [FileResult(url, REFUSED, reason) for url, reason in failed.items()]
            results += self._results(files, before, result)
            return Outcome(_summary(result, "web page", results), files=results)

        return self._accepted(self._submit(request, "add", ", ".join(urls), work))

    async def _add_files(self, request: Request) -> Response:
        form = await request.form(max_files=_MAX_FILES, max_fields=10)
        try:
            uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
            replace = form.get("replace")
            if not uploads:
                return error(400, 'no files: send them in the multipart field "files"')
            replace = replace if isinstance(replace, str) else ""
            if replace and len(uploads) != 1:
                return error(400, "replace takes exactly one file")
            if replace and replace not in self._sources():
                return error(404, f"{replace!r} is not in the index, so there is nothing to replace")
            accepted, refused = await self._check(uploads, replace)
        finally:
            await form.close()
        refused_json = [{"name": r.name, "reason": r.reason} for r in refused]
        if not accepted:
            reasons = "; ".join(f"{r.name}: {r.reason}" for r in refused)
            return error(400, f"no file can be used ({reasons}); the index is unchanged", refused=refused_json)
        staging = self._stage(accepted)
        files = [SourceFile(staging / stored, cited) for cited, stored, _ in accepted]

        def work(report: Report) -> Outcome:
            try:
                before = self._digests()
                result = _when_free(report, lambda: add(files, self.index_path, progress=False, on_progress=report))
                for file in files:
                    if str(file.path) not in result.skipped:
                        self.upload_dir.mkdir(parents=True, exist_ok=True)
                        file.path.replace(self.upload_dir / file.path.name)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
            results = self._results(files, before, result)
            return Outcome(_summary(result, "file", results), files=results)

        names = ", ".join(cited for cited, _, _ in accepted)
        action = "replace" if replace else "add"
        return self._accepted(self._submit(request, action, names, work, refused), refused=refused_json)

    async def _check(
        self, uploads: list[UploadFile], replace: str
    ) -> tuple[list[tuple[str, str, bytes]], list[FileResult]]:
        """(cited name, stored name, bytes) of each usable upload, and the others refused with the reason."""
        accepted: list[tuple[str, str, bytes]] = []
        refused: list[FileResult] = []
        sources = self._sources()
        for upload in uploads:
            raw = upload.filename or ""
            data = await upload.read(self.limits.file_bytes + 1)
            try:
                if replace:
                    # The replacement takes the document's name; its content must suit that name.
                    check(Path(replace).name, data, self.limits, upload.size)
                    cited = replace
                else:
                    cited = check(raw, data, self.limits, upload.size)
                stored = stored_name(Path(cited).name)
                if any(stored == s for _, s, _ in accepted):
                    raise Refused("another file in this upload has the same name")
                # Two names that differ only in unsafe characters share a stored name: one would
                # overwrite the other's kept file.
                clash = next((s for s in sources if s != cited and stored_name(Path(s).name) == stored), None)
                if clash:
                    raise Refused(f"too like the name of {clash!r} already in the library; rename the file")
            except Refused as exc:
                refused.append(FileResult(raw, REFUSED, str(exc)))
                continue
            accepted.append((cited, stored, data))
        return accepted, refused

    def _stage(self, accepted: list[tuple[str, str, bytes]]) -> Path:
        """Write the accepted uploads into a fresh staging folder inside the upload folder."""
        incoming = self.upload_dir / _INCOMING
        incoming.mkdir(parents=True, exist_ok=True)
        # Named after this process, so a restarted server knows the folder is no live job's.
        staging = Path(tempfile.mkdtemp(dir=incoming, prefix=f"{os.getpid()}-")).resolve()
        for _, stored, data in accepted:
            target = (staging / stored).resolve()
            if target.parent != staging:  # cited_name forbids it; a second guard costs nothing
                raise BuildError(f"refusing to write {stored!r} outside the upload folder")
            target.write_bytes(data)
        return staging

    def _sources(self) -> set[str]:
        """The cited names of the documents in the index now."""
        return set(self._digests())

    def _digests(self) -> dict[str, str]:
        """{cited name: content hash} of the documents in the index now."""
        manifest = store.read_manifest(self.index_path) or {"documents": []}
        return {d["source"]: d.get("sha256", "") for d in manifest["documents"]}

    def _results(self, files: list[SourceFile], before: dict[str, str], result: BuildReport) -> list[FileResult]:
        """What became of each file of an add, from the index's documents before and after it."""
        manifest = store.read_manifest(self.index_path) or {"documents": []}
        after = {d["source"]: d for d in manifest["documents"]}
        results = []
        for file in files:
            reason = result.skipped.get(str(file.path))
            document = after.get(file.name, {})
            if reason is not None or not document:
                results.append(FileResult(file.name, REFUSED, reason or "not in the index after the change"))
                continue
            if before.get(file.name) == document.get("sha256"):
                outcome = UNCHANGED
            else:
                outcome = REPLACED if file.name in before else ADDED
            results.append(
                FileResult(file.name, outcome, passages=document.get("passages", 0), pages=document.get("pages", 0))
            )
        return results

    def _kept(self, source: str) -> Path | None:
        """The kept upload of the document `source`, if it came from the upload folder."""
        name = Path(source).name
        path = self.upload_dir / stored_name(name) if name else None
        return path if path is not None and path.is_file() else None

    def _document(self, entry: dict[str, Any]) -> dict[str, Any]:
        metadata = entry.get("metadata", {})
        return {
            "source": entry["source"],
            "title": entry.get("title") or entry["source"],
            "author": metadata.get("author", ""),
            "date": metadata.get("date", ""),
            "url": metadata.get("url", ""),
            "publisher": metadata.get("publisher", ""),
            "passages": entry.get("passages", 0),
            "added": entry.get("indexed_at", ""),
            "uploaded": self._kept(entry["source"]) is not None,
        }

    @staticmethod
    def _accepted(job: Job, **extra: Any) -> JSONResponse:
        return JSONResponse({"job": job.id, **extra}, status_code=202)


def _when_free(report: Report, change: Callable[[], BuildReport]) -> BuildReport:
    """Run `change`, waiting while another process holds the index's build lock."""
    deadline = time.monotonic() + _BUSY_WAIT_SECONDS
    while True:
        try:
            return change()
        except IndexBusyError:
            if time.monotonic() > deadline:
                raise
            report("Waiting for another build of the index", 0, 0)
            time.sleep(1)


def _count(n: int, noun: str) -> str:
    """ "1 file", "2 files": counts as people write them."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _summary(report: BuildReport, noun: str, files: Sequence[FileResult] = ()) -> str:
    """What a change did, in a content owner's words: "2 files read (4 pages), 12 passages added; ..."."""
    pages = sum(f.pages for f in files if f.outcome in (ADDED, REPLACED))
    read = f"{_count(report.read, noun)} read" + (f" ({_count(pages, 'page')})" if pages else "")
    # The passages embedded are exactly those of the documents read: the ones added by the change.
    return f"{read}, {_count(report.embedded, 'passage')} added; {_library_now(report)}"


def _library_now(report: BuildReport) -> str:
    return f"the library now has {_count(report.documents, 'document')}, {_count(report.passages, 'passage')}"


def _web_documents(index_path: Path) -> list[str]:
    manifest = store.read_manifest(index_path) or {"documents": []}
    return [d["source"] for d in manifest["documents"] if d.get("metadata", {}).get("url")]
