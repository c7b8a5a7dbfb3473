"""Web addresses as sources: fetch an http(s) page or PDF safely, hand it to the readers as a file.

A fetch is bounded in every way a remote server can misbehave: the whole fetch (not each read)
has a deadline, the body a size cap (checked against Content-Length before reading, and while
reading), redirects a count (each hop's scheme checked again), and the content type must be
HTML or PDF, with a PDF recognised by its bytes as well (servers label downloads loosely).
Any other scheme (file:, ftp:, data:, ...) is refused before anything is opened.

Every connection, redirects included, goes only to an address the fetch guard (index/guard.py)
accepts: the host name is resolved once, each address it resolves to is checked, and the socket
is opened to a checked address, while the Host header, TLS SNI and certificate verification
keep the name. No proxy from the environment is used: it would connect where no check can see.

The fetched bytes are written to a file named for the address's last segment and the content
type, so the usual readers (trafilatura for HTML, pypdf for PDF) read it; the document is cited
by the address as given and carries "url" (where it was finally fetched from), "fetched_at",
"updated" (the day of the server's Last-Modified header, if it sends one: shown as "updated",
never as a publication date) and, for a page, "publisher" (its og:site_name / trafilatura's site
name) as metadata.
"""

from __future__ import annotations

import email.utils
import functools
import http.client
import ipaddress
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from index.guard import AddressRefused, Allowance, check, literal_address, parse_allowance
from qa.config import SETTINGS
from qa.errors import QAError
from qa.sources import SourceFile

SCHEMES = ("http", "https")
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_PDF_TYPES = ("application/pdf", "application/x-pdf")
_LOOSE_TYPES = ("application/octet-stream", "binary/octet-stream", "")  # a PDF download is often so labelled
_CHUNK = 64 * 1024
_USER_AGENT = "collective-leadership-qa/0.1 (document indexer)"
# "http:", "https:", "file:", "ftp:" ... but not a Windows drive ("C:") or a plain relative path.
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")


class FetchError(QAError):
    """A web address that could not be fetched or used; the message names it and says why."""


@dataclass(frozen=True)
class Fetched:
    """One fetched resource: the address asked for, where it ended up, what came back."""

    url: str
    final_url: str
    kind: str  # "html" or "pdf"
    data: bytes
    fetched_at: str  # ISO-8601 UTC, to the second
    charset: str = ""  # as the Content-Type header declared it
    updated: str = ""  # the day the server's Last-Modified header gives (YYYY-MM-DD), if any


def is_url(text: str | Path) -> bool:
    """True for anything written as an address with a scheme (http:, file:, ftp: ...), not a path."""
    return isinstance(text, str) and bool(_SCHEME.match(text))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are followed by `fetch` itself, so each hop is counted and its scheme checked."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _connector(allowance: Allowance) -> Callable[..., socket.socket]:
    """`socket.create_connection` with the guard: check every address, then connect to one of them.

    The name is looked up once and the socket opened to the address checked, so a DNS server
    cannot answer a public address to the check and an internal one to the connection. All
    addresses are checked before any is tried: a name resolving to a public and an internal
    address is refused, whichever would have answered first.
    """

    def connect(address: tuple[str, int], timeout: object = None, source_address: object = None) -> socket.socket:
        host, port = address
        literal = literal_address(host)
        if literal is not None:  # any spelling (2130706433, 0177.0.0.1): connect to what was checked
            family = socket.AF_INET if literal.version == 4 else socket.AF_INET6
            targets = [(family, socket.SOCK_STREAM, 0, (str(literal), port))]
        else:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            targets = [(family, kind, proto, sockaddr) for family, kind, proto, _, sockaddr in found]
        for *_, sockaddr in targets:
            check(host, ipaddress.ip_address(sockaddr[0]), allowance)
        failure: OSError = OSError(f"{host} has no address")
        for family, kind, proto, sockaddr in targets:
            sock = socket.socket(family, kind, proto)
            try:
                if isinstance(timeout, int | float):  # else http.client's "no timeout given"
                    sock.settimeout(timeout)
                if source_address:
                    sock.bind(source_address)
                sock.connect(sockaddr)
                return sock
            except OSError as exc:
                failure = exc
                sock.close()
        raise failure

    return connect


class _Guarded:
    """An http.client connection whose socket is opened by `_connector`."""

    def __init__(self, *args: object, allowance: Allowance, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # http.client opens every socket through this attribute (3.11 to 3.13), and HTTPS then
        # wraps that socket in TLS for `self.host`, the name; tests/test_fetch_guard.py would fail
        # at once if a later Python bypassed it.
        self._create_connection = _connector(allowance)


class _GuardedHTTP(_Guarded, http.client.HTTPConnection):
    pass


class _GuardedHTTPS(_Guarded, http.client.HTTPSConnection):
    pass


class _GuardedHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, allowance: Allowance) -> None:
        super().__init__()
        self.allowance = allowance

    def http_open(self, req):
        return self.do_open(functools.partial(_GuardedHTTP, allowance=self.allowance), req)


