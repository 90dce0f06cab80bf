"""Keep feed fetching off private networks (server-side request forgery): a feed URL must be http(s) and
every address its host resolves to must be public, unless it falls in an allow-listed network."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class UnsafeUrlError(ValueError):
    """The URL is not one the poller may fetch; the message says why."""


def parse_networks(cidrs: Iterable[str]) -> list[IPNetwork]:
    """``["127.0.0.0/8"]`` → networks; :class:`ValueError` for what is not a CIDR."""
    return [ipaddress.ip_network(c, strict=False) for c in cidrs]


def _kind(ip: IPAddress) -> str | None:
    """What makes ``ip`` non-public, or None when it is a public unicast address."""
    for name in ("loopback", "link_local", "multicast", "unspecified", "reserved", "private"):
        if getattr(ip, f"is_{name}"):
            return name.replace("_", "-")
    return None if ip.is_global else "non-public"


def check_address(host: str, address: str, allowed: Sequence[IPNetwork]) -> None:
    """Refuse ``address`` unless it is public or inside an allowed network."""
    ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 reaches 127.0.0.1
    kind = _kind(ip)
    if kind is not None and not any(ip in net for net in allowed if net.version == ip.version):
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


def check_resolved(host: str, addresses: Iterable[str], allowed: Sequence[IPNetwork]) -> None:
    """Every address ``host`` resolved to must pass: one private address is enough to refuse."""
    found = list(addresses)
    if not found:
        raise UnsafeUrlError(f"{host} does not resolve")
    for address in found:
        check_address(host, address, allowed)


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (blocking DNS)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UnsafeUrlError(f"{host} does not resolve: {exc.strerror}") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def check_url(url: str, allowed: Sequence[IPNetwork]) -> str:
    """Resolve the URL's host and refuse non-public addresses; returns the host."""
    host, port = split_url(url)
    check_resolved(host, resolve(host, port), allowed)
    return host
