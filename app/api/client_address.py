"""Who is asking: the client's address.

`X-Forwarded-For` is anyone's to write, so it is believed only when the connection comes from a
proxy the operator named (WAYMARK_TRUSTED_PROXIES); otherwise the connection's own address is
the client, whatever the header says.
"""

import ipaddress
from collections.abc import Iterable, Sequence

from app.config import Network

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _address(text: str) -> Address | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, proxies: Sequence[Network]) -> bool:
    return any(address in network for network in proxies)


def client_address(
    peer: str | None, forwarded_for: Iterable[str], proxies: Sequence[Network]
) -> str:
    """The client's address: the peer's, unless the peer is a trusted proxy, then the nearest
    address in X-Forwarded-For (read from the right) that is not one of ours."""
    address = _address(peer) if peer else None
    if address is None:
        return "unknown"
    if not proxies or not _trusted(address, proxies):
        return str(address)
    hops = [hop for header in forwarded_for for hop in header.split(",")]
    for hop in reversed(hops):
        forwarded = _address(hop)
        if forwarded is None:
            break  # a proxy we trust wrote something we cannot read: stop at that proxy
        address = forwarded
        if not _trusted(address, proxies):
            break
    return str(address)
