"""Where the bridge may POST a 1.5 charger's SOAP callbacks.

A 1.5 charger names its own address in ``wsa:From``, and the bridge calls it
back there (RemoteStartTransaction, ChangeConfiguration...). Taken as given,
that address lets a charger make the bridge POST anywhere it can reach:
localhost admin ports, cloud metadata services, internal hosts (server-side
request forgery). So an address is used only when:

- its scheme is ``http`` or ``https`` and it carries no user or password;
- its host is an IP address inside a network the operator allows
  (``soap_callback_allow``), or a host name listed there as is; with
  nothing configured, only the source address of the charger's own request
  is allowed (a charger on a private network behind NAT therefore needs its
  network listed);
- the POST follows no redirect and reads at most the bridge's message limit.

What a refused or failed callback tells the CSMS is one fixed text: which
port is open or closed on which host is the operator's business, found in
the bridge's log, never the peer's.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
CALLBACK_FAILED = "the 1.5 charger could not be called back"


@dataclass(frozen=True, slots=True)
class CallbackRules:
    networks: tuple[Network, ...]
    hosts: frozenset[str]


def callback_rules(entries: Sequence[str]) -> CallbackRules:
    """Parse ``soap_callback_allow`` entries: networks, addresses or host names.

    Raises:
        ValueError: an entry is neither (a URL, a port, a bad network).
    """
    networks: list[Network] = []
    hosts: set[str] = set()
    for entry in entries:
        text = entry.strip().lower()
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
            continue
        except ValueError:
            pass
        if not text or any(c in text for c in "/:@ ") or text.startswith("."):
            raise ValueError(f"{entry!r} is not a host name, address or network")
        hosts.add(text.rstrip("."))
    return CallbackRules(tuple(networks), frozenset(hosts))


def callback_refusal(address: str, source: str | None, rules: CallbackRules) -> str | None:
    """Why the bridge may not POST to ``address``, or None when it may.

    Args:
        address: the charger's ``wsa:From`` address.
        source: the IP address the charger's request came from.
        rules: the operator's ``soap_callback_allow``.
    """
    try:
        url = urlsplit(address)
        host = url.hostname
        url.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return "malformed_address"
    if url.scheme not in ("http", "https"):
        return "scheme"
    if url.username is not None or url.password is not None:
        return "credentials_in_address"
    if not host:
        return "no_host"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        # A name is resolved when connecting, after any check made here, so
        # only names the operator listed are trusted.
        return None if host.rstrip(".") in rules.hosts else "host_not_allowed"
    if any(ip in net for net in rules.networks):
        return None
    if not rules.networks and not rules.hosts and source is not None:
        try:
            if ip == ipaddress.ip_address(source):
                return None
        except ValueError:
            pass
    return "address_not_allowed"