class _GuardedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, allowance: Allowance) -> None:
        super().__init__()
        self.allowance = allowance

    def https_open(self, req):
        # The default context verifies the certificate against the host name, sent as SNI.
        return self.do_open(functools.partial(_GuardedHTTPS, allowance=self.allowance), req, context=self._context)


def _opener(allowance: Allowance) -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(
        urllib.request.ProxyHandler({}), _NoRedirect, _GuardedHTTPHandler(allowance), _GuardedHTTPSHandler(allowance)
    )


def fetch(
    url: str,
    *,
    timeout: float | None = None,
    max_bytes: int | None = None,
    max_redirects: int | None = None,
) -> Fetched:
    """Fetch `url` (http or https only); raise FetchError with one line saying what went wrong.

    Defaults come from QA_FETCH_TIMEOUT (seconds for the whole fetch), QA_FETCH_MAX_BYTES and
    QA_FETCH_MAX_REDIRECTS; internal addresses are refused unless QA_FETCH_ALLOW names them.
    """
    timeout = SETTINGS.fetch_timeout if timeout is None else timeout
    max_bytes = SETTINGS.fetch_max_bytes if max_bytes is None else max_bytes
    max_redirects = SETTINGS.fetch_max_redirects if max_redirects is None else max_redirects
    try:
        opener = _opener(parse_allowance(SETTINGS.fetch_allow))
    except ValueError as exc:
        raise FetchError(f"{url}: {exc}") from None
    deadline = time.monotonic() + timeout
    current, seen = url, [url]
    try:
        while True:
            _check_scheme(url, current)
            request = urllib.request.Request(
                current, headers={"User-Agent": _USER_AGENT, "Accept": "text/html, application/pdf"}
            )
            try:
                response = opener.open(request, timeout=_remaining(deadline))
            except urllib.error.HTTPError as exc:
                if exc.code not in (301, 302, 303, 307, 308) or not exc.headers.get("Location"):
                    raise FetchError(f"{url}: the server answered HTTP {exc.code} {exc.reason}") from None
                exc.close()
                current = urllib.parse.urljoin(current, exc.headers["Location"])
                if current in seen:
                    raise FetchError(f"{url}: redirect loop ({' -> '.join([*seen[-3:], current])})") from None
                seen.append(current)
                if len(seen) > max_redirects + 1:
                    raise FetchError(f"{url}: more than {max_redirects} redirects (QA_FETCH_MAX_REDIRECTS)") from None
                continue
            with response:
                kind = _kind(url, response.headers.get_content_type() if response.headers.get("Content-Type") else "")
                declared = response.headers.get("Content-Length")
                if declared and declared.isdigit() and int(declared) > max_bytes:
                    raise FetchError(_too_large(url, int(declared), max_bytes))
                data = _read(response, url, deadline, max_bytes)
                charset = response.headers.get_content_charset() or ""
                updated = _day(response.headers.get("Last-Modified", ""))
            break
    except FetchError:
        raise
    except AddressRefused as exc:
        raise FetchError(
            f"{url}{_redirected(url, current)}: {exc}, which is not fetched unless QA_FETCH_ALLOW allows it"
        ) from None
    except (TimeoutError, _Deadline):
        raise FetchError(f"{url}: no complete answer within {timeout:g}s (QA_FETCH_TIMEOUT)") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            raise FetchError(f"{url}: no complete answer within {timeout:g}s (QA_FETCH_TIMEOUT)") from None
        raise FetchError(f"{url}: cannot connect ({getattr(reason, 'strerror', None) or reason})") from None
    except (OSError, ValueError) as exc:  # reset connections, malformed addresses or answers
        raise FetchError(f"{url}: fetch failed ({type(exc).__name__}: {exc})") from None
    if data.startswith(b"%PDF-"):
        kind = "pdf"
    elif kind == "pdf":
        raise FetchError(f"{url}: labelled a PDF, but it is not one")
    elif kind == "":
        raise FetchError(f"{url}: the server did not say what it sent, and it is not a PDF")
    fetched_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return Fetched(
        url=url, final_url=current, kind=kind, data=data, fetched_at=fetched_at, charset=charset, updated=updated
    )


