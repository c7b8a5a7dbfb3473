"""The fetch guard: which network addresses a fetch may connect to.

A server that fetches addresses an admin types must not become a way into the network it runs
on: the cloud's metadata service (169.254.169.254), the host itself (127.0.0.1) or a trust's
intranet. So every address a fetch would connect to is refused unless it is a public one:
loopback, private (RFC 1918, fc00::/7), link-local (169.254.0.0/16, fe80::/10), unspecified,
multicast, reserved and the other special-purpose ranges are all refused. An IPv6 address that
carries an IPv4 one (::ffff:127.0.0.1, 2002:7f00:1::, 64:ff9b::7f00:1) is judged by the IPv4 one.

`QA_FETCH_ALLOW` (networks in CIDR form, single addresses or host names, comma-separated) lets
an operator allow an intranet source. Pure functions: index/fetch.py resolves and connects.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_HOST_NAME = re.compile(
    r"^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$"
)
# One part of an IPv4 address as inet_aton reads it: hex (0x7f), octal (0177) or decimal (127).
_PART = re.compile(r"^(0x[0-9a-f]+|0[0-7]*|[1-9][0-9]*)$")


class AddressRefused(Exception):
    """A fetch would connect to an address that is not public; the message says which and why.

    Not an OSError on purpose: urllib turns those into "cannot connect", and this is a refusal.
    """


@dataclass(frozen=True)
class Allowance:
    """What `QA_FETCH_ALLOW` lets a fetch reach besides public addresses."""

    networks: tuple[Network, ...] = ()
    hosts: frozenset[str] = frozenset()

    def allows(self, host: str, address: Address) -> bool:
        """Whether `host` (as written in the address) resolved to `address` may be fetched anyway."""
        if normal_host(host) in self.hosts:
            return True
        return any(candidate in network for candidate in {address, embedded(address)} for network in self.networks)


def normal_host(host: str) -> str:
    """A host name as compared: lower case, without the trailing dot of a fully qualified name.

    >>> normal_host("Intranet.Trust.NHS.uk.")
    'intranet.trust.nhs.uk'
    """
    return host.strip().lower().removesuffix(".")


def parse_allowance(entries: Iterable[str]) -> Allowance:
    """The allowance `entries` name (each a CIDR network, an address or a host name).

    >>> allow = parse_allowance(["10.20.0.0/16", "intranet.trust.nhs.uk", "::1"])
    >>> [str(n) for n in allow.networks], sorted(allow.hosts)
    (['10.20.0.0/16', '::1/128'], ['intranet.trust.nhs.uk'])
    >>> parse_allowance(["10.0.0.0/33"])
    Traceback (most recent call last):
    ValueError: QA_FETCH_ALLOW: '10.0.0.0/33' is neither a network (CIDR), an address nor a host name
    """
    networks: list[Network] = []
    hosts: set[str] = set()
    for entry in (e.strip() for e in entries):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
            continue
        except ValueError:
            pass
        name = normal_host(entry)
        # A host name is never all digits and dots, so "10.0.0.0/33" or "300.1.1.1" is a typo.
        if "/" in entry or not _HOST_NAME.match(name) or re.fullmatch(r"[0-9.]+", name):
            raise ValueError(
                f"QA_FETCH_ALLOW: {entry!r} is neither a network (CIDR), an address nor a host name"
            ) from None
        hosts.add(name)
    return Allowance(tuple(networks), frozenset(hosts))


def literal_address(host: str) -> Address | None:
    """The address `host` spells, in any spelling a resolver accepts, or None for a host name.

    IPv4 is read as inet_aton reads it (so the check sees what a connection would reach):
    >>> [str(literal_address(h)) for h in ("127.0.0.1", "2130706433", "0177.0.0.1", "127.1", "0x7f.1")]
    ['127.0.0.1', '127.0.0.1', '127.0.0.1', '127.0.0.1', '127.0.0.1']
    >>> str(literal_address("[::ffff:127.0.0.1]")), literal_address("intranet"), literal_address("10.0.0.256")
    ('::ffff:7f00:1', None, None)
    """
    host = normal_host(host).removeprefix("[").removesuffix("]")
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host)
        except ValueError:
            return None
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(_PART.match(p) for p in parts):
        return None
    values = [int(p, 16) if p.startswith("0x") else int(p, 8) if p.startswith("0") else int(p) for p in parts]
    *leading, last = values
    if any(v > 255 for v in leading) or last >= 1 << (8 * (5 - len(parts))):
        return None
    number = last
    for shift, value in enumerate(reversed(leading), start=1):
        number |= value << (8 * (4 - len(parts) + shift))
    return ipaddress.IPv4Address(number)


def embedded(address: Address) -> Address:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, NAT64), else the address itself.

    >>> [str(embedded(ipaddress.ip_address(a))) for a in ("::ffff:10.0.0.1", "2002:a9fe:a9fe::", "64:ff9b::7f00:1")]
    ['10.0.0.1', '169.254.169.254', '127.0.0.1']
    """
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def kind_of(address: Address) -> str | None:
    """Why `address` is not fetched ("a loopback address", ...), or None for a public address.

    >>> [kind_of(ipaddress.ip_address(a)) for a in ("127.0.0.2", "169.254.169.254", "::ffff:10.1.2.3", "93.184.215.14")]
    ['a loopback address', 'a link-local address', 'a private address', None]
    """
    inner = embedded(address)  # an IPv6 address carrying an IPv4 one is where that one is
    for test, kind in (
        ("is_loopback", "a loopback address"),
        ("is_unspecified", "an unspecified address"),
        ("is_link_local", "a link-local address"),
        ("is_multicast", "a multicast address"),
        ("is_reserved", "a reserved address"),
        ("is_private", "a private address"),
    ):
        if getattr(inner, test):
            return kind
    # Shared address space (100.64.0.0/10) and the like: special-purpose, not private, not public.
    return None if inner.is_global else "not a public address"


def check(host: str, address: Address, allowance: Allowance) -> None:
    """Raise AddressRefused unless a fetch may connect to `address`, which `host` resolved to.

    >>> check("metadata.example", ipaddress.ip_address("169.254.169.254"), Allowance())
    Traceback (most recent call last):
    index.guard.AddressRefused: metadata.example is 169.254.169.254, a link-local address
    >>> check("127.1", ipaddress.ip_address("127.0.0.1"), parse_allowance(["127.0.0.0/8"]))
    """
    kind = kind_of(address)
    if kind is None or allowance.allows(host, address):
        return
    written, shown = normal_host(host).removeprefix("[").removesuffix("]"), str(embedded(address))
    raise AddressRefused(f"{written} is {kind}" if written == shown else f"{written} is {shown}, {kind}")
