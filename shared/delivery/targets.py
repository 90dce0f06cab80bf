"""Subscriber URLs: what a saved search may deliver to, checked when it is saved and again before each send
(:func:`check_target`): DNS may change between the two."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from shared.config import Environment
from shared.delivery.settings import DeliverySettings


class TargetRefused(ValueError):
    """The URL is not one the platform will send to."""


def check_url(url: str) -> str:
    """An absolute http(s) URL with a host, without credentials; returned unchanged."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise TargetRefused("must be an http or https URL")
    if not parts.hostname:
        raise TargetRefused("must name a host")
    if parts.username or parts.password:
        raise TargetRefused("must not carry credentials; sign with the webhook secret instead")
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError as exc:
        raise TargetRefused("has an invalid port") from exc
    return url


def check_public(url: str) -> None:
    """Refuse a URL whose host resolves to a private, loopback, link-local or reserved address."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        infos = socket.getaddrinfo(host, parts.port or (443 if parts.scheme == "https" else 80))
    except socket.gaierror as exc:
        raise TargetRefused(f"host {host!r} does not resolve") from exc
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped  # ::ffff:127.0.0.1 reaches 127.0.0.1
        if not address.is_global:
            # The address itself stays out of the message: the client would learn the internal DNS.
            raise TargetRefused(f"host {host!r} resolves to a non-public address")


def private_targets_allowed(settings: DeliverySettings, env: Environment) -> bool:
    """Whether targets may resolve to non-public addresses: the setting, else everywhere but production."""
    if settings.allow_private_targets is not None:
        return settings.allow_private_targets
    return env is not Environment.production


def check_target(url: str, *, allow_private: bool) -> str:
    """The whole check, at creation and at send time: the URL's form, then (unless private targets are
    allowed) every address its host resolves to. Blocking (DNS): call it off the event loop."""
    url = check_url(url)
    if not allow_private:
        check_public(url)
    return url
