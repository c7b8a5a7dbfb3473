"""The fetch guard: internal addresses refused in every spelling, on every connection (redirects
included), with the connection made to the address checked; QA_FETCH_ALLOW lets one through.

Only 127.0.0.1 is ever contacted (tests/webserver.py); every other range and spelling is tested
on the address check itself, without any connection.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import ssl
import subprocess
import sys
from pathlib import Path

import pytest

from index.__main__ import main as index_main
from index.fetch import FetchError, fetch
from index.guard import AddressRefused, Allowance, check, literal_address, parse_allowance
from qa import store
from qa.config import Settings
from tests.conftest import allow_fetch
from tests.test_library import ADMIN, index_copy, library, wait  # noqa: F401 (fixtures)
from tests.webserver import ARTICLE_PAGE, Route, serve

ROOT = Path(__file__).resolve().parent.parent

# (spelling in an address, the address it means, why it is refused)
INTERNAL = [
    ("127.0.0.1", "127.0.0.1", "loopback"),
    ("127.1", "127.0.0.1", "loopback"),
    ("2130706433", "127.0.0.1", "loopback"),
    ("0177.0.0.1", "127.0.0.1", "loopback"),
    ("017700000001", "127.0.0.1", "loopback"),
    ("0x7f.0.0.1", "127.0.0.1", "loopback"),
    ("0x7f000001", "127.0.0.1", "loopback"),
    ("127.255.255.254", "127.255.255.254", "loopback"),
    ("[::1]", "::1", "loopback"),
    ("[::ffff:127.0.0.1]", "::ffff:127.0.0.1", "loopback"),
    ("[::ffff:7f00:1]", "::ffff:127.0.0.1", "loopback"),
    ("[2002:7f00:1::]", "2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
    ("10.0.0.1", "10.0.0.1", "private"),
    ("167772161", "10.0.0.1", "private"),
    ("172.16.0.1", "172.16.0.1", "private"),
    ("172.31.255.255", "172.31.255.255", "private"),
    ("192.168.1.1", "192.168.1.1", "private"),
    ("0300.0250.1.1", "192.168.1.1", "private"),
    ("[fc00::1]", "fc00::1", "private"),
    ("[fd12:3456::1]", "fd12:3456::1", "private"),
    ("[::ffff:10.1.2.3]", "::ffff:10.1.2.3", "private"),
    ("169.254.169.254", "169.254.169.254", "link-local"),
    ("2852039166", "169.254.169.254", "link-local"),
    ("[fe80::1]", "fe80::1", "link-local"),
    ("[64:ff9b::a9fe:a9fe]", "64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of the metadata service
    ("0.0.0.0", "0.0.0.0", "unspecified"),
    ("0", "0.0.0.0", "unspecified"),
    ("[::]", "::", "unspecified"),
    ("224.0.0.1", "224.0.0.1", "multicast"),
    ("239.255.255.250", "239.255.255.250", "multicast"),
    ("[ff02::1]", "ff02::1", "multicast"),
    ("240.0.0.1", "240.0.0.1", "reserved"),
    ("255.255.255.255", "255.255.255.255", "reserved"),
    ("100.64.0.1", "100.64.0.1", "not a public address"),  # carrier-grade NAT
    ("192.0.2.7", "192.0.2.7", "private"),  # documentation range, never a real host
]
PUBLIC = [
    ("93.184.215.14", "93.184.215.14"),
    ("1572394766", "93.184.215.14"),
    ("8.8.8.8", "8.8.8.8"),
    ("[2606:4700:4700::1111]", "2606:4700:4700::1111"),
    ("[::ffff:8.8.8.8]", "::ffff:8.8.8.8"),
]


@pytest.mark.parametrize("spelling, meaning, kind", INTERNAL)
def test_every_internal_range_in_every_spelling_is_refused_by_the_check(spelling, meaning, kind):
    address = literal_address(spelling)
    assert address == ipaddress.ip_address(meaning)
    with pytest.raises(AddressRefused, match=kind) as refused:
        check(spelling, address, Allowance())
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize("spelling, meaning", PUBLIC)
def test_public_addresses_pass_the_check(spelling, meaning):
    address = literal_address(spelling)
    assert address == ipaddress.ip_address(meaning)
    check(spelling, address, Allowance())


def test_the_allowance_lets_through_only_what_it_names():
    allowance = parse_allowance(Settings(fetch_allow=("10.20.0.0/16", " Intranet.Trust.NHS.uk. ")).fetch_allow)
    check("10.20.3.4", ipaddress.ip_address("10.20.3.4"), allowance)
    check("[::ffff:10.20.0.9]", ipaddress.ip_address("::ffff:10.20.0.9"), allowance)
    check("intranet.trust.nhs.uk", ipaddress.ip_address("10.99.0.1"), allowance)  # by name, wherever it points
    for host, address in (("10.21.0.1", "10.21.0.1"), ("other.trust.nhs.uk", "10.99.0.1"), ("127.0.0.1", "127.0.0.1")):
        with pytest.raises(AddressRefused):
            check(host, ipaddress.ip_address(address), allowance)
    for typo in ("10.0.0.0/33", "300.1.2.3", "intranet trust", "http://intranet/"):
        with pytest.raises(ValueError, match=f"QA_FETCH_ALLOW: '{typo}' is neither"):
            parse_allowance([typo])


def test_the_setting_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("QA_FETCH_ALLOW", " 10.20.0.0/16, intranet.trust.nhs.uk ,,")
    assert Settings().fetch_allow == ("10.20.0.0/16", "intranet.trust.nhs.uk")
    monkeypatch.delenv("QA_FETCH_ALLOW")
    assert Settings().fetch_allow == ()


def test_the_local_server_is_never_contacted_in_any_spelling_unless_allowed(monkeypatch):
    with serve({"/page": Route(ARTICLE_PAGE.encode())}) as site:
        port = site.url.rsplit(":", 1)[1]
        for host in ("127.0.0.1", "localhost", "2130706433", "0177.0.0.1", "127.1", "0x7f.1", "[::ffff:127.0.0.1]"):
            url = f"http://{host}:{port}/page"
            with pytest.raises(FetchError) as refused:
                fetch(url)
            message = str(refused.value)
            assert message.startswith(f"{url}: ") and "a loopback address" in message, message
            assert "QA_FETCH_ALLOW" in message and "\n" not in message
        assert site.hits == []

        allow_fetch(monkeypatch, "127.0.0.1")
        assert fetch(f"{site.url}/page").data == ARTICLE_PAGE.encode()
        assert fetch(f"http://2130706433:{port}/page").final_url == f"http://2130706433:{port}/page"
        assert site.hits == ["/page", "/page"]


def test_the_name_is_resolved_once_and_the_connection_keeps_it(monkeypatch):
    lookups: list[tuple] = []
    real = socket.getaddrinfo

    def recorded(host, *args, **kwargs):
        lookups.append((host, *args))
        return real(host, *args, **kwargs)

    with serve({"/page": Route(ARTICLE_PAGE.encode())}) as site:
        port = int(site.url.rsplit(":", 1)[1])
        allow_fetch(monkeypatch, "localhost")
        monkeypatch.setattr(socket, "getaddrinfo", recorded)
        fetched = fetch(f"http://LocalHost:{port}/page")
    assert fetched.data == ARTICLE_PAGE.encode()
    # One look-up of the name: the socket went to the address checked, not to a second answer.
    assert [host for host, *_ in lookups] == ["LocalHost"]
    assert site.hosts == [f"LocalHost:{port}"]  # the Host header still names the host as written


def test_a_redirect_to_an_internal_address_is_refused_before_it_is_followed(monkeypatch):
    with serve({"/page": Route(ARTICLE_PAGE.encode())}) as site:
        port = site.url.rsplit(":", 1)[1]
        site.routes["/moved"] = Route(status=302, headers={"Location": f"http://0177.0.0.1:{port}/page"})
        allow_fetch(monkeypatch, "localhost")  # the first hop's host, by name; not the address it redirects to
        with pytest.raises(FetchError) as refused:
            fetch(f"http://localhost:{port}/moved")
    assert str(refused.value).startswith(
        f"http://localhost:{port}/moved (redirected to http://0177.0.0.1:{port}/page): 0177.0.0.1 is 127.0.0.1,"
        " a loopback address"
    )
    assert site.hits == ["/moved"]


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate (and its key) for the name localhost only, made by openssl."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    command = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=localhost"
    extension = ["-addext", "subjectAltName=DNS:localhost"]
    subprocess.run([*command.split(), *extension, "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


def test_https_goes_to_the_checked_address_with_the_name_for_sni_and_the_certificate(monkeypatch, certificate):
    cert, key = certificate
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    names: list[str | None] = []
    tls.sni_callback = lambda _socket, name, _context: names.append(name)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the fetch trusts this certificate and no other
    allow_fetch(monkeypatch, "localhost", "127.0.0.1")
    with serve({"/page": Route(ARTICLE_PAGE.encode())}, tls=tls) as site:
        port = site.url.rsplit(":", 1)[1]
        assert fetch(f"https://localhost:{port}/page").data == ARTICLE_PAGE.encode()
        assert names == ["localhost"] and site.hosts == [f"localhost:{port}"]
        # The same server by its address: the certificate names localhost only, and it is checked
        # against the name in the address, not waved through because the socket was opened to an IP.
        with pytest.raises(FetchError, match="certificate verify failed"):
            fetch(f"https://127.0.0.1:{port}/page")
    assert site.hits == ["/page"]


def index_cli(*args: str, allow: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "QA_FETCH_ALLOW"}
    env |= {"HF_HUB_OFFLINE": "1", **({"QA_FETCH_ALLOW": allow} if allow is not None else {})}
    return subprocess.run(
        [sys.executable, "-m", "index", *args, "--quiet"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_command_line_follows_the_same_rule_and_setting(tmp_path, monkeypatch, capsys):
    out = tmp_path / "idx"
    with serve({"/page": Route(ARTICLE_PAGE.encode())}) as site:
        url = f"{site.url}/page"
        refused = index_cli("build", url, "--out", str(out), allow=None)
        assert refused.returncode == 1 and not out.exists()
        assert refused.stderr.strip().splitlines() == [
            f"error: {url}: 127.0.0.1 is a loopback address, which is not fetched unless QA_FETCH_ALLOW allows it;"
            " the index is unchanged"
        ]
        assert site.hits == []

        # The same command in this process (the model already loaded), with the setting.
        allow_fetch(monkeypatch, "192.168.0.0/16", "127.0.0.1")
        assert index_main(["build", url, "--out", str(out), "--quiet"]) == 0, capsys.readouterr().err
        assert [d["source"] for d in store.load(out).manifest["documents"]] == [url]

        again = index_cli("refresh", "--out", str(out), allow=None)
    assert again.returncode == 0, again.stderr
    assert f"warning: kept {url} as indexed: 127.0.0.1 is a loopback address" in again.stderr
    assert site.hits == ["/page"]


def test_the_library_follows_the_same_rule(library):  # noqa: F811 (the fixture imported above)
    with serve({"/page": Route(ARTICLE_PAGE.encode())}) as site:
        response = library.post("/api/v1/documents", json={"urls": [f"{site.url}/page"]}, headers=ADMIN)
        assert response.status_code == 202
        job = wait(library, response.json()["job"])
    assert job["state"] == "failed", job
    assert f"{site.url}/page: 127.0.0.1 is a loopback address" in job["error"] and "QA_FETCH_ALLOW" in job["error"]
    assert site.hits == []