def _day(http_date: str) -> str:
    """The day of an HTTP date (a Last-Modified header) as YYYY-MM-DD, or "" if it is not one.

    >>> _day("Wed, 21 Oct 2015 07:28:00 GMT"), _day("yesterday")
    ('2015-10-21', '')
    """
    try:
        return email.utils.parsedate_to_datetime(http_date).date().isoformat()
    except (TypeError, ValueError, IndexError):
        return ""


class _Deadline(Exception):
    pass


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise _Deadline
    return left


def _check_scheme(url: str, current: str) -> None:
    parts = urllib.parse.urlsplit(current)
    if parts.scheme.lower() not in SCHEMES:
        scheme = parts.scheme or "a path"
        raise FetchError(f"{url}{_redirected(url, current)}: only http and https addresses can be added, not {scheme}:")
    if not parts.hostname:
        raise FetchError(f"{url}: no host in the address")


def _redirected(url: str, current: str) -> str:
    return "" if current == url else f" (redirected to {current})"


def _kind(url: str, content_type: str) -> str:
    """ "html", "pdf", or "" (unlabelled: only a PDF's bytes can vouch for it); refuse the rest."""
    if content_type in _HTML_TYPES:
        return "html"
    if content_type in _PDF_TYPES:
        return "pdf"
    if content_type in _LOOSE_TYPES:
        return ""
    raise FetchError(f"{url}: {content_type} is not a web page (HTML) or a PDF, which are what can be added")


def _read(response, url: str, deadline: float, max_bytes: int) -> bytes:
    """The body, a chunk at a time as it arrives, so a trickling server still meets the deadline."""
    chunks: list[bytes] = []
    size = 0
    while chunk := response.read1(_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(_too_large(url, None, max_bytes))
        chunks.append(chunk)
        _remaining(deadline)
    return b"".join(chunks)


def _too_large(url: str, size: int | None, max_bytes: int) -> str:
    stated = f"{size:,} bytes" if size is not None else "larger than that"
    return f"{url}: {stated} is over the {max_bytes:,}-byte limit (QA_FETCH_MAX_BYTES)"


def publisher_of(data: bytes) -> str:
    """The site a page says it belongs to (og:site_name, or what trafilatura finds), or ""."""
    import trafilatura
    from trafilatura.metadata import extract_metadata

    tree = trafilatura.load_html(data)
    if tree is None:
        return ""
    return (extract_metadata(tree).sitename or "").strip()


def _as_utf8(data: bytes, charset: str) -> bytes:
    """A page in the character set its server declared, as UTF-8 (the HTML reader guesses otherwise).

    >>> _as_utf8("£5 – it’s".encode("cp1252"), "windows-1252").decode("utf-8")
    '£5 – it’s'
    """
    try:
        data.decode("utf-8")
        return data
    except UnicodeDecodeError:
        pass
    try:
        return data.decode(charset).encode("utf-8") if charset else data
    except (LookupError, UnicodeDecodeError):
        return data


def save(fetched: Fetched, folder: Path) -> SourceFile:
    """Write `fetched` into `folder` as a file the readers take, cited by its address."""
    path = urllib.parse.urlsplit(fetched.final_url).path
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", Path(urllib.parse.unquote(path)).stem).strip("-")[:80]
    stem = stem or re.sub(r"[^A-Za-z0-9_-]+", "-", urllib.parse.urlsplit(fetched.final_url).hostname or "page")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{stem}.{fetched.kind}"
    n = 1
    while target.exists():  # several addresses may end in the same segment
        n += 1
        target = folder / f"{stem}-{n}.{fetched.kind}"
    target.write_bytes(_as_utf8(fetched.data, fetched.charset) if fetched.kind == "html" else fetched.data)
    metadata = {"url": fetched.final_url, "fetched_at": fetched.fetched_at}
    if fetched.updated:  # the server's word on when the page last changed: shown as "updated", never "published"
        metadata["updated"] = fetched.updated
    publisher = publisher_of(fetched.data) if fetched.kind == "html" else ""
    if publisher:
        metadata["publisher"] = publisher
    return SourceFile(target, fetched.url, metadata)


def fetch_all(
    urls: Sequence[str], folder: Path, on_progress: Callable[[str, int, int], None] | None = None
) -> tuple[list[SourceFile], dict[str, str]]:
    """Fetch each address into `folder`: the files fetched, and {address: reason} for those that failed.

    A failure does not stop the others; the caller says what failed.
    """
    files: list[SourceFile] = []
    failed: dict[str, str] = {}
    for done, url in enumerate(urls):
        if on_progress:
            on_progress("Fetching", done, len(urls))
        try:
            files.append(save(fetch(url), folder))
        except FetchError as exc:
            failed[url] = str(exc).removeprefix(f"{url}: ")
    if on_progress:
        on_progress("Fetching", len(urls), len(urls))
    return files, failed
