"""Keep feed fetching off private networks (server-side request forgery): a feed URL must be http(s) and
every address its host resolves to must be public, unless it falls in an allow-listed network on an
allow-listed port.

An allow-list entry is a CIDR with optional ports: ``10.1.2.0/24`` admits the web ports 80 and 443 only,
``10.1.2.0/24:8080``, ``127.0.0.2/32:8000-8099`` or ``127.0.0.0/8:*`` (any port) say which; an IPv6 network
takes brackets for its ports (``[fd00::/8]:8443``). Allowing a host for its feed server does not open its
database or admin ports, and every redirect hop is checked again, port included.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

WEB_PORTS = ((80, 80), (443, 443))
ANY_PORT = ((1, 65535),)


class UnsafeUrlError(ValueError):
    """The URL is not one the poller may fetch; the message says why."""


@dataclass(frozen=True)
class AllowedNetwork:
    """A non-public network feeds may be fetched from, and on which ports (inclusive ranges)."""

    network: IPNetwork
    ports: tuple[tuple[int, int], ...] = WEB_PORTS

    def admits(self, ip: IPAddress, port: int) -> bool:
        return (
            ip.version == self.network.version
            and ip in self.network
            and any(low <= port <= high for low, high in self.ports)
        )


def _ports(text: str) -> tuple[tuple[int, int], ...]:
    if text == "*":
        return ANY_PORT
    low, _, high = text.partition("-")
    first, last = int(low), int(high or low)
    if not 1 <= first <= last <= 65535:
        raise ValueError(f"invalid port range {text!r}")
    return ((first, last),)


def parse_network(entry: str) -> AllowedNetwork:
    """``10.1.2.0/24``, ``10.1.2.0/24:8080``, ``127.0.0.0/8:*``, ``[fd00::/8]:8443`` → an allowed network;
    :class:`ValueError` for anything else."""
    entry = entry.strip()
    if entry.startswith("["):
        cidr, _, rest = entry[1:].partition("]")
        if rest and not rest.startswith(":"):
            raise ValueError(f"invalid network {entry!r}")
        ports = _ports(rest[1:]) if rest else WEB_PORTS
    elif entry.count(":") == 1:  # IPv4 with ports; a bare IPv6 network has several colons and no ports
        cidr, _, port_text = entry.partition(":")
        ports = _ports(port_text)
    else:
        cidr, ports = entry, WEB_PORTS
    return AllowedNetwork(ipaddress.ip_network(cidr, strict=False), ports)


def parse_networks(entries: Iterable[str]) -> list[AllowedNetwork]:
    """Allow-list entries (see the module docstring) → networks; :class:`ValueError` for a bad entry."""
    return [parse_network(e) for e in entries]


def _kind(ip: IPAddress) -> str | None:
    """What makes ``ip`` non-public, or None when it is a public unicast address."""
    for name in ("loopback", "link_local", "multicast", "unspecified", "reserved", "private"):
        if getattr(ip, f"is_{name}"):
            return name.replace("_", "-")
    return None if ip.is_global else "non-public"


def check_address(host: str, address: str, allowed: Sequence[AllowedNetwork], *, port: int) -> None:
    """Refuse ``address`` unless it is public, or inside an allowed network that admits ``port``."""
    ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 reaches 127.0.0.1
    kind = _kind(ip)
    if kind is None or any(net.admits(ip, port) for net in allowed):
        return
    if any(net.network.version == ip.version and ip in net.network for net in allowed):
        raise UnsafeUrlError(
            f"{host} resolves to {ip} ({kind}), allow-listed in TIDINGS_CHANNELS_FEED_ALLOWED_NETWORKS but not "
            f"on port {port}"
        )
    raise UnsafeUrlError(
        f"{host} resolves to {ip} ({kind}), not a public address; feeds on private networks must be "
        "allow-listed in TIDINGS_CHANNELS_FEED_ALLOWED_NETWORKS"
    )


def split_url(url: str) -> tuple[str, int]:
    """(host, port) of an http(s) URL; :class:`UnsafeUrlError` for anything else."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrlError(f"not a valid URL: {exc}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeUrlError("a feed URL must be http:// or https:// with a host")
    if parts.username or parts.password:
        raise UnsafeUrlError("a feed URL must not carry credentials")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def check_resolved(host: str, addresses: Iterable[str], allowed: Sequence[AllowedNetwork], *, port: int) -> None:
    """Every address ``host`` resolved to must pass: one private address is enough to refuse."""
    found = list(addresses)
    if not found:
        raise UnsafeUrlError(f"{host} does not resolve")
    for address in found:
        check_address(host, address, allowed, port=port)


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (blocking DNS)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UnsafeUrlError(f"{host} does not resolve: {exc.strerror}") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def check_url(url: str, allowed: Sequence[AllowedNetwork]) -> str:
    """Resolve the URL's host and refuse non-public addresses (and allowed ones on another port); returns the
    host."""
    host, port = split_url(url)
    check_resolved(host, resolve(host, port), allowed, port=port)
    return host
