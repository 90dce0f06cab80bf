"""Feed URLs must lead to public addresses unless the network is allow-listed."""

from __future__ import annotations

import pytest

from shared.channels.netguard import UnsafeUrlError, check_resolved, check_url, parse_networks, split_url


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.0.10", "private"),
        ("172.16.5.4", "private"),
        ("169.254.169.254", "link-local"),  # cloud metadata
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("100.64.0.1", "non-public"),  # carrier-grade NAT
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped IPv6
        ("fd00::1", "private"),
    ],
)
def test_non_public_addresses_are_refused(address: str, kind: str) -> None:
    with pytest.raises(UnsafeUrlError, match=f"\\({kind}\\)"):
        check_resolved("feeds.example", [address], [], port=443)


def test_public_addresses_pass() -> None:
    check_resolved("feeds.example", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"], [], port=443)


def test_one_private_address_among_public_ones_is_enough_to_refuse() -> None:
    with pytest.raises(UnsafeUrlError):
        check_resolved("feeds.example", ["93.184.216.34", "10.0.0.1"], [], port=443)


def test_allow_listed_networks_pass() -> None:
    allowed = parse_networks(["127.0.0.0/8", "10.1.2.0/24"])
    check_resolved("intranet", ["10.1.2.3", "::ffff:127.0.0.2"], allowed, port=80)
    with pytest.raises(UnsafeUrlError):
        check_resolved("intranet", ["10.1.3.1"], allowed, port=80)


def test_loopback_names_resolve_and_are_refused() -> None:
    with pytest.raises(UnsafeUrlError, match="loopback"):
        check_url("http://localhost:8000/feed", [])
    assert check_url("http://127.0.0.1:8000/feed", parse_networks(["127.0.0.0/8:*"])) == "127.0.0.1"


@pytest.mark.parametrize(
    "url", ["ftp://example.com/feed", "file:///etc/passwd", "http:///nohost", "https://user:pw@example.com/"]
)
def test_only_plain_http_urls(url: str) -> None:
    with pytest.raises(UnsafeUrlError):
        split_url(url)
