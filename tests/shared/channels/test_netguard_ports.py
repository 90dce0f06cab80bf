"""The feed allow-list names ports: allowing a private host for its feed server does not open its other ports."""

from __future__ import annotations

import pytest

from shared.channels.netguard import UnsafeUrlError, check_resolved, parse_network, parse_networks
from shared.channels.settings import ChannelSettings


def test_an_entry_without_ports_admits_the_web_ports_only() -> None:
    allowed = parse_networks(["127.0.0.2/32"])
    check_resolved("intranet", ["127.0.0.2"], allowed, port=80)
    check_resolved("intranet", ["127.0.0.2"], allowed, port=443)
    with pytest.raises(UnsafeUrlError, match="not on port 6379"):
        check_resolved("intranet", ["127.0.0.2"], allowed, port=6379)


@pytest.mark.parametrize(
    ("entry", "admitted", "refused"),
    [
        ("10.1.2.0/24:8080", [8080], [80, 8081]),
        ("10.1.2.0/24:8000-8099", [8000, 8099], [7999, 8100]),
        ("10.1.2.0/24:*", [1, 80, 65535], []),
    ],
)
def test_ports_and_ranges(entry: str, admitted: list[int], refused: list[int]) -> None:
    allowed = [parse_network(entry)]
    for port in admitted:
        check_resolved("intranet", ["10.1.2.7"], allowed, port=port)
    for port in refused:
        with pytest.raises(UnsafeUrlError):
            check_resolved("intranet", ["10.1.2.7"], allowed, port=port)


def test_ipv6_networks_take_brackets_for_ports() -> None:
    allowed = parse_networks(["[fd00::/8]:8443", "fc00::/8"])
    check_resolved("intranet", ["fd12::1"], allowed, port=8443)
    check_resolved("intranet", ["fc12::1"], allowed, port=443)
    with pytest.raises(UnsafeUrlError):
        check_resolved("intranet", ["fd12::1"], allowed, port=443)


@pytest.mark.parametrize(
    "entry", ["10.1.2.0/24:0", "10.1.2.0/24:70000", "10.1.2.0/24:90-80", "[fd00::/8]x", "nonsense"]
)
def test_bad_entries_are_refused_when_the_settings_load(entry: str) -> None:
    with pytest.raises(ValueError):
        ChannelSettings(feed_allowed_networks=entry)
