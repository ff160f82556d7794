"""The client's address: the connection's own, unless it comes from a trusted proxy."""

import pytest

from app.api.client_address import client_address
from app.config import Settings

PROXIES = Settings(trusted_proxies="10.0.0.0/24, fd00::1").trusted_proxy_networks


@pytest.mark.parametrize(
    ("peer", "forwarded", "proxies", "expected"),
    [
        ("203.0.113.7", ["198.51.100.1"], (), "203.0.113.7"),  # no proxies trusted: ignored
        ("127.0.0.1", ["198.51.100.1"], (), "127.0.0.1"),  # not even from loopback
        ("203.0.113.7", ["198.51.100.1"], PROXIES, "203.0.113.7"),  # not from a proxy
        ("10.0.0.5", ["198.51.100.1"], PROXIES, "198.51.100.1"),
        ("10.0.0.5", ["192.0.2.99, 198.51.100.1"], PROXIES, "198.51.100.1"),  # rightmost
        ("10.0.0.5", ["198.51.100.1, 10.0.0.6"], PROXIES, "198.51.100.1"),  # proxy chain
        ("10.0.0.5", ["192.0.2.1", "198.51.100.1"], PROXIES, "198.51.100.1"),  # two headers
        ("10.0.0.5", ["not an address"], PROXIES, "10.0.0.5"),
        ("10.0.0.5", [], PROXIES, "10.0.0.5"),
        ("fd00::1", ["2001:db8::9"], PROXIES, "2001:db8::9"),
        ("::ffff:10.0.0.5", ["198.51.100.1"], PROXIES, "198.51.100.1"),
        (None, ["198.51.100.1"], PROXIES, "unknown"),
        ("testclient", [], (), "unknown"),
    ],
)
def test_the_client_address(
    peer: str | None, forwarded: list[str], proxies: tuple[object, ...], expected: str
) -> None:
    assert client_address(peer, forwarded, proxies) == expected  # type: ignore[arg-type]


def test_a_trusted_proxy_that_is_not_an_address_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="trusted_proxies"):
        Settings(trusted_proxies="10.0.0.1, proxy.internal")
